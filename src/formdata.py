"""``FormData``: HTML form bodies, as aiohttp users build them.

A form with only text fields is sent as ``application/x-www-form-urlencoded``. A form
with a file, a bytes value, a filename, a content type or a transfer encoding on any
field is sent as ``multipart/form-data`` (RFC 7578) with a random boundary.

Multipart bodies are streamed: file objects are read piece by piece while the request is
written, never whole. When every part's size is known (bytes, seekable files) the body
gets a Content-Length; otherwise it is sent chunked. ``form()`` gives the body as a
payload (:mod:`cyhttp.payload`); the same form can be sent again (a 307 redirect, a
retry): seekable files are read again from where they started, while a one-shot part (a
pipe) makes the request refuse a second send.

Field names and filenames are written as the WHATWG HTML standard says browsers do: as
UTF-8 inside double quotes, with ``"``, CR and LF percent-encoded (``%22``, ``%0D``,
``%0A``); RFC 7578 §4.2 rules out the ``filename*=`` form for multipart/form-data.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import quopri
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from multidict import CIMultiDict, MultiDict, MultiDictProxy

from .helpers import is_file_like
from .payload import BytesPayload, Payload, body_payload

if TYPE_CHECKING:
    from .multipart import MultipartWriter

__all__ = ("FormData", "needs_multipart", "quote_param")

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
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
    (default UTF-8): a urlencoded form says so in its Content-Type, a multipart form
    marks its text parts ``text/plain; charset=...``. ``default_to_multipart`` makes even
    a text-only form multipart. ``quote_fields`` is accepted for aiohttp compatibility: names are
    always escaped as described in the module docstring.
    """

    def __init__(
        self,
        fields: Any = (),
        quote_fields: bool = True,
        charset: str | None = None,
        *,
        default_to_multipart: bool = False,
        boundary: str | None = None,
    ) -> None:
        self._fields: list[_Field] = []
        self._is_multipart = default_to_multipart
        self._quote_fields = quote_fields
        self._charset = charset
        self._writer: MultipartWriter | None = None
        self._written = 0  # fields already in the writer
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
        elif isinstance(value, Payload):
            self._is_multipart = True
            if filename is None:
                filename = value.filename
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
            if isinstance(value, Payload):
                raise TypeError(
                    "content_transfer_encoding can not be given with a Payload value: "
                    "set the Content-Transfer-Encoding header of a MultipartWriter part"
                )
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
            boundary = self._boundary
            if not _TOKEN.fullmatch(boundary):
                boundary = f'"{boundary}"'  # as the multipart writer sends it
            return f"multipart/form-data; boundary={boundary}"
        if self._charset and self._charset.lower().replace("_", "-") != "utf-8":
            return f"application/x-www-form-urlencoded; charset={self._charset}"
        return "application/x-www-form-urlencoded"

    def _encoding(self) -> str:
        return self._charset or "utf-8"

    def _urlencoded(self) -> bytes:
        pairs = [(f.name, f.value) for f in self._fields]
        return urlencode(pairs, doseq=False, encoding=self._encoding()).encode("ascii")

    def _part_headers(self, field: _Field) -> CIMultiDict[str]:
        disposition = f"form-data; name={quote_param(field.name)}"
        if field.filename is not None:
            disposition += f"; filename={quote_param(field.filename)}"
        headers: CIMultiDict[str] = CIMultiDict({"Content-Disposition": disposition})
        content_type = field.content_type
        if content_type is None and field.filename is not None:
            guessed, _ = mimetypes.guess_type(field.filename)
            content_type = guessed or "application/octet-stream"
        if content_type is None and self._charset is not None and isinstance(field.value, str):
            content_type = f"text/plain; charset={self._charset}"
        if content_type is not None:
            headers["Content-Type"] = content_type
        if field.transfer_encoding is not None:
            headers["Content-Transfer-Encoding"] = field.transfer_encoding
        return headers

    def _transfer_encoded(self, field: _Field) -> bytes:
        """A base64 / quoted-printable part's body, encoded in memory (files are read
        whole: the encoded length is then known)."""
        value = field.value
        if is_file_like(value):
            data = value.read()
            value = data.encode(self._encoding()) if isinstance(data, str) else bytes(data)
        elif isinstance(value, str):
            value = value.encode(self._encoding())
        if field.transfer_encoding == "base64":
            return base64.encodebytes(value).replace(b"\n", b"\r\n")
        return quopri.encodestring(value).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    def _part(self, field: _Field) -> Payload:
        """The field as a payload carrying exactly the part headers it must send."""
        value = field.value
        if field.transfer_encoding in ("base64", "quoted-printable"):
            part: Payload = BytesPayload(self._transfer_encoded(field))
        elif isinstance(value, Payload):
            part = value
        elif isinstance(value, str):
            part = BytesPayload(value.encode(self._encoding()))
        elif isinstance(value, bytes):
            part = BytesPayload(value)
        else:
            part = body_payload(value, disposition=None, encoding=self._charset)
        headers = self._part_headers(field)
        if isinstance(value, Payload) and "Content-Type" not in headers:
            headers["Content-Type"] = value.content_type
        part.headers.clear()
        part.headers.update(headers)
        return part

    def __call__(self) -> Payload:
        """The body as a payload: BytesPayload for a urlencoded form, a
        :class:`~cyhttp.multipart.MultipartWriter` otherwise. Calling again gives the
        same writer (with any fields added since): sending the form again (a redirect,
        a retry) replays its parts, rewinding seekable files."""
        if not self._is_multipart:
            return BytesPayload(self._urlencoded(), content_type=self.content_type)
        writer = self._writer
        if writer is None:
            from .multipart import MultipartWriter

            writer = self._writer = MultipartWriter("form-data", boundary=self._boundary)
        for field in self._fields[self._written :]:
            writer._append_encoded(self._part(field))
        self._written = len(self._fields)
        return writer

    def __repr__(self) -> str:
        kind = "multipart" if self._is_multipart else "urlencoded"
        return f"<FormData {kind} fields={[f.name for f in self._fields]!r}>"
