"""The response body buffer (:class:`StreamReader`) and the streaming body decoders.

The protocol pushes body bytes in with :meth:`StreamReader.feed_data`; user code pulls them
out with ``read``/``readany``/``readline``/... . Flow control is by byte count: above the
high-water mark the reader asks its protocol to pause the socket, and once the consumer
has drained it below the low-water mark, to resume. The buffer is a deque of the bytes
objects the socket produced; nothing is copied until a read needs to split or join.

Decoders (gzip, deflate, br, zstd) turn compressed input into output pieces of bounded size
(:data:`DECODE_PIECE`), so the protocol can stop decompressing while the reader is paused:
a small compressed body never expands into an unbounded buffer.

The reader's state and the steps every response takes (made, fed, ended, read at once) are
its base class ``StreamCore``: compiled (:mod:`cyhttp._streams`) or its pure-Python twin
(:mod:`cyhttp._streams_py`), picked by :mod:`cyhttp._compat`. The waiting reads are here.
"""

from __future__ import annotations

import asyncio
import importlib
import zlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from . import _compat
from .client_exceptions import ClientPayloadError
from .http_exceptions import LineTooLong

if TYPE_CHECKING:
    from ._streams_py import DEFAULT_LIMIT, StreamCore
else:
    _core = _compat.load("_streams", "_streams_py")
    StreamCore = _core.StreamCore
    DEFAULT_LIMIT = _core.DEFAULT_LIMIT  # re-exported: it was defined here

__all__ = (
    "EMPTY_PAYLOAD",
    "Decoder",
    "StreamReader",
    "make_decoder",
    "supported_encodings",
    "undecodable",
    "zstd_backend",
)

#: Largest piece of decompressed output produced in one step.
DECODE_PIECE = 2**16


class StreamReader(StreamCore):
    """A buffer of body bytes with asyncio readers and byte-count flow control.

    Its state and per-response steps (feeding, taking bytes) come from
    :class:`~cyhttp._streams_py.StreamCore`, compiled when the extensions are in use."""

    __slots__ = ()

    def __repr__(self) -> str:
        state = ["eof"] if self._eof else []
        if self._size:
            state.append(f"{self._size} bytes")
        if self._exception is not None:
            state.append(f"e={self._exception!r}")
        return f"<StreamReader {' '.join(state)}>"

    # ----- waiting for the producer -----

    async def wait_eof(self) -> None:
        if self._eof or self._exception is not None:
            return
        loop = self._loop or asyncio.get_running_loop()
        fut = loop.create_future()
        self._eof_waiters.append(fut)
        await fut

    # ----- consumer side -----

    async def _wait(self, func_name: str) -> None:
        if self._waiter is not None:
            raise RuntimeError(
                f"{func_name}() called while another coroutine is already waiting for data"
            )
        loop = self._loop or asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (b"" at EOF); with ``n < 0``, everything until EOF."""
        self._check()
        if n == 0:
            return b""
        if n < 0:
            if not self._eof:
                # one wake-up at EOF instead of one per socket read; no pausing meanwhile
                self._read_all = True
                if self._paused and self._protocol is not None:
                    self._paused = False
                    self._protocol.resume_reading()
                # a long rest of known length: straight into the bytes returned below
                direct = getattr(self._protocol, "receive_rest_directly", None)
                if direct is not None:
                    direct(self)
                try:
                    self._check()  # resuming may have failed the stream (decoder, limit)
                    while not self._eof:
                        await self._wait("read")
                        self._check()
                finally:
                    self._read_all = False
            self._chunk_ends.clear()
            if not self._buffer:
                return b""
            return self._take_all()
        while not self._buffer and not self._eof:
            await self._wait("read")
            self._check()
        if not self._buffer:
            return b""
        return self._take(n)

    async def readany(self) -> bytes:
        """The next piece of data as it arrived (b"" at EOF)."""
        self._check()
        while not self._buffer and not self._eof:
            await self._wait("readany")
            self._check()
        if not self._buffer:
            return b""
        return self._take_first()

    async def readchunk(self) -> tuple[bytes, bool]:
        """The next piece of data and whether it ends an HTTP chunk of a chunked body.

        ``(b"", False)`` means EOF.
        """
        while True:
            self._check()
            ends = self._chunk_ends
            while ends and ends[0] < self._consumed:
                ends.popleft()
            if ends:
                end = ends[0]
                if end == self._consumed:
                    ends.popleft()
                    return b"", True
                data = self._take(end - self._consumed)
                if self._consumed == end:
                    ends.popleft()
                    return data, True
                return data, False
            if self._buffer:
                return self._take_first(), False
            if self._eof:
                return b"", False
            await self._wait("readchunk")

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes; ``asyncio.IncompleteReadError`` if the body ends first."""
        if n < 0:  # _take() of a negative count would corrupt the buffer's offset
            raise ValueError("readexactly() size can not be less than zero")
        self._check()
        while self._size < n and not self._eof:
            if self._paused and self._protocol is not None:
                # more than the window was asked for: the socket must read on, or the
                # paused reader waits forever (resuming may feed decoded data at once)
                self._paused = False
                self._protocol.resume_reading()
                self._check()
                continue
            await self._wait("readexactly")
            self._check()
        if self._size < n:
            partial = self._take_all() if self._buffer else b""
            raise asyncio.IncompleteReadError(partial, n)
        return self._take(n) if n else b""

    async def readuntil(self, separator: bytes = b"\n", *, max_size: int | None = None) -> bytes:
        """Bytes up to and including ``separator``, or what is left at EOF.

        :class:`~cyhttp.http_exceptions.LineTooLong` (a ClientPayloadError) when the line
        would be longer than ``max_size`` bytes (default: the flow-control window, twice
        ``limit``); the bytes stay buffered for other reads.
        """
        if not separator:
            raise ValueError("separator must not be empty")
        self._check()
        limit = max_size or self._high
        seplen = len(separator)
        searched = 0  # bytes of the first piece (past the offset) known not to match
        while True:
            buffer = self._buffer
            if buffer:
                head = buffer[0]
                offset = self._offset
                idx = head.find(separator, offset + searched)
                if idx >= 0:
                    size = idx + seplen - offset
                    if size > limit:
                        raise self._line_too_long(limit)
                    return self._take(size)
                searched = max(0, len(head) - offset - seplen + 1)
                if len(buffer) > 1:
                    # the separator may straddle pieces: merge the first two and look again
                    buffer.popleft()
                    buffer[0] = head[offset:] + buffer[0]
                    self._offset = 0
                    continue
            if self._size > limit:
                raise self._line_too_long(limit)
            if self._eof:
                return self._take_all() if self._buffer else b""
            if self._paused and self._protocol is not None:
                # a limit above the window: the socket must read on, or this waits forever
                self._paused = False
                self._protocol.resume_reading()
                self._check()
                continue
            await self._wait("readuntil")
            self._check()

    def _line_too_long(self, limit: int) -> LineTooLong:
        start = self._buffer[0][self._offset : self._offset + 100]
        return LineTooLong(f"Got more than {limit} bytes when reading a line: {start!r}...")

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        """One line including its ``\\n`` (the last line may lack it); b"" at EOF.
        LineTooLong past ``max_line_length`` (default: the flow-control window)."""
        return await self.readuntil(b"\n", max_size=max_line_length)

    # ----- iteration -----

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter(self.readline)

    async def _iter(self, read: Any) -> AsyncIterator[bytes]:
        while True:
            data = await read()
            if not data:
                return
            yield data

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        """Pieces of at most ``n`` bytes."""
        if n == 0:  # read(0) is b"", the end mark: the body would be silently skipped
            raise ValueError("iter_chunked() needs a chunk size other than 0")

        async def read() -> bytes:
            return await self.read(n)

        return self._iter(read)

    def iter_any(self) -> AsyncIterator[bytes]:
        """Pieces as they arrive."""
        return self._iter(self.readany)

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        """``(data, end_of_http_chunk)`` pairs; the flag is True where a chunk of a chunked
        body ends."""
        while True:
            item = await self.readchunk()
            if item == (b"", False):
                return
            yield item


def _eof_reader() -> StreamReader:
    reader = StreamReader()
    reader.feed_eof()
    return reader


#: A shared, already finished reader for responses without a body. Never feed it.
EMPTY_PAYLOAD = _eof_reader()


# ----- body decoders -----


class Decoder:
    """Streaming decompressor. ``feed(data)`` queues input; ``pull()`` returns the next
    piece of output (at most :data:`DECODE_PIECE` bytes) or b"" when it needs more input;
    ``finish()`` checks that the stream ended cleanly and returns any last output."""

    encoding = ""

    def feed(self, data: bytes) -> None:
        raise NotImplementedError

    def pull(self) -> bytes:
        raise NotImplementedError

    def finish(self) -> bytes:
        out = []
        while piece := self.pull():
            out.append(piece)
        out.append(self._end())
        return b"".join(out)

    def _end(self) -> bytes:
        """After the last output was pulled: raise unless the stream ended cleanly; return
        whatever the decompressor still holds."""
        return b""

    def _error(self, exc: Exception) -> ClientPayloadError:
        return ClientPayloadError(f"Can not decode content-encoding: {self.encoding} ({exc})")


class _ZlibDecoder(Decoder):
    """gzip (wbits 16+15) or deflate: zlib-wrapped or raw, told apart by the first bytes.

    Input is handed to zlib in slices of at most :data:`INPUT_SLICE` bytes through a
    memoryview, so a highly compressed body does not cost a copy of the whole pending
    input (zlib's ``unconsumed_tail``) for every bounded piece of output.
    """

    INPUT_SLICE = 2**14

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._obj: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
        self._pending = b""
        self._pos = 0  # bytes of _pending already given to zlib

    def feed(self, data: bytes) -> None:
        if self._pos < len(self._pending):
            self._pending = self._pending[self._pos :] + data
        else:
            self._pending = data
        self._pos = 0

    def _start(self) -> Any:
        """The decompressor for the data at _pos, or None when more input is needed."""
        pending, pos = self._pending, self._pos
        if self.encoding == "gzip":
            # each gzip member gets its own decompressor (concatenated members are legal)
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if len(pending) - pos < 2:
            return None
        b0, b1 = pending[pos], pending[pos + 1]
        zlib_header = (b0 & 0x0F) == 8 and ((b0 << 8) | b1) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)

    def pull(self) -> bytes:
        while True:
            pending, pos = self._pending, self._pos
            if pos >= len(pending):
                return b""
            obj = self._obj
            if obj is None or obj.eof:
                if obj is not None and self.encoding != "gzip":
                    self._pos = len(pending)  # data after the end of a deflate stream
                    return b""
                obj = self._obj = self._start()
                if obj is None:
                    return b""
            chunk = memoryview(pending)[pos : pos + self.INPUT_SLICE]
            try:
                out = obj.decompress(chunk, DECODE_PIECE)
            except zlib.error as exc:
                raise self._error(exc) from exc
            left = obj.unused_data if obj.eof else obj.unconsumed_tail
            self._pos = pos + len(chunk) - len(left)
            if out:
                return out

    def _end(self) -> bytes:
        obj = self._obj
        if obj is None:
            if self._pos < len(self._pending):
                raise self._error(ValueError("truncated stream"))
            return b""
        try:
            last: bytes = obj.flush()
        except zlib.error as exc:  # pragma: no cover - flush rarely raises
            raise self._error(exc) from exc
        if not obj.eof:
            raise self._error(ValueError("compressed stream is truncated"))
        return last


class _BrotliDecoder(Decoder):
    encoding = "br"

    def __init__(self) -> None:
        import brotli

        self._brotli = brotli
        self._obj = brotli.Decompressor()
        self._pending = b""

    def feed(self, data: bytes) -> None:
        self._pending += data

    def pull(self) -> bytes:
        obj = self._obj
        try:
            if self._pending and obj.can_accept_more_data():
                data, self._pending = self._pending, b""
                return obj.process(data, output_buffer_limit=DECODE_PIECE)
            if not obj.is_finished():
                # output may be pending even when can_accept_more_data() says True
                return obj.process(b"", output_buffer_limit=DECODE_PIECE)
        except self._brotli.error as exc:
            raise self._error(exc) from exc
        return b""

    def _end(self) -> bytes:
        if not self._obj.is_finished():
            raise self._error(ValueError("compressed stream is truncated"))
        return b""


class _ZstdDecoder(Decoder):
    """zstd through the standard library's ``compression.zstd`` (Python 3.14) or its
    backport ``backports.zstd`` (the same API): output bounded per call by ``max_length``.
    Concatenated frames are decoded one after the other (a new decompressor per frame)."""

    encoding = "zstd"

    def __init__(self, module: Any) -> None:
        self._module = module
        self._obj = module.ZstdDecompressor()
        self._pending = b""
        self._got_input = False  # an empty body is an empty body, not a truncated frame

    def feed(self, data: bytes) -> None:
        self._pending = self._pending + data if self._pending else data
        self._got_input = True

    def pull(self) -> bytes:
        while True:
            obj = self._obj
            if obj.eof:
                if not self._pending:
                    return b""
                obj = self._obj = self._module.ZstdDecompressor()  # the next frame
            if obj.needs_input:
                if not self._pending:
                    return b""
                data, self._pending = self._pending, b""
            else:
                data = b""  # output of earlier input is still waiting
            try:
                out = obj.decompress(data, DECODE_PIECE)
            except (self._module.ZstdError, EOFError) as exc:
                raise self._error(exc) from exc
            if obj.eof and obj.unused_data:
                self._pending = obj.unused_data + self._pending
            if out:
                return out
            if not data:
                return b""

    def _end(self) -> bytes:
        if self._got_input and not self._obj.eof:
            raise self._error(ValueError("compressed stream is truncated"))
        return b""


class _ZstandardDecoder(Decoder):
    """zstd through the ``zstandard`` package, used when neither ``compression.zstd`` nor
    ``backports.zstd`` is there. It has no output bound per call: input is fed in small
    slices instead, which bounds the output by the format's maximum ratio per slice."""

    encoding = "zstd"
    SLICE = 4096

    def __init__(self) -> None:
        import zstandard

        self._zstd = zstandard
        self._obj = zstandard.ZstdDecompressor().decompressobj()
        self._pending = b""
        self._finished = False
        self._got_input = False

    def feed(self, data: bytes) -> None:
        self._pending += data
        self._got_input = True

    def pull(self) -> bytes:
        while self._pending:
            data = self._pending[: self.SLICE]
            self._pending = self._pending[self.SLICE :]
            if self._finished:
                raise self._error(ValueError("data after the end of the zstd frame"))
            try:
                out = self._obj.decompress(data)
            except self._zstd.ZstdError as exc:
                raise self._error(exc) from exc
            if self._obj.eof:
                self._finished = True
                if self._obj.unused_data:
                    raise self._error(ValueError("data after the end of the zstd frame"))
            if out:
                return out
        return b""

    def _end(self) -> bytes:
        if self._got_input and not self._finished:
            raise self._error(ValueError("compressed stream is truncated"))
        return b""


class _ChainDecoder(Decoder):
    """Several content codings (``Content-Encoding: gzip, br``: gzip applied first, so br
    is undone first): each stage's output is the next stage's input, pulled on demand,
    so output stays bounded per step."""

    def __init__(self, stages: list[Decoder]) -> None:
        self._stages = stages  # in decoding order
        self.encoding = ", ".join(reversed([stage.encoding for stage in stages]))

    def feed(self, data: bytes) -> None:
        self._stages[0].feed(data)

    def pull(self) -> bytes:
        return self._pull(len(self._stages) - 1)

    def _pull(self, index: int) -> bytes:
        stage = self._stages[index]
        while True:
            out = stage.pull()
            if out or index == 0:
                return out
            piece = self._pull(index - 1)
            if not piece:
                return b""
            stage.feed(piece)

    def finish(self) -> bytes:
        carry = b""
        for index, stage in enumerate(self._stages):
            if index and carry:
                stage.feed(carry)
            carry = stage.finish()
        return carry


#: module name → whether it imports; filled on first use (the optional decoders are not
#: imported with the package: a program that never sends a request never needs them)
_HAVE: dict[str, bool] = {}

#: zstd implementations, preferred first (see :func:`zstd_backend`)
ZSTD_BACKENDS = ("compression.zstd", "backports.zstd", "zstandard")


def _have(module: str) -> bool:
    found = _HAVE.get(module)
    if found is None:
        try:
            __import__(module)
        except ImportError:
            found = False
        else:
            found = True
        _HAVE[module] = found
    return found


def zstd_backend() -> str | None:
    """The zstd implementation to use: the standard library's ``compression.zstd``
    (Python 3.14), else ``backports.zstd``, else ``zstandard``; None when none is there."""
    for module in ZSTD_BACKENDS:
        if _have(module):
            return module
    return None


def supported_encodings() -> tuple[str, ...]:
    """Content-Encodings we can decode, best first (for Accept-Encoding)."""
    found = ["gzip", "deflate"]
    if _have("brotli"):
        found.append("br")
    if zstd_backend() is not None:
        found.append("zstd")
    return tuple(found)


def _codings(encoding: str) -> list[str]:
    """The content codings of a (lower-cased) Content-Encoding value, in the order they
    were applied, identity dropped."""
    return [c for c in (p.strip(" \t") for p in encoding.split(",")) if c and c != "identity"]


def _single_decoder(coding: str) -> Decoder | None:
    if coding in ("gzip", "x-gzip"):
        return _ZlibDecoder("gzip")
    if coding == "deflate":
        return _ZlibDecoder("deflate")
    if coding == "br" and _have("brotli"):
        return _BrotliDecoder()
    if coding == "zstd":
        backend = zstd_backend()
        if backend == "zstandard":
            return _ZstandardDecoder()
        if backend is not None:
            return _ZstdDecoder(importlib.import_module(backend))
    return None


def undecodable(encoding: str) -> str | None:
    """The first coding of a Content-Encoding value we cannot decode (unknown, or its
    decoder not installed), or None when every one can be."""
    for coding in _codings(encoding):
        if coding not in ("gzip", "x-gzip", "deflate"):
            if coding == "br" and _have("brotli"):
                continue
            if coding == "zstd" and zstd_backend() is not None:
                continue
            return coding
    return None


class DecodedBody:
    """A compressed response body on its way into the reader: the decoder, and the bound
    on its decoded size (``max_decompressed_size``; 0 = none) that stops a decompression
    bomb. Both protocols (HTTP/1.1 and each HTTP/2 stream) move output with it, so the
    bound and the pacing by the reader are the same on both."""

    __slots__ = ("decoded", "decoder", "limit")

    def __init__(self, decoder: Decoder, limit: int) -> None:
        self.decoder = decoder
        self.limit = limit
        self.decoded = 0

    def feed(self, data: bytes) -> None:
        self.decoder.feed(data)

    def pump(self, payload: StreamReader) -> None:
        """Move decoded output into ``payload`` while it is not paused (its reader then
        resumes the pumping). ClientPayloadError past the bound, or for corrupt input."""
        pull = self.decoder.pull
        while not payload.paused:
            piece = pull()
            if not piece:
                break
            self._count(len(piece))
            payload.feed_data(piece)

    def finish(self, payload: StreamReader) -> None:
        """The input ended: check the stream ended cleanly and feed its last output."""
        last = self.decoder.finish()
        self._count(len(last))
        payload.feed_data(last)

    def _count(self, n: int) -> None:
        self.decoded += n
        limit = self.limit
        if limit and self.decoded > limit:
            raise ClientPayloadError(
                f"decompressed body larger than max_decompressed_size={limit} bytes"
            )


def make_decoder(encoding: str | None) -> Decoder | None:
    """A decoder for a (lower-cased) Content-Encoding; None for identity (or none).
    A coding we cannot decode raises ClientPayloadError: handing out the still-encoded
    bytes as the body would be silent data corruption (see :func:`undecodable`)."""
    if not encoding:
        return None
    codings = _codings(encoding)
    stages = []
    for coding in reversed(codings):  # the last coding applied is undone first
        stage = _single_decoder(coding)
        if stage is None:
            raise ClientPayloadError(
                f"Can not decode content-encoding: {coding!r} "
                "(unknown, or its decoder is not installed)"
            )
        stages.append(stage)
    if not stages:
        return None
    return stages[0] if len(stages) == 1 else _ChainDecoder(stages)


def __getattr__(name: str) -> Any:
    # aiohttp.streams also holds its item queues; here they have a module of their own
    if name in ("DataQueue", "EofStream", "FlowControlDataQueue"):
        from . import data_queue

        return getattr(data_queue, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
