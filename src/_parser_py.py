"""Sans-IO HTTP/1.1 response parser (RFC 9112), pure-Python twin of ``_parser.pyx``.

Both twins implement the same class with the same behaviour, byte for byte: the same
sink calls with the same arguments, the same exception classes with the same offsets.
``cyhttp.http_parser`` picks one at import time.

API
---
::

    parser = HttpResponseParser(sink, *, max_line_size=8190, max_field_size=8190,
                                max_headers=128, lenient=False)
    parser.set_request_method("HEAD")   # before each response (default: GET)
    tail = parser.feed_data(data)       # None, or bytes after an upgrade
    parser.feed_eof()                   # the peer closed the connection

``set_request_method(method)`` tells the parser which request the next response answers
(method names are case-sensitive): ``HEAD`` means no body; ``CONNECT`` with a 2xx status
means the connection becomes a tunnel. It resets to GET after each complete message.

``feed_data(data)`` parses as much as it can and buffers the rest (a partial line). It
returns None, except after an upgrade (101 Switching Protocols, or 2xx to CONNECT): then it
returns the bytes that followed the head (``b""`` if none) and the parser is finished;
further ``feed_data`` calls hand their bytes straight back.

``feed_eof()`` reports the end of input: it completes a body delimited by the connection
close, raises :class:`IncompleteBody` in the middle of any other body and
:class:`BadStatusLine` / :class:`InvalidHeader` in the middle of a head. Between messages
it does nothing.

The sink receives, synchronously from ``feed_data``/``feed_eof``:

- ``on_informational(head)`` for each 1xx response other than 101 (100 Continue, 103 ...);
- ``on_headers(head)`` for the final response head, a :class:`~cyhttp._models.ResponseHead`;
- ``on_body(data)`` body bytes, de-chunked, never empty, as soon as they arrive;
- ``on_chunk_end()`` after each complete data chunk of a chunked body;
- ``on_message_complete()`` when the body is done (also for responses without a body).

Framing (RFC 9112 §6.3): no body for HEAD, 1xx, 204 and 304; ``Transfer-Encoding`` whose
last coding is ``chunked`` means chunked; another ``Transfer-Encoding`` means "read until
the connection closes"; otherwise ``Content-Length``; otherwise read until close.
``keep_alive`` is False for HTTP/1.0 without ``Connection: keep-alive``, with
``Connection: close``, for read-until-close bodies, for HTTP/1.0 with Transfer-Encoding,
and for upgrades. After a message with ``keep_alive`` the parser expects the next
response; after one without, any further bytes are ignored, never parsed.

Strictness: the parser rejects what RFC 9112 lets a recipient reject: a start line other
than ``HTTP/1.0`` / ``HTTP/1.1`` + 3-digit status (leading empty lines are skipped),
header names that are not tokens or have whitespace before the colon, control characters
(NUL, bare CR, ...) in values, obs-fold, bare LF line endings, Content-Length that is not
digits or disagrees with another one, Content-Length together with Transfer-Encoding,
``chunked`` applied twice, malformed chunk sizes and extensions. ``lenient=True`` relaxes
only what RFC 9112 allows a recipient to accept: a bare LF as a line terminator (§2.2) and
obs-fold in a response, replaced by one space (§5.2).

Limits, enforced also when the input comes in small pieces: ``max_line_size`` for the
status line and chunk-size lines, ``max_field_size`` for each header or trailer line,
``max_headers`` for the number of header plus trailer fields of one message.

Errors are :mod:`cyhttp.http_exceptions` classes: head problems are
:class:`BadHttpMessage` subclasses, body problems :class:`BadHttpPayload` subclasses. Each
carries ``offset``, the position of the offending byte in the whole response stream fed so
far (None at end of input). After an error the parser stays failed: every later call
raises the same error again. An exception raised by the sink propagates unchanged and
leaves the parser failed too (later calls raise :class:`BadHttpMessage`).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from ._models import HttpVersion10, HttpVersion11, ResponseHead
from .http_exceptions import (
    BadHttpMessage,
    BadStatusLine,
    HttpParserError,
    IncompleteBody,
    InvalidChunk,
    InvalidFraming,
    InvalidHeader,
    LineTooLong,
    TooManyHeaders,
)

__all__ = ("HttpResponseParser", "ResponseSink", "has_digit_run")


class ResponseSink(Protocol):
    """What the parser calls; any object with these methods will do."""

    def on_informational(self, head: ResponseHead) -> None: ...
    def on_headers(self, head: ResponseHead) -> None: ...
    def on_body(self, data: bytes) -> None: ...
    def on_chunk_end(self) -> None: ...
    def on_message_complete(self) -> None: ...


# parser states (the compiled twin uses the same numbers)
_START = 0  # before a status line (leading CRLFs are skipped here)
_HEADERS = 1  # inside the header block
_BODY_LENGTH = 2  # Content-Length body, self._remaining bytes to go
_BODY_EOF = 3  # body delimited by the connection close
_CHUNK_SIZE = 4  # expecting a chunk-size line
_CHUNK_DATA = 5  # inside chunk data, self._remaining bytes to go
_CHUNK_END = 6  # expecting the CRLF after chunk data
_TRAILERS = 7  # inside the trailer section
_CLOSED = 8  # done and not keep-alive: further bytes are ignored
_UPGRADED = 9  # 101 / CONNECT: further bytes belong to someone else
_FAILED = 10  # an error was raised

_REQ_OTHER = 0
_REQ_HEAD = 1
_REQ_CONNECT = 2

#: upper bound of Content-Length and of a chunk size (keeps the C twin in 64-bit ints)
MAX_LENGTH = 10**18
MAX_CHUNK_SIZE = (1 << 56) - 1

_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_WS = frozenset(b" \t")
# field-vchar / obs-text / SP / HTAB; everything else (NUL, CR, LF, other CTLs, DEL) is bad
_BAD_VALUE_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_BAD_NAME_BYTE = re.compile(rb"[^!#$%&'*+\-.^_`|~0-9A-Za-z]")

# The fast path: a whole head that is valid, matched in C by the re module. Anything it
# does not accept goes to the byte-exact slow path, which finds the precise error.
_STATUS_RE = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: ([\t\x20-\x7e\x80-\xff]*))?")
_FIELD = (
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*"
    rb"((?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?)[ \t]*\r\n"
)
_FIELDS_RE = re.compile(_FIELD)
_BLOCK_RE = re.compile(
    rb"(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[ \t]*"
    rb"(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?[ \t]*\r\n)*"
)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class HttpResponseParser:
    """Incremental HTTP/1.x response parser; see the module docstring for the contract."""

    __slots__ = (
        "_block_fields",
        "_buf",
        "_chunked",
        "_content_length",
        "_error",
        "_fields",
        "_keep_alive",
        "_lenient",
        "_max_field",
        "_max_headers",
        "_max_line",
        "_nfields",
        "_offset",
        "_on_body",
        "_on_chunk_end",
        "_on_headers",
        "_on_informational",
        "_on_message_complete",
        "_reason",
        "_remaining",
        "_request",
        "_state",
        "_status",
        "_version",
    )

    def __init__(
        self,
        sink: Any,
        *,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        lenient: bool = False,
    ) -> None:
        self._on_informational = sink.on_informational
        self._on_headers = sink.on_headers
        self._on_body = sink.on_body
        self._on_chunk_end = sink.on_chunk_end
        self._on_message_complete = sink.on_message_complete
        self._max_line = int(max_line_size)
        self._max_field = int(max_field_size)
        self._max_headers = int(max_headers)
        self._lenient = bool(lenient)
        self._buf = b""
        self._offset = 0  # stream offset of self._buf[0]
        self._state = _START
        self._error: HttpParserError | None = None
        self._request = _REQ_OTHER
        self._version = HttpVersion11
        self._status = 0
        self._reason = ""
        self._fields: list[tuple[bytes, bytes]] = []
        self._nfields = 0
        self._block_fields = 0
        self._remaining = 0
        self._keep_alive = True
        self._chunked = False
        self._content_length: int | None = None

    # -- public API ---------------------------------------------------------------

    def set_request_method(self, method: str) -> None:
        """Say which request the next response answers (HEAD and CONNECT change framing)."""
        if method == "HEAD":
            self._request = _REQ_HEAD
        elif method == "CONNECT":
            self._request = _REQ_CONNECT
        else:
            self._request = _REQ_OTHER

    def feed_data(self, data: bytes) -> bytes | None:
        """Parse ``data``; return None, or the bytes after the head of an upgrade."""
        state = self._state
        if state >= _CLOSED:
            if state == _CLOSED:
                return None
            if state == _UPGRADED:
                return bytes(data)
            raise self._again()
        buf = self._buf + data if self._buf else data if type(data) is bytes else bytes(data)
        try:
            return self._parse(buf)
        except HttpParserError as exc:
            self._fail(exc)
            raise
        except BaseException:
            # a sink callback raised with the input half consumed: stop here for good
            self._fail(BadHttpMessage("parsing was stopped by an exception in the sink"))
            raise

    def feed_eof(self) -> None:
        """The input ended: finish a read-until-close body, or raise if mid-message."""
        state = self._state
        if state == _FAILED:
            raise self._again()
        if state >= _CLOSED:
            return
        exc: HttpParserError
        if state == _START:
            if not self._buf:
                return
            exc = BadStatusLine("input ended inside the status line")
        elif state == _HEADERS:
            exc = InvalidHeader("input ended inside the header block")
        elif state == _BODY_EOF:
            self._state = _CLOSED
            self._on_message_complete()
            return
        elif state == _BODY_LENGTH:
            exc = IncompleteBody(f"input ended with {self._remaining} body bytes missing")
        else:
            exc = IncompleteBody("input ended inside a chunked body")
        self._fail(exc)
        raise exc

    def body_remaining(self) -> int:
        """Bytes of a Content-Length body still to come while the parser is inside one
        (it then holds no input back), else -1. With :meth:`body_received`, a connection
        may receive the rest of a large body straight into its final buffer."""
        if self._state == _BODY_LENGTH:
            return self._remaining
        return -1

    def body_received(self, n: int) -> None:
        """``n`` bytes of the Content-Length body arrived outside :meth:`feed_data` (the
        caller delivered them): count them; the message completes when none remain."""
        if self._state != _BODY_LENGTH or n <= 0 or n > self._remaining:
            raise RuntimeError(
                f"{n} body bytes received outside the parser, with {self.body_remaining()} expected"
            )
        self._remaining -= n
        self._offset += n
        if not self._remaining:
            try:
                self._complete()
            except BaseException:
                self._fail(BadHttpMessage("parsing was stopped by an exception in the sink"))
                raise

    # -- internals ----------------------------------------------------------------

    def _fail(self, exc: HttpParserError) -> None:
        self._state = _FAILED
        self._error = exc
        self._buf = b""

    def _again(self) -> HttpParserError:
        err = self._error
        assert err is not None
        return type(err)(err.message, err.offset)

    def _parse(self, buf: bytes) -> bytes | None:
        n = len(buf)
        pos = 0
        state = self._state
        while pos < n:
            if state == _START:
                pos = self._skip_empty_lines(buf, pos, n)
                if pos >= n or buf[pos] == 13:  # all consumed, or a lone CR waits for LF
                    break
                fast = self._fast_head(buf, pos)
                if fast >= 0:
                    pos = fast
                else:
                    eol = self._line_end(buf, pos, n, self._max_line, BadStatusLine, "status line")
                    if eol < 0:
                        break
                    self._status_line(buf, pos, eol)
                    pos = eol + 1
                    state = self._state = _HEADERS
                    continue
                state = self._state
                if state == _UPGRADED:
                    return self._upgraded(buf, pos)
            elif state in (_HEADERS, _TRAILERS):
                trailers = state == _TRAILERS
                err = InvalidChunk if trailers else InvalidHeader
                if buf[pos] in _WS and not (self._lenient and self._block_fields):
                    raise err(
                        "whitespace at the start of a header line (obs-fold)", self._offset + pos
                    )
                eol = self._line_end(buf, pos, n, self._max_field, err, "header line")
                if eol < 0:
                    break
                end = eol if buf[eol - 1] != 13 else eol - 1
                if end == pos:  # the empty line
                    pos = eol + 1
                    if trailers:
                        self._complete()
                    else:
                        self._head_complete()
                    state = self._state
                    if state == _UPGRADED:
                        return self._upgraded(buf, pos)
                    continue
                self._field_line(buf, pos, end, trailers)
                pos = eol + 1
            elif state == _BODY_LENGTH:
                pos = self._take_body(buf, pos, n)
                if not self._remaining:
                    self._complete()
                    state = self._state
            elif state == _BODY_EOF:
                self._on_body(buf[pos:] if pos else buf)
                pos = n
            elif state == _CHUNK_SIZE:
                eol = self._line_end(buf, pos, n, self._max_line, InvalidChunk, "chunk-size line")
                if eol < 0:
                    break
                end = eol if buf[eol - 1] != 13 else eol - 1
                size = self._chunk_size(buf, pos, end)
                pos = eol + 1
                if size:
                    self._remaining = size
                    state = self._state = _CHUNK_DATA
                else:
                    self._block_fields = 0
                    state = self._state = _TRAILERS
            elif state == _CHUNK_DATA:
                pos = self._take_body(buf, pos, n)
                if not self._remaining:
                    state = self._state = _CHUNK_END
            elif state == _CHUNK_END:
                c = buf[pos]
                if c == 13:
                    if pos + 1 >= n:
                        break
                    if buf[pos + 1] != 10:
                        raise InvalidChunk("expected LF after chunk data", self._offset + pos + 1)
                    pos += 2
                elif c == 10 and self._lenient:
                    pos += 1
                else:
                    raise InvalidChunk("expected CRLF after chunk data", self._offset + pos)
                state = self._state = _CHUNK_SIZE
                self._on_chunk_end()
            elif state == _CLOSED:
                pos = n
            else:  # _UPGRADED
                return self._upgraded(buf, pos)
        self._offset += pos
        self._buf = buf[pos:] if pos < n else b""
        return None

    def _upgraded(self, buf: bytes, pos: int) -> bytes:
        self._offset += pos
        self._buf = b""
        return buf[pos:]

    def _skip_empty_lines(self, buf: bytes, pos: int, n: int) -> int:
        """Skip CRLFs before a status line (RFC 9112 §2.2); a lone CR at the end waits."""
        while pos < n:
            c = buf[pos]
            if c == 13:
                if pos + 1 >= n:
                    return pos
                if buf[pos + 1] != 10:
                    raise BadStatusLine("bare CR before the status line", self._offset + pos)
                pos += 2
            elif c == 10:
                if not self._lenient:
                    raise BadStatusLine("bare LF before the status line", self._offset + pos)
                pos += 1
            else:
                return pos
        return pos

    def _take_body(self, buf: bytes, pos: int, n: int) -> int:
        """Deliver up to ``_remaining`` body bytes of ``buf`` from ``pos`` (a Content-Length
        body or one chunk's data) and return the position after them."""
        take = self._remaining
        if take >= n - pos:
            take = n - pos
            self._on_body(buf[pos:] if pos else buf)
        else:
            self._on_body(buf[pos : pos + take])
        self._remaining -= take
        return pos + take

    def _line_end(
        self, buf: bytes, pos: int, n: int, limit: int, err: type[HttpParserError], what: str
    ) -> int:
        """Index of the LF ending the line at ``pos``, or -1 when it is not there yet.

        Checks the length limit (also on a partial line) and, when strict, the CR before LF.
        """
        eol = buf.find(b"\n", pos)
        if eol < 0:
            if n - pos > limit + 1:
                raise self._too_long(err, what, limit, pos)
            return -1
        end = eol - 1 if eol > pos and buf[eol - 1] == 13 else eol
        if end - pos > limit:
            raise self._too_long(err, what, limit, pos)
        if end == eol and not self._lenient:
            raise err(f"bare LF at the end of a {what}", self._offset + eol)
        return eol

    def _too_long(
        self, err: type[HttpParserError], what: str, limit: int, pos: int
    ) -> HttpParserError:
        cls = LineTooLong if err is not InvalidChunk else InvalidChunk
        return cls(f"{what} longer than {limit} bytes", self._offset + pos)

    def _fast_head(self, buf: bytes, pos: int) -> int:
        """Parse a whole, valid head in one go; -1 sends the caller to the slow path."""
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            return -1
        sl_end = buf.find(b"\r\n", pos)
        if sl_end - pos > self._max_line:
            return -1
        m = _STATUS_RE.fullmatch(buf, pos, sl_end)
        if m is None:
            return -1
        if end > sl_end:
            start = sl_end + 2
            stop = end + 2
            if stop - start > self._max_field and any(
                len(line) > self._max_field for line in buf[start:end].split(b"\r\n")
            ):
                return -1
            if _BLOCK_RE.fullmatch(buf, start, stop) is None:
                return -1
            fields = _FIELDS_RE.findall(buf, start, stop)
            if len(fields) > self._max_headers:
                return -1
        else:
            fields = []
        self._version = HttpVersion11 if m.group(1) == b"1" else HttpVersion10
        self._status = int(m.group(2))
        reason = m.group(3)
        self._reason = _decode(reason) if reason else ""
        self._fields = fields
        self._nfields = len(fields)
        self._head_complete()
        return end + 4

    def _status_line(self, buf: bytes, pos: int, eol: int) -> None:
        end = eol if buf[eol - 1] != 13 else eol - 1
        line = buf[pos:end]
        n = len(line)
        base = self._offset + pos
        for i, c in enumerate(b"HTTP/"):
            if i >= n or line[i] != c:
                raise BadStatusLine("expected 'HTTP/' at the start of the status line", base + i)
        if n <= 5 or line[5] != 49:
            raise BadStatusLine("unsupported HTTP version", base + 5)
        if n <= 6 or line[6] != 46:
            raise BadStatusLine("unsupported HTTP version", base + 6)
        if n <= 7 or line[7] not in (48, 49):
            raise BadStatusLine("unsupported HTTP version", base + 7)
        if n <= 8 or line[8] != 32:
            raise BadStatusLine("expected one space after the HTTP version", base + 8)
        for i in (9, 10, 11):
            if i >= n or not (49 if i == 9 else 48) <= line[i] <= 57:
                raise BadStatusLine("invalid status code", base + i)
        if n > 12:
            if line[12] != 32:
                raise BadStatusLine("expected a space after the status code", base + 12)
            bad = _BAD_VALUE_BYTE.search(line, 13)
            if bad is not None:
                raise BadStatusLine("invalid character in the reason phrase", base + bad.start())
            self._reason = _decode(line[13:])
        else:
            self._reason = ""
        self._version = HttpVersion11 if line[7] == 49 else HttpVersion10
        self._status = int(line[9:12])
        self._fields = []
        self._nfields = 0
        self._block_fields = 0

    def _field_line(self, buf: bytes, pos: int, end: int, trailers: bool) -> None:
        """Validate one header (or trailer) line ``buf[pos:end]`` and store the field."""
        err = InvalidChunk if trailers else InvalidHeader
        base = self._offset
        if buf[pos] in _WS:  # lenient obs-fold: append to the previous field's value
            vs, ve = _field_value(buf, pos, end, err, base)
            if not trailers and ve > vs:
                name, value = self._fields[-1]
                self._fields[-1] = (name, value + b" " + buf[vs:ve] if value else buf[vs:ve])
            return
        if self._nfields >= self._max_headers:
            cls = TooManyHeaders if not trailers else InvalidChunk
            raise cls(f"more than {self._max_headers} header fields", base + pos)
        colon = buf.find(b":", pos, end)
        name_end = colon if colon >= 0 else end
        bad = _BAD_NAME_BYTE.search(buf, pos, name_end)
        if bad is not None:
            raise err("invalid character in a header name", base + bad.start())
        if colon < 0:
            raise err("missing colon in a header line", base + end)
        if colon == pos:
            raise err("empty header name", base + pos)
        vs, ve = _field_value(buf, colon + 1, end, err, base)
        self._nfields += 1
        self._block_fields += 1
        if not trailers:
            self._fields.append((buf[pos:colon], buf[vs:ve]))

    def _chunk_size(self, buf: bytes, pos: int, end: int) -> int:
        """Parse ``chunk-size [chunk-ext]`` (RFC 9112 §7.1); extensions are checked, dropped."""
        base = self._offset
        i = pos
        size = 0
        while i < end and buf[i] in _HEX:
            i += 1
        if i == pos:
            raise InvalidChunk("invalid chunk size", base + pos)
        size = int(buf[pos:i], 16)
        if size > MAX_CHUNK_SIZE:
            raise InvalidChunk("chunk size too large", base + pos)
        while i < end:
            j = i
            while j < end and buf[j] in _WS:
                j += 1
            if j == end or buf[j] != 59:  # ';'
                raise InvalidChunk("invalid chunk extension", base + j)
            j += 1
            while j < end and buf[j] in _WS:
                j += 1
            k = j
            while k < end and buf[k] in _TCHAR:
                k += 1
            if k == j:
                raise InvalidChunk("invalid chunk extension name", base + j)
            i = k
            while k < end and buf[k] in _WS:
                k += 1
            if k < end and buf[k] == 61:  # '='
                k += 1
                while k < end and buf[k] in _WS:
                    k += 1
                if k < end and buf[k] == 34:  # '"'
                    k += 1
                    while True:
                        if k >= end:
                            raise InvalidChunk("unterminated quoted chunk extension", base + k)
                        c = buf[k]
                        if c == 34:
                            k += 1
                            break
                        if c == 92:  # backslash: quoted-pair
                            k += 1
                            if k >= end or ((c := buf[k]) < 32 and c != 9) or c == 127:
                                raise InvalidChunk("invalid quoted-pair in chunk ext", base + k)
                        elif (c < 32 and c != 9) or c == 127:
                            raise InvalidChunk("invalid character in chunk extension", base + k)
                        k += 1
                else:
                    j = k
                    while k < end and buf[k] in _TCHAR:
                        k += 1
                    if k == j:
                        raise InvalidChunk("invalid chunk extension value", base + j)
                i = k
        return size

    def _head_complete(self) -> None:
        """The empty line after the header block: decide the framing and tell the sink."""
        status = self._status
        version = self._version
        fields = self._fields
        close = False
        ka_token = False
        cl_raw: list[bytes] | None = None
        te_raw: list[bytes] | None = None
        enc_raw: list[bytes] | None = None
        for name, value in fields:
            ln = len(name)
            if ln == 10:
                if name.lower() == b"connection":
                    for token in value.split(b","):
                        token = token.strip(b" \t").lower()
                        if token == b"close":
                            close = True
                        elif token == b"keep-alive":
                            ka_token = True
            elif ln == 14:
                if name.lower() == b"content-length":
                    if cl_raw is None:
                        cl_raw = []
                    cl_raw.append(value)
            elif ln == 16:
                if name.lower() == b"content-encoding":
                    if enc_raw is None:
                        enc_raw = []
                    enc_raw.append(value)
            elif ln == 17 and name.lower() == b"transfer-encoding":
                if te_raw is None:
                    te_raw = []
                te_raw.append(value)
        keep_alive = not close if version is HttpVersion11 else ka_token and not close
        encoding = _decode(b", ".join(enc_raw).lower()) if enc_raw is not None else None
        raw_headers = tuple(fields)
        request = self._request
        if status == 101 or (request == _REQ_CONNECT and 200 <= status < 300):
            head = ResponseHead(
                version, status, self._reason, raw_headers, False, True, False, None, encoding
            )
            self._state = _UPGRADED
            self._on_headers(head)
            self._on_message_complete()
            return
        if status < 200:
            head = ResponseHead(
                version,
                status,
                self._reason,
                raw_headers,
                keep_alive,
                False,
                False,
                None,
                encoding,
            )
            self._state = _START
            self._on_informational(head)
            return
        content_length = _content_length(cl_raw) if cl_raw is not None else None
        chunked = False
        if te_raw is not None:
            if content_length is not None:
                raise InvalidFraming("both Content-Length and Transfer-Encoding")
            chunked = _te_is_chunked(te_raw)
            if version is HttpVersion10:
                keep_alive = False  # RFC 9112 §6.1: faulty framing, close after it
        if request == _REQ_HEAD or status == 204 or status == 304:
            state = _CLOSED
        elif chunked:
            state = _CHUNK_SIZE
        elif te_raw is not None or content_length is None:
            state = _BODY_EOF
            keep_alive = False
        elif content_length:
            state = _BODY_LENGTH
            self._remaining = content_length
        else:
            state = _CLOSED
        head = ResponseHead(
            version,
            status,
            self._reason,
            raw_headers,
            keep_alive,
            False,
            chunked,
            content_length,
            encoding,
        )
        self._keep_alive = keep_alive
        if state == _CLOSED:  # no body
            self._on_headers(head)
            self._complete()
        else:
            self._state = state
            self._on_headers(head)

    def _complete(self) -> None:
        self._request = _REQ_OTHER
        self._state = _START if self._keep_alive else _CLOSED
        self._on_message_complete()


def _content_length(values: list[bytes]) -> int:
    """The one Content-Length that all fields (and list elements) agree on."""
    result = -1
    for value in values:
        for item in value.split(b","):
            item = item.strip(b" \t")
            if not item.isdigit() or not item.isascii():
                raise InvalidFraming(f"invalid Content-Length {value!r}")
            length = int(item)
            if length > MAX_LENGTH:
                raise InvalidFraming(f"Content-Length {value!r} is too large")
            if result >= 0 and length != result:
                raise InvalidFraming("conflicting Content-Length values")
            result = length
    return result


def _te_is_chunked(values: list[bytes]) -> bool:
    """True when ``chunked`` is the last transfer coding; error when it is applied twice."""
    last = b""
    seen = False
    for value in values:
        for item in value.split(b","):
            item = item.strip(b" \t").lower()
            if not item:
                continue
            if item == b"chunked":
                if seen:
                    raise InvalidFraming("Transfer-Encoding applies chunked more than once")
                seen = True
            last = item
    return last == b"chunked"


def _field_value(
    buf: bytes, vs: int, ve: int, err: type[HttpParserError], base: int
) -> tuple[int, int]:
    """Bounds of a field value in ``buf[vs:ve]`` with OWS trimmed; ``err`` at the first byte
    a field value may not hold (NUL, CR, LF, other controls)."""
    while vs < ve and buf[vs] in _WS:
        vs += 1
    while ve > vs and buf[ve - 1] in _WS:
        ve -= 1
    bad = _BAD_VALUE_BYTE.search(buf, vs, ve)
    if bad is not None:
        raise err("invalid character in a header value", base + bad.start())
    return vs, ve


#: every byte to a space, except the ASCII digits, which become "0" (see has_digit_run)
_DIGITS_TO_ZERO = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))


def has_digit_run(data: bytes, length: int) -> bool:
    """True when ``data`` holds ``length`` ASCII digits in a row. A body scan the JSON fast
    path needs (orjson reads an integer beyond 64 bits as a float)."""
    return b"0" * length in data.translate(_DIGITS_TO_ZERO)
