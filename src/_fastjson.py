"""JSON bodies parsed by orjson when it is installed (the ``speedups`` extra), with exactly
the standard library's results.

``ClientResponse.json()`` with its default ``loads`` spends most of a typical API answer's
client time in :func:`json.loads`; orjson parses the same document about twice as fast,
straight from the body's bytes. It differs from the standard library in two ways, both
kept out: it refuses some documents ``json.loads`` takes (``NaN``, lone surrogates, deep
nesting: those are parsed again by ``json.loads``, whose result or exception is the
answer), and it reads an integer beyond 64 bits as a float, silently, so a body with 19
digits in a row anywhere goes to ``json.loads`` straight away. ``CYHTTP_NO_ORJSON=1``
turns orjson off.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from . import _compat

__all__ = ("enabled", "loads_utf8")

#: orjson keeps integers of 64 bits (19 digits at most when negative) exact
_LONG_NUMBER = 19

_has_digit_run: Callable[[bytes, int], bool] = _compat.load("_parser", "_parser_py").has_digit_run

#: the orjson module once looked for (imported by the first JSON body, not by ``import
#: cyhttp``: it costs milliseconds of start-up); False when absent or turned off
_orjson: Any = None


def enabled() -> bool:
    """True when orjson parses JSON bodies here."""
    return bool(_orjson if _orjson is not None else _load())


def _load() -> Any:
    global _orjson
    try:
        if os.environ.get("CYHTTP_NO_ORJSON"):
            raise ImportError("CYHTTP_NO_ORJSON is set")
        import orjson
    except ImportError:
        _orjson = False
    else:
        _orjson = orjson
    return _orjson


def loads_utf8(body: bytes, decode: Callable[[bytes], str]) -> Any:
    """``json.loads(decode(body))`` for a UTF-8 body, by orjson when it gives the same.
    ``decode(body)`` gives the text (and raises the response's decode error)."""
    fast = _orjson if _orjson is not None else _load()
    if fast and not _has_digit_run(body, _LONG_NUMBER):
        try:
            return fast.loads(body)
        except fast.JSONDecodeError:
            pass  # refused: the standard library decides (and raises its own error)
    return json.loads(decode(body))
