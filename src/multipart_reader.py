"""Reading multipart bodies (RFC 2046): :class:`MultipartReader`, :class:`BodyPartReader`
and :class:`MultipartResponseWrapper`, aiohttp's reader API for a client that receives
``multipart/*`` responses (``MultipartReader.from_response(resp)``).

The parts are read in order from one stream, as they arrive: :meth:`MultipartReader.next`
skips what is left of the previous part and returns the next one. A part's body ends at the
delimiter ``CRLF--boundary``; the :class:`_Source` below holds back, from what it returns,
enough bytes to never hand out the start of a delimiter. A part that is itself
``multipart/*`` is returned as a nested :class:`MultipartReader` reading from that part.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import quopri
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy

from .client_proto import DEFAULT_MAX_DECOMPRESSED_SIZE
from .helpers import parse_mimetype
from .multipart import content_disposition_filename, parse_content_disposition

__all__ = ("BodyPartReader", "MultipartReader", "MultipartResponseWrapper")

#: what a part's read_chunk() returns at most by default
_CHUNK_SIZE = 8192
#: what is asked of the underlying stream at a time
_PULL_SIZE = 2**16


class _Source:
    """A byte stream with a look-ahead buffer, read by lines or up to a delimiter.

    ``pull`` returns the next bytes of the underlying stream (``b""`` at its end)."""

    def __init__(self, pull: Callable[[], Awaitable[bytes]]) -> None:
        self._pull = pull
        self._buffer = bytearray()
        self._ended = False

    @classmethod
    def of(cls, content: Any) -> _Source:
        """A source over ``content``: a :class:`_Source`, a body part, or a stream
        (anything with ``readany()`` or ``read(n)``)."""
        if isinstance(content, _Source):
            return content
        if isinstance(content, BodyPartReader):
            return cls(content.read_chunk)
        readany = getattr(content, "readany", None)
        if readany is not None:
            return cls(readany)

        async def read() -> bytes:
            return bytes(await content.read(_PULL_SIZE))

        return cls(read)

    async def _fill(self) -> bool:
        """Append more bytes to the buffer; False at the end of the stream."""
        if self._ended:
            return False
        data = await self._pull()
        if not data:
            self._ended = True
            return False
        self._buffer += data
        return True

    async def readline(self, limit: int) -> bytes:
        """One line with its end (``\\n``); what is left at the end of the stream. A line
        longer than ``limit`` is a ValueError (a peer cannot make us buffer forever)."""
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                return self._take(end + 1)
            if len(self._buffer) > limit:
                raise ValueError(f"a multipart line is longer than {limit} bytes")
            if not await self._fill():
                return self._take(len(self._buffer))

    async def read_until(self, delimiter: bytes, size: int) -> tuple[bytes, bool]:
        """Up to ``size`` bytes before ``delimiter`` (as soon as some are known not to be
        the start of it), and whether the delimiter was reached (then consumed). The end
        of the stream before the delimiter is a ValueError."""
        while True:
            found = self._buffer.find(delimiter)
            if found >= 0:
                if found <= size:
                    data = self._take(found)
                    del self._buffer[: len(delimiter)]
                    return data, True
                return self._take(size), False
            # the last len(delimiter) - 1 bytes may be the start of the delimiter
            safe = len(self._buffer) - len(delimiter) + 1
            if safe > 0:
                return self._take(min(safe, size)), False
            if not await self._fill():
                raise ValueError("the multipart body ended before its closing boundary")

    async def read_line_until(self, delimiter: bytes) -> tuple[bytes, bool]:
        """The next line (with its ``\\n``) if it ends before ``delimiter``, else what
        precedes the delimiter and True (the delimiter is consumed). Since a delimiter
        starts with CRLF, a line never runs across one."""
        line = bytearray()
        while True:
            found = self._buffer.find(delimiter)
            newline = self._buffer.find(b"\n")
            if found >= 0 and (newline < 0 or found < newline):
                line += self._take(found)
                del self._buffer[: len(delimiter)]
                return bytes(line), True
            if newline >= 0:
                # a delimiter may still start at the CR before it: enough bytes must follow
                if len(self._buffer) >= newline - 1 + len(delimiter):
                    line += self._take(newline + 1)
                    return bytes(line), False
            else:
                safe = len(self._buffer) - len(delimiter) + 1
                if safe > 0:
                    line += self._take(safe)
            if not await self._fill():
                raise ValueError("the multipart body ended before its closing boundary")

    async def peek(self, n: int) -> bytes:
        while len(self._buffer) < n and await self._fill():
            pass
        return bytes(self._buffer[:n])

    def _take(self, n: int) -> bytes:
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data


def _charset_of(headers: Mapping[str, str], default: str | None) -> str | None:
    mime = parse_mimetype(headers.get("Content-Type", ""))
    return mime.parameters.get("charset", default)


class BodyPartReader:
    """One part of a multipart body: its ``headers`` and a body read from the stream
    up to the next boundary (:meth:`read`, :meth:`read_chunk`, :meth:`readline`, or
    ``async for chunk in part``)."""

    chunk_size = _CHUNK_SIZE

    def __init__(
        self,
        boundary: bytes,
        headers: Mapping[str, str],
        content: Any,
        *,
        subtype: str = "mixed",
        default_charset: str | None = None,
        max_decompress_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
        client_max_size: int = 2**63 - 1,
        max_size_error_cls: type[Exception] = ValueError,
    ) -> None:
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict(headers))
        self._boundary = boundary
        self._delimiter = b"\r\n--" + boundary
        self._source = _Source.of(content)
        self._subtype = subtype
        self._default_charset = default_charset
        self._max_decompress_size = max_decompress_size
        self._client_max_size = client_max_size
        self._max_size_error_cls = max_size_error_cls
        self._at_eof = False
        #: the boundary that ended this part was the closing one (``--boundary--``)
        self._last = False
        self._read_size = 0
        disposition, params = parse_content_disposition(self.headers.get("Content-Disposition"))
        self._disposition_params = params if disposition is not None else {}

    def __repr__(self) -> str:
        return f"<BodyPartReader name={self.name!r} filename={self.filename!r}>"

    @property
    def name(self) -> str | None:
        """The ``name`` of the Content-Disposition header (None when missing)."""
        return content_disposition_filename(self._disposition_params, "name")

    @property
    def filename(self) -> str | None:
        """The ``filename`` of the Content-Disposition header (None when missing)."""
        return content_disposition_filename(self._disposition_params, "filename")

    def at_eof(self) -> bool:
        """True once the body was read up to its boundary."""
        return self._at_eof

    # ----- raw body -----

    async def read_chunk(self, size: int = chunk_size) -> bytes:
        """The next piece of the body, at most ``size`` bytes; ``b""`` at its end."""
        if self._at_eof:
            return b""
        data, reached = await self._source.read_until(self._delimiter, size)
        self._count(len(data))
        if reached:
            await self._finish_boundary_line()
        return data

    async def _finish_boundary_line(self) -> None:
        """After ``CRLF--boundary``: ``--`` marks the closing boundary; then the rest of
        the line (transport padding) and its end are skipped."""
        self._at_eof = True
        self._last = await self._source.peek(2) == b"--"
        await self._source.readline(_CHUNK_SIZE)

    async def readline(self) -> bytes:
        """The next line of the body (with its ``\\n``), ``b""`` at its end."""
        if self._at_eof:
            return b""
        line, reached = await self._source.read_line_until(self._delimiter)
        self._count(len(line))
        if reached:
            await self._finish_boundary_line()
        return line

    def _count(self, size: int) -> None:
        self._read_size += size
        if self._read_size > self._client_max_size:
            raise self._max_size_error_cls(
                f"a multipart part is larger than {self._client_max_size} bytes"
            )

    async def read(self, *, decode: bool = False) -> bytes:
        """The whole (rest of the) body; decoded per its headers with ``decode=True``."""
        data = bytearray()
        while not self._at_eof:
            data += await self.read_chunk(_PULL_SIZE)
        return self.decode(bytes(data)) if decode else bytes(data)

    async def release(self) -> None:
        """Read the rest of the body to the void."""
        while not self._at_eof:
            await self.read_chunk(_PULL_SIZE)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        while not self._at_eof:
            chunk = await self.read_chunk(self.chunk_size)
            if chunk:
                yield chunk

    async def next(self) -> bytes | None:
        """The rest of the body, or None when it was all read."""
        if self._at_eof:
            return None
        return await self.read()

    # ----- decoded body -----

    def get_charset(self, default: str | None = None) -> str | None:
        """The ``charset`` of the part's Content-Type, else ``default``."""
        return _charset_of(self.headers, default)

    async def text(self, *, encoding: str | None = None) -> str:
        data = await self.read(decode=True)
        charset = encoding or self.get_charset(self._default_charset or "utf-8")
        return data.decode(charset or "utf-8")

    async def json(self, *, encoding: str | None = None) -> Any:
        """The body as JSON (None when it is empty)."""
        data = await self.read(decode=True)
        if not data:
            return None
        return json.loads(data.decode(encoding or self.get_charset("utf-8") or "utf-8"))

    async def form(self, *, encoding: str | None = None) -> list[tuple[str, str]]:
        """The body as ``application/x-www-form-urlencoded`` pairs."""
        data = await self.read(decode=True)
        charset = encoding or self.get_charset(self._default_charset or "utf-8") or "utf-8"
        codecs.lookup(charset)  # an unknown charset is a LookupError, not a silent guess
        return parse_qsl(data.rstrip().decode("latin-1"), keep_blank_values=True, encoding=charset)

    def decode(self, data: bytes) -> bytes:
        """``data`` decoded per the Content-Transfer-Encoding (base64, quoted-printable,
        binary, 7bit, 8bit), then the Content-Encoding (gzip, deflate, identity). An
        unknown encoding is a RuntimeError."""
        data = _transfer_decode(self.headers.get("Content-Transfer-Encoding", ""), data)
        coding = self.headers.get("Content-Encoding", "").strip().lower()
        if coding in ("", "identity"):
            return data
        if coding not in ("gzip", "deflate"):
            raise RuntimeError(f"unknown content encoding: {coding!r}")
        return _inflate(coding, data, self._max_decompress_size)

    async def decode_iter(self, data: bytes) -> AsyncIterator[bytes]:
        """:meth:`decode` as an async iterator (one piece: the decoding is bounded by
        ``max_decompress_size``)."""
        yield self.decode(data)


def _transfer_decode(encoding: str, data: bytes) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "binary", "8bit", "7bit"):
        return data
    if encoding == "base64":
        try:
            return base64.b64decode(data)
        except binascii.Error as exc:
            raise ValueError(f"invalid base64 part body: {exc}") from exc
    if encoding == "quoted-printable":
        return quopri.decodestring(data)
    raise RuntimeError(f"unknown content transfer encoding: {encoding!r}")


def _inflate(coding: str, data: bytes, limit: int) -> bytes:
    """gzip or deflate (zlib-wrapped, or raw as some senders do), at most ``limit`` bytes."""
    if coding == "gzip":
        wbits = 16 + zlib.MAX_WBITS
    else:
        wbits = zlib.MAX_WBITS if data[:1] and (data[0] & 0x0F) == 8 else -zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit + 1 if limit else 0)
    except zlib.error as exc:
        raise ValueError(f"cannot decode a {coding} multipart part: {exc}") from exc
    if limit and len(out) > limit:
        raise ValueError(f"a multipart part inflates past {limit} bytes")
    return out


class MultipartReader:
    """The parts of a ``multipart/*`` body, in order: ``await reader.next()`` (None after
    the last one) or ``async for part in reader``. Each part is a
    :class:`BodyPartReader`, or a nested :class:`MultipartReader` for a ``multipart/*``
    part; reading the next part skips what is left of the previous one."""

    #: the class of the parts, and of the nested readers (None: this class), aiohttp's
    #: hooks for subclasses
    part_reader_cls = BodyPartReader
    multipart_reader_cls: type[MultipartReader] | None = None
    #: the class of ``from_response``'s result
    response_wrapper_cls: type[MultipartResponseWrapper]

    def __init__(
        self,
        headers: Mapping[str, str],
        content: Any,
        *,
        client_max_size: int = 2**63 - 1,
        max_field_size: int = 8190,
        max_headers: int = 128,
        max_size_error_cls: type[Exception] = ValueError,
    ) -> None:
        self.headers = headers
        mime = parse_mimetype(headers.get("Content-Type", ""))
        if mime.type != "multipart":
            raise ValueError(f"not a multipart body: {headers.get('Content-Type')!r}")
        boundary = mime.parameters.get("boundary")
        if not boundary:
            raise ValueError("the multipart Content-Type has no boundary")
        if len(boundary) > 70:
            raise ValueError(f"boundary {boundary!r} is longer than 70 characters")
        self._mimetype = mime
        self._boundary = boundary.encode("utf-8")
        self._content = content
        self._source = _Source.of(content)
        self._client_max_size = client_max_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._max_size_error_cls = max_size_error_cls
        self._started = False
        self._at_eof = False
        self._last_part: BodyPartReader | None = None
        self._last_nested: MultipartReader | None = None

    def __repr__(self) -> str:
        return f"<MultipartReader boundary={self._boundary!r} eof={self._at_eof}>"

    @classmethod
    def from_response(cls, response: Any) -> MultipartResponseWrapper:
        """A reader of ``response``'s body, wrapped to release the response once read."""
        return cls.response_wrapper_cls(response, cls(response.headers, response.content))

    def at_eof(self) -> bool:
        """True once the closing boundary was read."""
        return self._at_eof

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._parts()

    async def _parts(self) -> AsyncIterator[Any]:
        while True:
            part = await self.next()
            if part is None:
                return
            yield part

    async def next(self) -> BodyPartReader | MultipartReader | None:
        """The next part, or None once the closing boundary was read."""
        if self._at_eof:
            return None
        await self._skip_previous()
        if self._at_eof:
            return None
        if not self._started:
            self._started = True
            if not await self._skip_preamble():
                return None
        part = await self.fetch_next_part()
        return part

    async def release(self) -> None:
        """Read every remaining part to the void, up to the closing boundary."""
        while await self.next() is not None:
            pass

    async def fetch_next_part(self) -> BodyPartReader | MultipartReader:
        """Read the next part's headers (the stream is at them) and return its reader."""
        headers = await self._read_headers()
        part = self.part_reader_cls(
            self._boundary,
            headers,
            self._source,
            subtype=self._mimetype.subtype,
            default_charset=self._default_charset(),
            client_max_size=self._client_max_size,
            max_size_error_cls=self._max_size_error_cls,
        )
        self._last_part = part
        self._last_nested = None
        if parse_mimetype(headers.get("Content-Type", "")).type == "multipart":
            nested = (self.multipart_reader_cls or type(self))(
                headers,
                part,
                client_max_size=self._client_max_size,
                max_field_size=self._max_field_size,
                max_headers=self._max_headers,
                max_size_error_cls=self._max_size_error_cls,
            )
            self._last_nested = nested
            return nested
        return part

    def _default_charset(self) -> str | None:
        """form-data's ``_charset_`` convention is left to the caller: the parts' own
        charsets, else UTF-8, apply."""
        return None

    async def _skip_previous(self) -> None:
        part = self._last_part
        if part is None:
            return
        if self._last_nested is not None and not self._last_nested.at_eof():
            await self._last_nested.release()
        await part.release()
        if part._last:
            self._at_eof = True
        self._last_part = self._last_nested = None

    async def _skip_preamble(self) -> bool:
        """Skip to the first boundary line; False when it is the closing one (no parts)."""
        opening = b"--" + self._boundary
        limit = max(self._max_field_size, len(opening) + 128)
        while True:
            line = await self._source.readline(limit)
            if not line:
                raise ValueError(f"no boundary {self._boundary!r} in the multipart body")
            stripped = line.rstrip(b"\r\n").rstrip(b" \t")
            if stripped == opening:
                return True
            if stripped == opening + b"--":
                self._at_eof = True
                return False

    async def _read_headers(self) -> CIMultiDict[str]:
        """A part's header lines, up to the empty line that ends them."""
        headers: CIMultiDict[str] = CIMultiDict()
        while True:
            line = await self._source.readline(self._max_field_size)
            if not line:
                raise ValueError("the multipart body ended inside a part's headers")
            line = line.rstrip(b"\r\n")
            if not line:
                return headers
            if len(headers) >= self._max_headers:
                raise ValueError(f"a multipart part has more than {self._max_headers} headers")
            name, sep, value = line.partition(b":")
            if not sep or not name.strip() or name != name.strip():
                raise ValueError(f"malformed multipart header line {line[:100]!r}")
            headers.add(name.decode("latin-1"), value.strip().decode("utf-8", "replace"))


class MultipartResponseWrapper:
    """A :class:`MultipartReader` of a response's body that releases the response once
    the closing boundary was read (or on :meth:`release`)."""

    def __init__(self, resp: Any, stream: MultipartReader) -> None:
        self.resp = resp
        self.stream = stream

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._parts()

    async def _parts(self) -> AsyncIterator[Any]:
        while True:
            part = await self.next()
            if part is None:
                return
            yield part

    def at_eof(self) -> bool:
        return self.resp.content.at_eof()

    async def next(self) -> BodyPartReader | MultipartReader | None:
        part = await self.stream.next()
        if self.stream.at_eof():
            await self.release()
        return part

    async def release(self) -> None:
        """Let the connection go (the rest of the body is read if the response can)."""
        self.resp.release()


MultipartReader.response_wrapper_cls = MultipartResponseWrapper
