"""Helpers shared by the parser tests: a recording sink and ways of feeding bytes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cyhttp.http_exceptions import HttpParserError

Event = tuple[Any, ...]


class RecordingSink:
    """Records every parser callback as a tuple, with the head's fields spelled out."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.heads: list[Any] = []

    def _head(self, kind: str, head: Any) -> Event:
        self.heads.append(head)
        return (
            kind,
            head.version,
            head.status,
            head.reason,
            head.raw_headers,
            head.keep_alive,
            head.upgrade,
            head.chunked,
            head.content_length,
            head.encoding,
        )

    def on_informational(self, head: Any) -> None:
        self.events.append(self._head("info", head))

    def on_headers(self, head: Any) -> None:
        self.events.append(self._head("headers", head))

    def on_body(self, data: bytes) -> None:
        assert type(data) is bytes and data, data
        self.events.append(("body", data))

    def on_chunk_end(self) -> None:
        self.events.append(("chunk_end",))

    def on_message_complete(self) -> None:
        self.events.append(("complete",))

    def merged(self) -> list[Event]:
        """Events with adjacent body pieces joined (they depend on how input was split)."""
        out: list[Event] = []
        for ev in self.events:
            if ev[0] == "body" and out and out[-1][0] == "body":
                out[-1] = ("body", out[-1][1] + ev[1])
            else:
                out.append(ev)
        return out


class Outcome:
    """What one run produced: events, the upgrade tail, the error (class, offset) if any."""

    def __init__(self, sink: RecordingSink, tail: bytes | None, error: HttpParserError | None):
        self.sink = sink
        self.events = sink.events
        self.merged = sink.merged()
        self.tail = tail
        self.error = error

    @property
    def error_key(self) -> tuple[type[BaseException], int | None] | None:
        return None if self.error is None else (type(self.error), self.error.offset)


def run(
    parser_cls: type[Any],
    pieces: Iterable[bytes],
    *,
    eof: bool = False,
    method: str | None = None,
    **kwargs: Any,
) -> Outcome:
    """Feed ``pieces`` one by one (then EOF if asked); collect events and the first error."""
    sink = RecordingSink()
    parser = parser_cls(sink, **kwargs)
    if method is not None:
        parser.set_request_method(method)
    tail: bytes | None = None
    error: HttpParserError | None = None
    try:
        for piece in pieces:
            result = parser.feed_data(piece)
            if result is not None:
                tail = result if tail is None else tail + result
        if eof:
            parser.feed_eof()
    except HttpParserError as exc:
        error = exc
    return Outcome(sink, tail, error)


def splits(data: bytes) -> Iterable[list[bytes]]:
    """The input whole, then split in two at every byte boundary, then byte by byte."""
    yield [data]
    for i in range(1, len(data)):
        yield [data[:i], data[i:]]
    yield [data[i : i + 1] for i in range(len(data))]
