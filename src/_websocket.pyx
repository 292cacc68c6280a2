# cython: language_level=3
"""Compiled WebSocket masker (placeholder until the websocket core lands)."""


def websocket_mask(bytes mask, bytearray data):
    """XOR ``data`` in place with the 4-byte ``mask``."""
    cdef Py_ssize_t i
    for i in range(len(data)):
        data[i] ^= mask[i & 3]
