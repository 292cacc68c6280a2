# cython: language_level=3
"""Compiled HTTP/1.1 response parser: interim re-export of the pure twin (being written)."""

from cyhttp._parser_py import HttpResponseParser  # noqa: F401
