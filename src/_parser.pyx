# cython: language_level=3
"""Compiled HTTP/1.1 response parser (placeholder until the parser lands)."""


cdef class HttpResponseParser:
    def __init__(self, sink, **kwargs):
        raise NotImplementedError("the response parser is not written yet")
