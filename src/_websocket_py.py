"""Pure-Python twin of ``_websocket.pyx`` (placeholder until the websocket core lands)."""

from __future__ import annotations


def websocket_mask(mask: bytes, data: bytearray) -> None:
    """XOR ``data`` in place with the 4-byte ``mask``."""
    for i in range(len(data)):
        data[i] ^= mask[i & 3]
