"""``FormData``: HTML form bodies, as aiohttp users build them.

A form with only text fields is sent as ``application/x-www-form-urlencoded``. A form
with a file, a bytes value, a filename, a content type or a transfer encoding on any
field is sent as ``multipart/form-data`` (RFC 7578) with a random boundary.

Multipart bodies are streamed: file objects are read piece by piece while the request is
written, never whole. When every part's size is known (bytes, seekable files) the body
gets a Content-Length; otherwise it is sent chunked. Such a body can be sent only once
(the files are consumed), as in aiohttp.

Field names and filenames are written as the WHATWG HTML standard says browsers do: as
UTF-8 inside double quotes, with ``"``, CR and LF percent-encoded (``%22``, ``%0D``,
``%0A``); RFC 7578 §4.2 rules out the ``filename*=`` form for multipart/form-data.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import quopri
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from multidict import MultiDict, MultiDictProxy

from .helpers import file_remaining, is_file_like

__all__ = ("FormData", "needs_multipart", "quote_param")

_PIECE = 1 << 16
_TRANSFER_ENCODINGS = frozenset(("base64", "quoted-printable", "binary", "7bit", "8bit"))
_ESCAPES = str.maketrans({'"': "%22", "\r": "%0D", "\n": "%0A"})


def quote_param(value: str) -> str:
    """A ``name``/``filename`` value, double-quoted, escaped as browsers do."""
    return '"' + value.translate(_ESCAPES) + '"'


def _check_header_value(what: str, value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise ValueError(f"{what} must not contain CR, LF or NUL: {value!r}")
    return value


def needs_multipart(data: Any) -> bool:
    """True for a mapping or list of pairs with a file or bytes value: such ``data=`` is
    sent as multipart (urlencoding would lose the file)."""
    if isinstance(data, (Mapping, MultiDict, MultiDictProxy)):
        values: Iterable[Any] = data.values()
    elif isinstance(data, (list, tuple)) and all(
        isinstance(i, tuple) and len(i) == 2 for i in data
    ):
        values = (v for _, v in data)
    else:
        return False
    return any(is_file_like(v) or isinstance(v, (bytes, bytearray, memoryview)) for v in values)


class _Field:
    __slots__ = ("content_type", "filename", "name", "transfer_encoding", "value")

    def __init__(
        self,
        name: str,
        value: Any,
        content_type: str | None,
        filename: str | None,
        transfer_encoding: str | None,
    ) -> None:
        self.name = name
        self.value = value
        self.content_type = content_type
        self.filename = filename
        self.transfer_encoding = transfer_encoding


class FormData:
    """Fields of an HTML form, turned into a request body by ``data=FormData(...)``.

    ``fields`` is anything :meth:`add_fields` accepts. ``charset`` encodes text values
    (default UTF-8). ``quote_fields`` is accepted for aiohttp compatibility: names are
    always escaped as described in the module docstring.
    """

    def __init__(
        self,
        fields: Any = (),
        quote_fields: bool = True,
        charset: str | None = None,
        *,
        boundary: str | None = None,
    ) -> None:
        self._fields: list[_Field] = []
        self._is_multipart = False
        self._quote_fields = quote_fields
        self._charset = charset
        self._consumed = False
        if boundary is None:
            boundary = os.urandom(16).hex()
        elif not (0 < len(boundary) <= 70) or not all(
            c.isascii() and (c.isalnum() or c in "'()+_,-./:=?") for c in boundary
        ):
            raise ValueError(f"invalid multipart boundary {boundary!r} (RFC 2046 §5.1.1)")
        self._boundary = boundary
        if isinstance(fields, (Mapping, MultiDict, MultiDictProxy)):
            fields = list(fields.items())
        elif not isinstance(fields, (list, tuple)):
            fields = (fields,)
        self.add_fields(*fields)

    # ----- building -----

    @property
    def is_multipart(self) -> bool:
        return self._is_multipart

    @property
    def boundary(self) -> str:
        return self._boundary

    def add_field(
        self,
        name: str,
        value: Any,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        content_transfer_encoding: str | None = None,
    ) -> None:
        """Add one field. ``value`` is text, bytes or a file object; bytes and files make
        the form multipart, and so does giving a filename, a content type or a transfer
        encoding."""
        if not isinstance(name, str):
            raise TypeError(f"field name must be str, got {type(name).__name__}")
        if is_file_like(value):
            self._is_multipart = True
            if filename is None:
                raw = getattr(value, "name", None)
                if isinstance(raw, str) and raw and not raw.startswith("<"):
                    filename = os.path.basename(raw)
                else:
                    filename = name
        elif isinstance(value, (bytes, bytearray, memoryview)):
            value = bytes(value)
            if filename is None and content_transfer_encoding is None:
                filename = name
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise TypeError(
                f"field {name!r}: value must be str, int, float, bytes or a file object, "
                f"got {type(value).__name__}"
            )
        else:
            value = str(value)
        if content_type is not None:
            if not isinstance(content_type, str):
                raise TypeError(f"content_type must be str, got {content_type!r}")
            _check_header_value("content_type", content_type)
            self._is_multipart = True
        if filename is not None:
            if not isinstance(filename, str):
                raise TypeError(f"filename must be str, got {filename!r}")
            self._is_multipart = True
        if content_transfer_encoding is not None:
            if not isinstance(content_transfer_encoding, str):
                raise TypeError("content_transfer_encoding must be str")
            content_transfer_encoding = content_transfer_encoding.lower()
            if content_transfer_encoding not in _TRANSFER_ENCODINGS:
                raise ValueError(
                    f"unknown content_transfer_encoding {content_transfer_encoding!r}: "
                    f"use one of {sorted(_TRANSFER_ENCODINGS)}"
                )
            self._is_multipart = True
        if isinstance(value, bytes) and filename is None:
            self._is_multipart = True
        self._fields.append(_Field(name, value, content_type, filename, content_transfer_encoding))

    def add_fields(self, *fields: Any) -> None:
        """Add fields given as ``(name, value)`` pairs, mappings / MultiDicts of them,
        lists of any of these, or file objects (named after their file)."""
        pending = list(fields)
        while pending:
            item = pending.pop(0)
            if is_file_like(item):
                raw = getattr(item, "name", None)
                name = os.path.basename(raw) if isinstance(raw, str) and raw else "file"
                self.add_field(name, item)
            elif isinstance(item, (Mapping, MultiDict, MultiDictProxy)):
                pending[:0] = list(item.items())
            elif isinstance(item, tuple) and len(item) == 2:
                self.add_field(item[0], item[1])
            elif isinstance(item, list):
                pending[:0] = item
            else:
                raise TypeError(
                    f"only io.IOBase, multidict and (name, value) pairs are allowed, got {item!r}"
                )

    # ----- output -----

    @property
    def content_type(self) -> str:
        if self._is_multipart:
            return f"multipart/form-data; boundary={self._boundary}"
        return "application/x-www-form-urlencoded"

    def _encoding(self) -> str:
        return self._charset or "utf-8"

    def _urlencoded(self) -> bytes:
        pairs = [(f.name, f.value) for f in self._fields]
        return urlencode(pairs, doseq=False, encoding=self._encoding()).encode("ascii")

    def _part_head(self, field: _Field) -> bytes:
        disposition = f"form-data; name={quote_param(field.name)}"
        if field.filename is not None:
            disposition += f"; filename={quote_param(field.filename)}"
        lines = [f"--{self._boundary}", f"Content-Disposition: {disposition}"]
        content_type = field.content_type
        if content_type is None and field.filename is not None:
            guessed, _ = mimetypes.guess_type(field.filename)
            content_type = guessed or "application/octet-stream"
        if content_type is None and self._charset is not None and isinstance(field.value, str):
            content_type = f"text/plain; charset={self._charset}"
        if content_type is not None:
            lines.append(f"Content-Type: {content_type}")
        if field.transfer_encoding is not None:
            lines.append(f"Content-Transfer-Encoding: {field.transfer_encoding}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode(self._encoding(), "surrogateescape")

    def _encoded_value(self, field: _Field) -> bytes | None:
        """The part's body when it is in memory (or must be, to be transfer-encoded);
        None for a file to be streamed as is."""
        value = field.value
        if is_file_like(value):
            if field.transfer_encoding not in ("base64", "quoted-printable"):
                return None
            data = value.read()
            value = data.encode(self._encoding()) if isinstance(data, str) else bytes(data)
        elif isinstance(value, str):
            value = value.encode(self._encoding())
        if field.transfer_encoding == "base64":
            return base64.encodebytes(value).replace(b"\n", b"\r\n")
        if field.transfer_encoding == "quoted-printable":
            return quopri.encodestring(value).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        return bytes(value)

    def _plan(self) -> tuple[list[tuple[bytes, bytes | None, Any]], bytes, int | None]:
        """Per part: (head, in-memory body or None, file); the closing delimiter; the
        total length when every size is known."""
        parts = []
        total: int | None = 0
        for field in self._fields:
            head = self._part_head(field)
            body = self._encoded_value(field)
            fobj = None if body is not None else field.value
            parts.append((head, body, fobj))
            if total is not None:
                size = len(body) if body is not None else file_remaining(fobj)
                total = None if size is None else total + len(head) + size + 2
        tail = f"--{self._boundary}--\r\n".encode("ascii")
        if total is not None:
            total += len(tail)
        return parts, tail, total

    def __call__(self) -> tuple[Any, str, int | None]:
        """The body (bytes, or an async iterator of bytes for multipart with files), its
        Content-Type and its length (None: unknown, send chunked)."""
        if not self._is_multipart:
            body = self._urlencoded()
            return body, self.content_type, len(body)
        if self._consumed:
            raise RuntimeError("Form data has been processed already")
        parts, tail, total = self._plan()
        if all(fobj is None for _, _, fobj in parts):
            joined = b"".join(head + (body or b"") + b"\r\n" for head, body, _ in parts) + tail
            return joined, self.content_type, len(joined)
        self._consumed = True
        return self._stream(parts, tail), self.content_type, total

    async def _stream(
        self, parts: Iterable[tuple[bytes, bytes | None, Any]], tail: bytes
    ) -> AsyncIterator[bytes]:
        encoding = self._encoding()
        for head, body, fobj in parts:
            if body is not None:
                yield head + body + b"\r\n"
                continue
            yield head
            while True:
                piece = fobj.read(_PIECE)
                if hasattr(piece, "__await__"):
                    piece = await piece
                if not piece:
                    break
                # anything but text goes as read: the request writer takes bytes-like
                # pieces and refuses the rest (bytes() would turn an int into NUL bytes)
                yield piece.encode(encoding) if isinstance(piece, str) else piece
            yield b"\r\n"
        yield tail

    def __repr__(self) -> str:
        kind = "multipart" if self._is_multipart else "urlencoded"
        return f"<FormData {kind} fields={[f.name for f in self._fields]!r}>"
