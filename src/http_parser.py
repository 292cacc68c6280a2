"""The HTTP/1.1 response parser, selected at import time (see :mod:`cyhttp._compat`).

``HttpResponseParser`` is the implementation in use; ``HttpResponseParserPy`` is always the
pure-Python twin and ``HttpResponseParserC`` the compiled one (``None`` when it is not built),
so tests and benchmarks can drive each explicitly. The API is documented in ``_parser_py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _compat
from ._parser_py import HttpResponseParser as HttpResponseParserPy

__all__ = ("HttpResponseParser", "HttpResponseParserC", "HttpResponseParserPy")

if TYPE_CHECKING:
    HttpResponseParser = HttpResponseParserPy
    HttpResponseParserC: type[HttpResponseParserPy] | None = HttpResponseParserPy
else:
    HttpResponseParser = _compat.load("_parser", "_parser_py").HttpResponseParser
    try:
        from ._parser import HttpResponseParser as HttpResponseParserC
    except ImportError:
        HttpResponseParserC = None
