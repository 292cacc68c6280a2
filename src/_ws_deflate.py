"""permessage-deflate (RFC 7692) for the client: the offer, the answer, and the two codecs.

The frame reader twins know nothing of zlib: when the extension is on they get an
:class:`Inflater` and call ``inflate`` on each whole message whose first frame had RSV1.
The sender compresses with a :class:`Deflater` and sets RSV1 itself. zlib does the work in
C either way, so one pure-Python module serves both twins.

``compress`` (the ``ws_connect`` argument, 9..15) bounds the *server's* LZ77 window: it is
the memory we agree to spend inflating. We also announce ``client_max_window_bits`` so the
server may bound ours.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from .http_exceptions import WebSocketError

__all__ = ("DeflateParams", "Deflater", "Inflater", "offer", "parse_response")

# every deflate block ends with this empty stored block after Z_SYNC_FLUSH; RFC 7692 §7.2.1
# has the sender drop it and the receiver put it back.
_TAIL = b"\x00\x00\xff\xff"
_PARAM = re.compile(r"^([a-z_]+)(?:=\"?(\d+)\"?)?$")


@dataclass(frozen=True)
class DeflateParams:
    """What the handshake agreed (RFC 7692 §7.1)."""

    #: LZ77 window the server compresses with (we inflate with at least this)
    server_max_window_bits: int = 15
    #: LZ77 window we may compress with (8 means we never compress: zlib cannot do 8)
    client_max_window_bits: int = 15
    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False


def offer(compress: int) -> str:
    """The ``Sec-WebSocket-Extensions`` request value for ``compress`` (9..15)."""
    if not 9 <= compress <= 15:
        raise ValueError(f"compress must be 0 (off) or 9..15, not {compress!r}")
    value = "permessage-deflate; client_max_window_bits"
    if compress < 15:
        value += f"; server_max_window_bits={compress}"
    return value


def parse_response(header: str | None, compress: int) -> DeflateParams | None:
    """Read the server's ``Sec-WebSocket-Extensions`` answer to :func:`offer`.

    None when the server declined (no header, or no permessage-deflate). ValueError when the
    answer is something we did not offer or cannot honour: the handshake must then fail.
    """
    if not header:
        return None
    params: DeflateParams | None = None
    for ext in header.split(","):
        parts = [p.strip() for p in ext.split(";")]
        if not parts[0]:
            continue
        if parts[0].lower() != "permessage-deflate" or params is not None:
            raise ValueError(f"server accepted an extension that was not offered: {ext.strip()!r}")
        seen: dict[str, int | None] = {}
        for part in parts[1:]:
            match = _PARAM.match(part.lower())
            if match is None or match.group(1) in seen:
                raise ValueError(f"bad permessage-deflate parameter {part!r}")
            name, number = match.group(1), match.group(2)
            seen[name] = None if number is None else int(number)
        params = _params(seen, compress)
    return params


def _params(seen: dict[str, int | None], compress: int) -> DeflateParams:
    server_bits, client_bits = 15, 15
    flags = {"server_no_context_takeover": False, "client_no_context_takeover": False}
    for name, value in seen.items():
        if name in flags:
            if value is not None:
                raise ValueError(f"{name} takes no value")
            flags[name] = True
        elif name in ("server_max_window_bits", "client_max_window_bits"):
            if value is None or not 8 <= value <= 15:
                raise ValueError(f"{name} must be 8..15, not {value!r}")
            if name == "server_max_window_bits":
                if value > compress:
                    raise ValueError(f"server window {value} exceeds the offered {compress}")
                server_bits = value
            else:
                client_bits = value
        else:
            raise ValueError(f"unknown permessage-deflate parameter {name!r}")
    if "server_max_window_bits" not in seen and compress < 15:
        raise ValueError("server ignored the server_max_window_bits we asked for")
    return DeflateParams(server_bits, client_bits, **flags)


class Inflater:
    """Decompresses whole messages; ``no_context_takeover`` starts each one afresh."""

    def __init__(self, window_bits: int = 15, no_context_takeover: bool = False) -> None:
        # a raw zlib window must be 9..15; a larger window than the peer's is always safe
        self._wbits = -max(window_bits, 9)
        self._fresh = no_context_takeover
        self._z = zlib.decompressobj(self._wbits)

    def inflate(self, data: bytes, max_size: int) -> bytes:
        """Inflate one message; WebSocketError 1009 past ``max_size`` (0: no limit), 1002
        on a corrupt stream."""
        z = self._z
        try:
            out = z.decompress(data + _TAIL, max_size + 1 if max_size else 0)
        except zlib.error as exc:
            raise WebSocketError(1002, f"cannot inflate the message ({exc})") from None
        if max_size and len(out) > max_size:
            raise WebSocketError(1009, f"inflated message exceeds max_msg_size ({max_size} bytes)")
        if self._fresh or z.eof:
            # no context takeover, or the peer ended its stream with a final block
            self._z = zlib.decompressobj(self._wbits)
        return out


class Deflater:
    """Compresses whole messages, ready to send with RSV1 set."""

    def __init__(
        self, window_bits: int = 15, no_context_takeover: bool = False, level: int = 6
    ) -> None:
        if not 9 <= window_bits <= 15:
            raise ValueError(f"zlib cannot compress with a {window_bits}-bit window")
        self._wbits = -window_bits
        self._level = level
        self._fresh = no_context_takeover
        self._z = self._new()

    def _new(self) -> zlib._Compress:
        return zlib.compressobj(self._level, zlib.DEFLATED, self._wbits)

    def deflate(self, data: bytes | bytearray | memoryview) -> bytes:
        """Compress one message (RFC 7692 §7.2.1: sync-flush, then drop the empty tail)."""
        z = self._z
        out = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
        if self._fresh:
            self._z = self._new()
        if out.endswith(_TAIL):
            out = out[:-4]
        return out or b"\x00"
