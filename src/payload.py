"""Request bodies as objects: the ``Payload`` classes of aiohttp's ``aiohttp.payload``.

A payload knows its content type, its extra headers (a part of a multipart body carries
them), its size when that can be known without reading it, and how to write itself into a
*writer*: any object with ``async write(data)`` (the request's body writer, or a multipart
part's encoder). :func:`get_payload` turns a plain value (bytes, str, a file, an async
iterable, ...) into the right payload through :data:`PAYLOAD_REGISTRY`, which users extend
with :func:`payload_type` / ``PAYLOAD_REGISTRY.register``.

Sending the same request again (a redirect, a stale pooled connection, a middleware retry)
needs the body again from its start. In-memory payloads and seekable files can give it
(a file is put back at the position it had when the payload was made); a one-shot source
(an async iterable, a non-seekable file, an iterator) cannot once reading started: its
:attr:`Payload.consumed` turns True and the request refuses to send it again rather than
send an empty or partial body.
"""

from __future__ import annotations

import asyncio
import enum
import io
import json
import os
import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Protocol
from urllib.parse import quote

from multidict import CIMultiDict

from .helpers import parse_mimetype, sentinel

__all__ = (
    "PAYLOAD_REGISTRY",
    "AsyncIterablePayload",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "IOBasePayload",
    "JsonBytesPayload",
    "JsonPayload",
    "LookupError",
    "Order",
    "Payload",
    "PayloadRegistry",
    "StringIOPayload",
    "StringPayload",
    "TextIOPayload",
    "content_disposition_header",
    "get_payload",
    "payload_type",
    "register_payload",
    "streamer",
)

#: how much of a file or buffer is read per write
CHUNK_SIZE = 1 << 16
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)


#: async closes under way (a reference keeps each task alive until it ends)
_CLOSING: set[asyncio.Future[Any]] = set()


class BodyWriter(Protocol):
    """What a payload writes into."""

    async def write(self, data: bytes) -> None: ...


class LookupError(Exception):
    """No payload type is registered for the value given."""


class Order(str, enum.Enum):  # noqa: UP042 - aiohttp's (str, Enum), not StrEnum
    """Where a registered payload type is tried: before, among, or after the built-ins."""

    normal = "normal"
    try_first = "try_first"
    try_last = "try_last"


# ----- Content-Disposition -----


def _is_token(value: str) -> bool:
    return bool(value) and all(c in _TOKEN_CHARS for c in value)


def _quoted_string(value: str) -> str | None:
    """``value`` as a quoted-string (backslash before ``"`` and ``\\``), or None when it
    holds a character a quoted-string cannot carry (controls, non-ASCII)."""
    if any((ord(c) < 0x20 and c != "\t") or ord(c) >= 0x7F for c in value):
        return None
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def content_disposition_header(
    disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: Any
) -> str:
    """A ``Content-Disposition`` value (RFC 2183 for MIME parts, RFC 6266 for HTTP).

    With ``quote_fields`` (the default) a ``filename`` is percent-encoded in ``_charset``
    inside quotes, and any other parameter that a quoted-string cannot carry is sent as
    the RFC 2231 extended form ``name*=charset''...``. Without it, values go as they are,
    quoted with backslash escapes (for receivers that take 8-bit names). CR, LF and NUL
    never reach the header: they are percent-encoded in every mode.
    """
    if not _is_token(disptype):
        raise ValueError(f"bad content disposition type {disptype!r}")
    out = [disptype]
    for key, value in params.items():
        if not _is_token(key):
            raise ValueError(f"bad content disposition parameter {key!r}={value!r}")
        value = str(value)
        if not quote_fields:
            value = value.replace("\r", "%0D").replace("\n", "%0A").replace("\x00", "%00")
            out.append(f'{key}="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif key.lower() == "filename":
            out.append(f'{key}="{quote(value, "", encoding=_charset)}"')
        else:
            quoted = _quoted_string(value)
            if quoted is None:
                out.append(f"{key}*={_charset}''{quote(value, '', encoding=_charset)}")
            else:
                out.append(f"{key}={quoted}")
    return "; ".join(out)


def _guess_content_type(filename: str) -> str | None:
    import mimetypes  # on first use: it reads the system's type tables

    return mimetypes.guess_type(filename)[0]


def guess_filename(obj: Any, default: str | None = None) -> str | None:
    """The base name of a file object's ``name`` (None or ``default`` for ``<stdin>``
    and nameless objects)."""
    name = getattr(obj, "name", None)
    if isinstance(name, str) and name and not (name.startswith("<") and name.endswith(">")):
        return os.path.basename(name)
    return default


# ----- the base class -----


class Payload(ABC):
    """A request body (or a part of a multipart one).

    ``content_type`` sets the Content-Type; without it a ``filename`` guesses one, and
    the class default applies otherwise. ``headers`` are extra headers (a multipart part
    writes them; a request body adds those the request lacks). Subclasses implement
    :meth:`write` and :meth:`decode`; ``size`` is None when unknown (sent chunked).
    """

    _default_content_type = "application/octet-stream"
    _size: int | None = None
    _consumed = False
    _autoclose = False

    def __init__(
        self,
        value: Any,
        headers: Any = None,
        content_type: Any = sentinel,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._value = value
        self._encoding = encoding
        self._filename = filename
        self._headers: CIMultiDict[str] = CIMultiDict()
        if content_type is not sentinel and content_type is not None:
            self._headers["Content-Type"] = content_type
        elif filename is not None:
            guessed = _guess_content_type(filename)
            self._headers["Content-Type"] = guessed or self._default_content_type
        else:
            self._headers["Content-Type"] = self._default_content_type
        if headers:
            self._headers.update(headers)

    @property
    def size(self) -> int | None:
        """Bytes that :meth:`write` produces (after encoding text), or None if unknown."""
        return self._size

    @property
    def filename(self) -> str | None:
        return self._filename

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    @property
    def encoding(self) -> str | None:
        return self._encoding

    @property
    def content_type(self) -> str:
        return self._headers["Content-Type"]

    @property
    def consumed(self) -> bool:
        """True when the payload can no longer write its whole content (a one-shot source
        already read, or a closed file)."""
        return self._consumed

    @property
    def autoclose(self) -> bool:
        """True when nothing needs closing (no file handle)."""
        return self._autoclose

    @property
    def _binary_headers(self) -> bytes:
        """The part headers as a multipart body writes them (Content-Disposition first),
        with the blank line that ends them."""
        items = sorted(self._headers.items(), key=lambda kv: kv[0].lower() != "content-disposition")
        lines = []
        for name, value in items:
            if any(c in name or c in value for c in "\r\n\x00"):
                raise ValueError(f"invalid character (CR, LF or NUL) in part header {name!r}")
            lines.append(f"{name}: {value}\r\n")
        return ("".join(lines) + "\r\n").encode("utf-8")

    def set_content_disposition(
        self, disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: Any
    ) -> None:
        """Set the Content-Disposition header (see :func:`content_disposition_header`)."""
        self._headers["Content-Disposition"] = content_disposition_header(
            disptype, quote_fields=quote_fields, _charset=_charset, **params
        )

    @abstractmethod
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The content as text (named after ``bytes.decode``)."""

    @abstractmethod
    async def write(self, writer: Any) -> None:
        """Write the whole content with ``await writer.write(bytes)``."""

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        """Write at most ``content_length`` bytes (all when None)."""
        if content_length is None:
            await self.write(writer)
        else:
            await self.write(_Capped(writer, content_length))

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """The whole content as bytes."""
        actual = self._encoding or encoding
        return self.decode(actual, errors).encode(actual)

    def _bound_to_source(self) -> bool:
        """True when only this payload knows how to replay its source (see
        :func:`body_payload`); a new payload made from the same object would not."""
        return False

    def _rewind(self) -> None:  # noqa: B027 - a hook: most payloads have no position
        """Put the source back at its start (for payloads that read a position)."""

    def _close(self) -> None:  # noqa: B027 - a hook: most payloads hold nothing
        """Release what the payload holds, without waiting."""

    async def close(self) -> None:
        self._close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.content_type!r} size={self.size}>"


class _Capped:
    """A writer passing on at most ``limit`` bytes (for :meth:`write_with_length`)."""

    def __init__(self, writer: Any, limit: int) -> None:
        self._writer = writer
        self._left = limit

    async def write(self, data: bytes) -> None:
        if self._left > 0:
            piece = bytes(data[: self._left])
            self._left -= len(piece)
            await self._writer.write(piece)


# ----- in memory -----


class BytesPayload(Payload):
    """bytes, bytearray or memoryview; replayable."""

    _autoclose = True

    def __init__(self, value: bytes | bytearray | memoryview, *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"value argument must be byte-ish, not {type(value)!r}")
        kwargs.setdefault("content_type", "application/octet-stream")
        super().__init__(value, *args, **kwargs)
        self._size = value.nbytes if isinstance(value, memoryview) else len(value)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytes(self._value).decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return bytes(self._value)

    async def write(self, writer: Any) -> None:
        await writer.write(bytes(self._value))


def _text_encoding(encoding: str | None, content_type: str | None) -> tuple[str, str]:
    """(encoding, content type) of a text payload: the given encoding, else the charset
    of the given content type, else UTF-8."""
    if encoding is None:
        if content_type is None:
            return "utf-8", "text/plain; charset=utf-8"
        charset = parse_mimetype(content_type).parameters.get("charset")
        return charset or "utf-8", content_type
    return encoding, content_type or f"text/plain; charset={encoding}"


class StringPayload(BytesPayload):
    """Text, encoded once at construction (so :attr:`size` is the encoded length)."""

    def __init__(
        self,
        value: str,
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(value, str):
            raise TypeError(f"value argument must be str, not {type(value)!r}")
        real, ctype = _text_encoding(encoding, content_type)
        super().__init__(value.encode(real), *args, encoding=real, content_type=ctype, **kwargs)


class StringIOPayload(StringPayload):
    """An ``io.StringIO``: its remaining text, read at construction."""

    def __init__(self, value: io.StringIO, *args: Any, **kwargs: Any) -> None:
        super().__init__(value.read(), *args, **kwargs)


class JsonPayload(BytesPayload):
    """A value serialised with ``dumps`` (``json.dumps`` by default)."""

    def __init__(
        self,
        value: Any,
        encoding: str = "utf-8",
        content_type: str = "application/json",
        dumps: Callable[[Any], str] = json.dumps,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            dumps(value).encode(encoding),
            *args,
            content_type=content_type,
            encoding=encoding,
            **kwargs,
        )


class JsonBytesPayload(BytesPayload):
    """A value serialised by a ``dumps`` that returns bytes (orjson and the like)."""

    def __init__(
        self,
        value: Any,
        dumps: Callable[[Any], bytes],
        content_type: str = "application/json",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(dumps(value), *args, content_type=content_type, **kwargs)


# ----- files -----


async def _maybe_await(value: Any) -> Any:
    if isinstance(value, Awaitable):
        return await value
    return value


class IOBasePayload(Payload):
    """A file object, read piece by piece as the body is written.

    The position the file has when the payload is made is its start: every write begins
    there, so a seekable file is replayable. One that cannot tell its position (a pipe,
    a socket) is one-shot. The size is known for binary files with a descriptor (and
    BytesIO): the file's size less its start; a write then sends exactly that many bytes
    even if the file grows meanwhile.
    """

    _start: int | None = None
    _started = False

    def __init__(
        self, value: Any, disposition: str | None = "attachment", *args: Any, **kwargs: Any
    ) -> None:
        if "filename" not in kwargs:
            kwargs["filename"] = guess_filename(value)
        super().__init__(value, *args, **kwargs)
        if (
            self._filename is not None
            and disposition is not None
            and "Content-Disposition" not in self._headers
        ):
            self.set_content_disposition(disposition, filename=self._filename)
        self._start = self._tell()
        self._size = self._measure()

    def _tell(self) -> int | None:
        """The current position, or None when the file cannot give it synchronously."""
        tell = getattr(self._value, "tell", None)
        if tell is None:
            return None
        try:
            seekable = getattr(self._value, "seekable", None)
            can_seek = seekable() if seekable is not None else True
            if asyncio.iscoroutine(can_seek):
                can_seek.close()  # an async file (aiofiles): its position is taken when writing
                return None
            if not can_seek:
                return None
            pos = tell()
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return None
        if isinstance(pos, int):
            return pos
        if asyncio.iscoroutine(pos):
            pos.close()
        return None

    def _measure(self) -> int | None:
        """Bytes from the start to the end of a binary file, or None if unknown."""
        start = self._start
        if start is None:
            return None
        value = self._value
        try:
            if isinstance(value, io.BytesIO):
                return max(0, len(value.getbuffer()) - start)
            return max(0, os.fstat(value.fileno()).st_size - start)
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation, TypeError):
            return None

    @property
    def consumed(self) -> bool:
        return self._consumed or (self._started and self._start is None)

    def _bound_to_source(self) -> bool:
        return self._start is None  # a pipe, or an async file: position known once read

    def _rewind(self) -> None:
        if self._start is not None and not self._consumed:
            try:
                result = self._value.seek(self._start)
            except (OSError, ValueError):
                return
            if asyncio.iscoroutine(result):
                result.close()  # write() seeks again, awaiting it

    async def _seek_start(self) -> None:
        """Go to the start before writing: the recorded one, or (async files) take it."""
        value = self._value
        if self._start is not None:
            await _maybe_await(value.seek(self._start))
        elif not self._started and hasattr(value, "tell") and hasattr(value, "seek"):
            try:
                pos = await _maybe_await(value.tell())
            except (OSError, ValueError, io.UnsupportedOperation):
                pos = None
            if isinstance(pos, int):
                self._start = pos

    async def _read(self, size: int) -> Any:
        return await _maybe_await(self._value.read(size))

    def _encode_piece(self, piece: Any) -> Any:
        """A piece read, as it goes on the wire (text files encode it)."""
        return piece

    async def write(self, writer: Any) -> None:
        if self.consumed:
            raise RuntimeError(f"{self!r}: the file was already read or closed")
        await self._seek_start()
        self._started = True
        left = self._size
        while left is None or left > 0:
            piece = await self._read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
            if not piece:
                break
            if left is not None:
                left -= len(piece)
            await writer.write(self._encode_piece(piece))

    def _read_all(self) -> bytes:
        if self._start is not None:
            self._value.seek(self._start)
        self._started = True
        data = self._value.read()
        return data.encode(self._encoding or "utf-8") if isinstance(data, str) else bytes(data)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._read_all().decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        chunks: list[bytes] = []

        class _Collect:
            async def write(self, data: bytes) -> None:
                chunks.append(data if isinstance(data, bytes) else bytes(data))

        await self.write(_Collect())
        return b"".join(chunks)

    def _close(self) -> None:
        if not self._consumed:
            self._consumed = True
            close = getattr(self._value, "close", None)
            if close is not None:
                result = close()
                if asyncio.iscoroutine(result):
                    task = asyncio.ensure_future(result)
                    _CLOSING.add(task)
                    task.add_done_callback(_CLOSING.discard)


class TextIOPayload(IOBasePayload):
    """A text file: read as text and encoded (UTF-8 unless told). Its size is unknown
    (the encoded length is not the size on disk), so it is sent chunked."""

    def __init__(
        self,
        value: Any,
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        real, ctype = _text_encoding(encoding, content_type)
        super().__init__(value, *args, encoding=real, content_type=ctype, **kwargs)

    def _measure(self) -> int | None:
        return None

    def _encode_piece(self, piece: Any) -> Any:
        return piece.encode(self._encoding or "utf-8") if isinstance(piece, str) else piece


class BytesIOPayload(IOBasePayload):
    """An ``io.BytesIO``: its bytes from the current position; replayable."""

    _autoclose = True

    def _close(self) -> None:
        """Nothing to release (the buffer belongs to the caller)."""


class BufferedReaderPayload(IOBasePayload):
    """A binary file opened with ``open(path, 'rb')``."""


class _ReaderPayload(IOBasePayload):
    """Any other object with ``read(size)`` (sync or async), e.g. an aiofiles file."""


# ----- streams -----


class AsyncIterablePayload(Payload):
    """An async iterable of bytes pieces (an async generator, a response's content).
    One-shot: once writing started it cannot be written again, unless :meth:`as_bytes`
    read it into memory first."""

    _autoclose = True
    _cached: list[bytes] | None = None

    def __init__(self, value: AsyncIterable[Any], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, AsyncIterable):
            raise TypeError(
                f"value argument must support the AsyncIterable interface, got {type(value)!r}"
            )
        kwargs.setdefault("content_type", "application/octet-stream")
        super().__init__(value, *args, **kwargs)
        self._iter: AsyncIterator[Any] | None = value.__aiter__()

    def _bound_to_source(self) -> bool:
        return True

    async def write(self, writer: Any) -> None:
        if self._cached is not None:
            for piece in self._cached:
                await writer.write(piece)
            return
        it = self._iter
        if it is None or self._consumed:
            raise RuntimeError(f"{self!r}: the async iterable was already consumed")
        self._consumed = True  # from the first piece on, it cannot start over
        self._iter = None
        async for piece in _aiter_of(it):
            await writer.write(piece)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        if self._cached is None:
            raise TypeError("Unable to decode - content not cached. Call as_bytes() first.")
        return b"".join(self._cached).decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        if self._cached is None:
            it = self._iter
            if it is None or self._consumed:
                raise RuntimeError(f"{self!r}: the async iterable was already consumed")
            self._iter = None
            cached = []
            async for piece in _aiter_of(it):
                cached.append(piece.encode("utf-8") if isinstance(piece, str) else bytes(piece))
            self._cached = cached
        return b"".join(self._cached)


async def _aiter_of(it: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """Iterate an async iterator (whose ``__aiter__`` may not return itself)."""
    while True:
        try:
            piece = await it.__anext__()
        except StopAsyncIteration:
            return
        yield piece


class _IterablePayload(Payload):
    """A synchronous iterable of bytes pieces (cyhttp extension, kept from 2.x): a
    re-iterable collection (a list) replays, an iterator (a generator) is one-shot."""

    def __init__(self, value: Iterable[Any], *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("content_type", "application/octet-stream")
        super().__init__(value, *args, **kwargs)
        self._one_shot = iter(value) is value
        self._started = False

    @property
    def consumed(self) -> bool:
        return self._consumed or (self._one_shot and self._started)

    def _bound_to_source(self) -> bool:
        return self._one_shot

    async def write(self, writer: Any) -> None:
        if self.consumed:
            raise RuntimeError(f"{self!r}: the iterator was already consumed")
        self._started = True
        for piece in self._value:
            await writer.write(piece)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("Unable to decode an iterable payload")


class StreamReaderPayload(AsyncIterablePayload):
    """A :class:`~cyhttp.streams.StreamReader` (e.g. another response's content),
    passed on piece by piece as it arrives."""

    def __init__(self, value: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(value.iter_any(), *args, **kwargs)


# ----- streamer (aiohttp.streamer) -----


class _StreamWrapper:
    """A :func:`streamer` function bound to its arguments, waiting for a writer."""

    def __init__(
        self, func: Callable[..., Awaitable[None]], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs

    async def __call__(self, writer: Any) -> None:
        await self.func(writer, *self.args, **self.kwargs)


class streamer:
    """Decorator: an ``async def f(writer, *args, **kwargs)`` that writes the body with
    ``await writer.write(chunk)`` becomes a body source; ``data=f(*args, **kwargs)``
    (or ``data=f`` when it takes no arguments) sends what it writes, chunked. Sending it
    again (a redirect) runs the function again."""

    def __init__(self, func: Callable[..., Awaitable[None]]) -> None:
        self.func = func

    def __call__(self, *args: Any, **kwargs: Any) -> _StreamWrapper:
        return _StreamWrapper(self.func, args, kwargs)


class StreamWrapperPayload(Payload):
    """The payload of a :func:`streamer` call."""

    async def write(self, writer: Any) -> None:
        await self._value(writer)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("Unable to decode a streamer payload")


class StreamPayload(StreamWrapperPayload):
    """A :func:`streamer` function given without calling it."""

    def __init__(self, value: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(value(), *args, **kwargs)


# ----- the registry -----


class PayloadRegistry:
    """Which payload class wraps which value type. ``try_first`` entries are tried
    before the built-ins, ``normal`` ones by exact type then in registration order,
    ``try_last`` after them; a value that is already a Payload is returned as is."""

    __slots__ = ("_exact", "_first", "_last", "_normal")

    def __init__(self) -> None:
        self._first: list[tuple[Any, Any]] = []
        self._normal: list[tuple[Any, Any]] = []
        self._last: list[tuple[Any, Any]] = []
        self._exact: dict[type, Any] = {}

    def get(self, data: Any, *args: Any, **kwargs: Any) -> Payload:
        factory = self.factory_for(data)
        if factory is None:
            return data  # already a Payload
        return factory(data, *args, **kwargs)

    def factory_for(self, data: Any) -> Any:
        """The payload class (factory) that would wrap ``data``, without calling it;
        None when ``data`` is already a Payload. LookupError when nothing fits."""
        for factory, types in self._first:
            if isinstance(data, types):
                return factory
        factory = self._exact.get(type(data))
        if factory is not None:
            return factory
        if isinstance(data, Payload):
            return None
        for factory, types in (*self._normal, *self._last):
            if isinstance(data, types):
                return factory
        raise LookupError(f"no payload type is registered for {type(data).__name__}")

    def register(self, factory: Any, type: Any, *, order: Order = Order.normal) -> None:
        if order is Order.try_first or order == "try_first":
            self._first.append((factory, type))
        elif order is Order.normal or order == "normal":
            self._normal.append((factory, type))
            for t in type if isinstance(type, tuple) else (type,):
                self._exact[t] = factory
        elif order is Order.try_last or order == "try_last":
            self._last.append((factory, type))
        else:
            raise ValueError(f"Unsupported order {order!r}")


def get_payload(data: Any, *args: Any, **kwargs: Any) -> Payload:
    """``data`` as a Payload (raises :class:`LookupError` for an unsupported type)."""
    return PAYLOAD_REGISTRY.get(data, *args, **kwargs)


def _reads_like_a_file(obj: Any) -> bool:
    read = getattr(obj, "read", None)
    return callable(read) and not isinstance(obj, (str, bytes, bytearray, memoryview))


def body_payload(data: Any, **kwargs: Any) -> Payload:
    """:func:`get_payload` for a request body or a form field, with two differences.

    An object read like a file (a ``read()`` method, e.g. an aiofiles file) that nothing
    more specific claims is read as a file, in pieces, rather than iterated as an async
    iterable (which gives lines) or refused.

    A source whose start cannot be found again from the object alone (an async iterable,
    an iterator, a pipe, an async file whose position is awaited) gets the *same* payload
    each time it is given: a redirect that builds a new request from the same ``data``
    then replays it from its recorded start, or is refused as consumed, instead of
    sending whatever is left (often nothing). LookupError when nothing fits."""
    cached = _payload_of_source(data)
    if cached is not None:
        return cached
    try:
        factory = PAYLOAD_REGISTRY.factory_for(data)
    except LookupError:
        if not _reads_like_a_file(data):
            raise
        factory = _ReaderPayload
    if factory is None:
        return data  # already a Payload
    if factory is AsyncIterablePayload and _reads_like_a_file(data):
        factory = _ReaderPayload  # not iterated: that would give it line by line
    payload: Payload = factory(data, **kwargs)
    if payload._bound_to_source():
        _remember_source(data, payload)
    return payload


#: positionless sources (see body_payload) and the payload made for each, while alive
_SOURCES: weakref.WeakKeyDictionary[Any, Payload] = weakref.WeakKeyDictionary()


def _payload_of_source(data: Any) -> Payload | None:
    try:
        return _SOURCES.get(data)
    except TypeError:  # not weakly referenceable, or not hashable
        return None


def _remember_source(data: Any, payload: Payload) -> None:
    try:
        _SOURCES[data] = payload
    except TypeError:
        pass


def register_payload(factory: Any, type: Any, *, order: Order = Order.normal) -> None:
    PAYLOAD_REGISTRY.register(factory, type, order=order)


class payload_type:
    """Class decorator registering a Payload subclass for ``type``."""

    def __init__(self, type: Any, *, order: Order = Order.normal) -> None:
        self.type = type
        self.order = order

    def __call__(self, factory: Any) -> Any:
        register_payload(factory, self.type, order=self.order)
        return factory


def _register_builtins(registry: PayloadRegistry) -> None:
    from .streams import StreamReader

    registry.register(BytesPayload, (bytes, bytearray, memoryview))
    registry.register(StringPayload, str)
    registry.register(StringIOPayload, io.StringIO)
    registry.register(TextIOPayload, io.TextIOBase)
    registry.register(BytesIOPayload, io.BytesIO)
    registry.register(BufferedReaderPayload, (io.BufferedReader, io.BufferedRandom))
    registry.register(IOBasePayload, io.IOBase)
    registry.register(StreamReaderPayload, StreamReader)
    registry.register(StreamWrapperPayload, _StreamWrapper)
    registry.register(StreamPayload, streamer)
    # last: many classes are async iterable besides being something more specific
    registry.register(AsyncIterablePayload, AsyncIterable, order=Order.try_last)


PAYLOAD_REGISTRY = PayloadRegistry()
_register_builtins(PAYLOAD_REGISTRY)
