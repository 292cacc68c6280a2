"""Pure-Python twin of ``_parser.pyx`` (placeholder until the parser lands)."""

from __future__ import annotations

from typing import Any


class HttpResponseParser:
    def __init__(self, sink: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the response parser is not written yet")
