"""The HTTP/1.1 response parser, selected at import time (see :mod:`cyhttp._compat`).

``HttpResponseParser`` is the implementation in use; ``HttpResponseParserPy`` is always the
pure-Python twin and ``HttpResponseParserC`` the compiled one (``None`` when it is not built),
so tests and benchmarks can drive each explicitly. The API is documented in ``_parser_py``.
The twin that is not in use is imported only when asked for, to keep ``import cyhttp`` fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _compat

__all__ = ("HttpResponseParser", "HttpResponseParserC", "HttpResponseParserPy")

if TYPE_CHECKING:
    from ._parser_py import HttpResponseParser as HttpResponseParserPy

    HttpResponseParser = HttpResponseParserPy
    HttpResponseParserC: type[HttpResponseParserPy] | None = HttpResponseParserPy
else:
    HttpResponseParser = _compat.load("_parser", "_parser_py").HttpResponseParser

    def __getattr__(name: str) -> Any:
        twins = {"HttpResponseParserPy": "_parser_py", "HttpResponseParserC": "_parser"}
        if name not in twins:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        module = _compat.import_twin(twins[name])
        value = None if module is None else module.HttpResponseParser
        globals()[name] = value
        return value
