"""Multipart bodies (RFC 2046, RFC 7578) and Content-Disposition parsing (RFC 6266).

:class:`MultipartWriter` is a :class:`~cyhttp.payload.Payload` made of other payloads
(nested writers included): ``data=writer`` sends it, with a Content-Length when every
part's size is known and chunked otherwise. Parts are streamed: a file part is read piece
by piece while the request is written. A part's ``Content-Transfer-Encoding`` (base64,
quoted-printable) and ``Content-Encoding`` (gzip, deflate) headers are applied as it is
written, as aiohttp does for ``multipart/mixed``.

:func:`parse_content_disposition` reads a Content-Disposition header (quoted strings with
backslash escapes, RFC 5987/2231 ``name*=charset'lang'%xx`` values and ``name*0``
continuations) and :func:`content_disposition_filename` picks the filename out of it.
A malformed header gives ``(None, {})`` with a :class:`BadContentDispositionHeader`
warning, as in aiohttp.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import uuid
import warnings
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlencode

from multidict import CIMultiDict

from .payload import JsonPayload, Payload, StringPayload, get_payload
from .payload import LookupError as PayloadLookupError

__all__ = (
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "MultipartWriter",
    "content_disposition_filename",
    "parse_content_disposition",
)

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: RFC 2046 §5.1.1 boundary characters (a space may not end it)
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_CONTINUATION = re.compile(r"(.+)\*(\d+)\*?")


class BadContentDispositionHeader(RuntimeWarning):
    """A Content-Disposition header could not be parsed (it is ignored)."""


class BadContentDispositionParam(RuntimeWarning):
    """One Content-Disposition parameter could not be parsed (it is skipped)."""


# ----- Content-Disposition parsing -----


def _split_params(rest: str) -> list[tuple[str, str, bool]] | None:
    """``; key=value`` items as (key, value, was_quoted); None when malformed (a
    parameter without ``=``, an unterminated quoted string, junk after a quote)."""
    items: list[tuple[str, str, bool]] = []
    i, n = 0, len(rest)
    while i < n:
        if rest[i] in "; \t":
            i += 1
            continue
        eq = rest.find("=", i)
        semi = rest.find(";", i)
        if eq < 0 or (0 <= semi < eq):
            return None
        key = rest[i:eq].strip()
        i = eq + 1
        while i < n and rest[i] in " \t":
            i += 1
        if i < n and rest[i] == '"':
            chars = []
            i += 1
            while i < n and rest[i] != '"':
                if rest[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(rest[i])
                i += 1
            if i >= n:
                return None
            i += 1
            tail_end = rest.find(";", i)
            tail = rest[i:] if tail_end < 0 else rest[i:tail_end]
            if tail.strip():
                return None
            i = n if tail_end < 0 else tail_end
            items.append((key, "".join(chars), True))
        else:
            end = rest.find(";", i)
            end = n if end < 0 else end
            items.append((key, rest[i:end].strip(), False))
            i = end
    return items


def _decode_extended(value: str) -> str | None:
    """An RFC 5987 ``charset'lang'%xx`` value decoded; None if malformed or undecodable."""
    parts = value.split("'", 2)
    if len(parts) != 3 or not _TOKEN.fullmatch(value.replace("'", "x")):
        return None
    charset, _, encoded = parts
    try:
        codecs.lookup(charset or "utf-8")
        return unquote(encoded, charset or "utf-8", "strict")
    except (UnicodeDecodeError, LookupError, ValueError):  # LookupError: unknown charset
        return None


def parse_content_disposition(header: str | None) -> tuple[str | None, dict[str, str]]:
    """(disposition type lower-cased, parameters with lower-cased names).

    ``name*`` parameters are decoded from their charset; continuation parameters
    (``name*0``, ``name*1*``...) are kept as sent, for :func:`content_disposition_filename`.
    """
    if not header:
        return None, {}
    disptype, _, rest = header.partition(";")
    disptype = disptype.strip()
    if not _TOKEN.fullmatch(disptype):
        warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
        return None, {}
    items = _split_params(rest)
    if items is None:
        warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
        return None, {}
    params: dict[str, str] = {}
    for key, value, quoted in items:
        key = key.lower()
        if key in params:
            warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
            return None, {}
        if not _TOKEN.fullmatch(key):
            warnings.warn(BadContentDispositionParam(f"{key}={value}"), stacklevel=2)
            continue
        if _CONTINUATION.fullmatch(key):
            if not quoted and not _TOKEN.fullmatch(value):
                warnings.warn(BadContentDispositionParam(f"{key}={value}"), stacklevel=2)
                continue
        elif key.endswith("*"):
            decoded = None if quoted else _decode_extended(value)
            if decoded is None:
                warnings.warn(BadContentDispositionParam(f"{key}={value}"), stacklevel=2)
                continue
            value = decoded
        elif quoted:
            value = value.lstrip("\\/")  # no absolute or UNC-looking paths from a peer
        elif not _TOKEN.fullmatch(value):
            warnings.warn(BadContentDispositionHeader(header), stacklevel=2)
            return None, {}
        params[key] = value
    return disptype.lower(), params


def content_disposition_filename(params: Mapping[str, str], name: str = "filename") -> str | None:
    """The value of parameter ``name`` (``filename`` by default): the extended
    ``name*`` form first, then plain ``name``, then ``name*0``, ``name*1``... joined."""
    if not params:
        return None
    if f"{name}*" in params:
        return params[f"{name}*"]
    if name in params:
        return params[name]
    pieces: list[str] = []
    extended = False
    index = 0
    while True:
        if f"{name}*{index}*" in params:
            pieces.append(params[f"{name}*{index}*"])
            extended = extended or index == 0
        elif f"{name}*{index}" in params:
            pieces.append(params[f"{name}*{index}"])
        else:
            break
        index += 1
    if not pieces:
        return None
    value = "".join(pieces)
    if extended:
        charset, _, rest = value.partition("'")
        _, _, encoded = rest.partition("'")
        try:
            return unquote(encoded, charset or "utf-8", "strict")
        except (UnicodeDecodeError, LookupError, ValueError):
            return value
    return value


# ----- writing -----


class _PartEncoder:
    """A writer applying a part's Content-Encoding, then its Content-Transfer-Encoding
    (base64 in 76-character CRLF lines, or quoted-printable), before the real writer."""

    def __init__(self, writer: Any, content_encoding: str | None, transfer: str | None) -> None:
        self._writer = writer
        self._transfer = transfer
        self._pending = b""
        self._zlib: Any = None
        if content_encoding == "gzip":
            self._zlib = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
        elif content_encoding == "deflate":
            # raw deflate: what aiohttp's multipart reader expects in a part
            self._zlib = zlib.compressobj(wbits=-zlib.MAX_WBITS)

    async def write(self, data: Any) -> None:
        data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if self._zlib is not None:
            data = self._zlib.compress(data)
        await self._transfer_encode(data, final=False)

    async def _transfer_encode(self, data: bytes, *, final: bool) -> None:
        if self._transfer == "base64":
            data = self._pending + data
            keep = 0 if final else len(data) % 57
            whole, self._pending = data[: len(data) - keep], data[len(data) - keep :]
            if whole:
                await self._writer.write(base64.encodebytes(whole).replace(b"\n", b"\r\n"))
        elif self._transfer == "quoted-printable":
            if data:
                # binary-safe: CR and LF in the data are escaped (=0D, =0A), so the only
                # line breaks are soft ones, written as CRLF
                qp = binascii.b2a_qp(data, istext=False).replace(b"\n", b"\r\n")
                await self._writer.write(qp)
        elif data:
            await self._writer.write(data)

    async def finish(self) -> None:
        tail = self._zlib.flush() if self._zlib is not None else b""
        await self._transfer_encode(tail, final=True)


def _check_boundary(boundary: str) -> str:
    if not isinstance(boundary, str):
        raise TypeError(f"boundary must be str, got {type(boundary).__name__}")
    if not boundary.isascii():
        raise ValueError("boundary should contain ASCII only chars")
    if not _BOUNDARY.fullmatch(boundary):
        raise ValueError(f"invalid multipart boundary {boundary!r} (RFC 2046 §5.1.1)")
    return boundary


class MultipartWriter(Payload):
    """A multipart body of payload parts. ``subtype`` is ``mixed``, ``form-data``,
    ``related``...; ``boundary`` defaults to 32 random hex digits."""

    _autoclose = True

    def __init__(self, subtype: str = "mixed", boundary: str | None = None) -> None:
        boundary = uuid.uuid4().hex if boundary is None else _check_boundary(boundary)
        if not _TOKEN.fullmatch(subtype):
            raise ValueError(f"invalid multipart subtype {subtype!r}")
        self._boundary = boundary.encode("ascii")
        value = boundary if _TOKEN.fullmatch(boundary) else f'"{boundary}"'
        super().__init__(None, content_type=f"multipart/{subtype}; boundary={value}")
        self._parts: list[tuple[Payload, str | None, str | None]] = []
        self._is_form_data = subtype == "form-data"

    # ----- container protocol -----

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    async def __aenter__(self) -> MultipartWriter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    def __iter__(self) -> Iterator[tuple[Payload, str | None, str | None]]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __bool__(self) -> bool:
        return True

    @property
    def boundary(self) -> str:
        return self._boundary.decode("ascii")

    # ----- building -----

    def append(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add ``obj`` (a Payload, or anything :func:`~cyhttp.payload.get_payload`
        takes) as a part, with extra ``headers``."""
        if isinstance(obj, Payload):
            if headers:
                obj.headers.update(headers)
            return self.append_payload(obj)
        try:
            part = get_payload(obj, headers=CIMultiDict(headers or {}))
        except PayloadLookupError:
            raise TypeError(f"Cannot create payload from {obj!r}") from None
        return self.append_payload(part)

    def append_payload(self, payload: Payload) -> Payload:
        """Add a payload as a part. In ``form-data`` a part gets a default
        ``Content-Disposition: form-data; name="section-N"``; in other subtypes a part
        of known size and no encoding gets a Content-Length header."""
        headers = payload.headers
        encoding = headers.get("Content-Encoding", "").lower() or None
        if encoding == "identity":
            encoding = None
        if encoding not in (None, "gzip", "deflate"):
            raise RuntimeError(f"unknown content encoding: {encoding}")
        transfer = headers.get("Content-Transfer-Encoding", "").lower() or None
        if transfer in ("binary", "7bit", "8bit"):
            transfer = None
        if transfer not in (None, "base64", "quoted-printable"):
            raise RuntimeError(f"unknown content transfer encoding: {transfer}")
        if self._is_form_data:
            if "Content-Disposition" not in headers:
                payload.set_content_disposition("form-data", name=f"section-{len(self._parts)}")
            headers.popall("Content-Length", None)  # RFC 7578 §4.8: not in form-data
        elif payload.size is not None and not (encoding or transfer):
            headers["Content-Length"] = str(payload.size)
        self._parts.append((payload, encoding, transfer))
        return payload

    def _append_encoded(self, payload: Payload) -> None:
        """Add a part whose content is already in its final (transfer-encoded) form."""
        self._parts.append((payload, None, None))

    def append_json(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add ``obj`` serialised as an ``application/json`` part."""
        return self.append_payload(JsonPayload(obj, headers=CIMultiDict(headers or {})))

    def append_form(
        self,
        obj: Sequence[tuple[str, str]] | Mapping[str, str],
        headers: Mapping[str, str] | None = None,
    ) -> Payload:
        """Add pairs (or a mapping) as an ``application/x-www-form-urlencoded`` part."""
        if not isinstance(obj, (Sequence, Mapping)):
            raise TypeError(f"append_form takes pairs or a mapping, got {type(obj).__name__}")
        pairs = list(obj.items()) if isinstance(obj, Mapping) else list(obj)
        return self.append_payload(
            StringPayload(
                urlencode(pairs, doseq=True),
                headers=CIMultiDict(headers or {}),
                content_type="application/x-www-form-urlencoded",
            )
        )

    # ----- output -----

    @property
    def size(self) -> int | None:
        """The body's length, or None when a part's size is unknown or encoded."""
        delimiter = len(self._boundary) + 4  # "--" boundary CRLF
        total = 0
        for part, encoding, transfer in self._parts:
            size = part.size
            if size is None or encoding or transfer:
                return None
            total += delimiter + len(part._binary_headers) + size + 2
        return total + len(self._boundary) + 6  # "--" boundary "--" CRLF

    @property
    def consumed(self) -> bool:
        return self._consumed or any(part.consumed for part, _, _ in self._parts)

    def _rewind(self) -> None:
        for part, _, _ in self._parts:
            part._rewind()

    async def write(self, writer: Any, close_boundary: bool = True) -> None:
        """Write every part, then (unless ``close_boundary`` is false, for endless
        ``x-mixed-replace`` streams) the closing delimiter."""
        for part, encoding, transfer in self._parts:
            await writer.write(b"--" + self._boundary + b"\r\n" + part._binary_headers)
            if encoding or transfer:
                encoder = _PartEncoder(writer, encoding, transfer)
                await part.write(encoder)
                await encoder.finish()
            else:
                await part.write(writer)
            await writer.write(b"\r\n")
        if close_boundary:
            await writer.write(b"--" + self._boundary + b"--\r\n")

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        chunks: list[bytes] = []

        class _Collect:
            async def write(self, data: Any) -> None:
                chunks.append(data.encode("utf-8") if isinstance(data, str) else bytes(data))

        await self.write(_Collect())
        return b"".join(chunks)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The body as text, for in-memory parts (a streamed part cannot be decoded
        without reading it: use :meth:`as_bytes`)."""
        out = []
        for part, _, _ in self._parts:
            out.append("--" + self.boundary + "\r\n")
            out.append(part._binary_headers.decode(encoding, errors))
            out.append(part.decode(encoding, errors) + "\r\n")
        out.append("--" + self.boundary + "--\r\n")
        return "".join(out)

    async def close(self) -> None:
        """Close the parts that hold resources (files)."""
        if self._consumed:
            return
        self._consumed = True
        for part, _, _ in self._parts:
            if not part.autoclose and not part.consumed:
                await part.close()


def __getattr__(name: str) -> Any:
    # the readers live in their own module (which imports this one): reachable here too,
    # as ``aiohttp.multipart.MultipartReader`` is
    if name in ("BodyPartReader", "MultipartReader", "MultipartResponseWrapper"):
        from . import multipart_reader

        return getattr(multipart_reader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
