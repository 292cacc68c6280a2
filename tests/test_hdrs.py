"""cyhttp.hdrs and cyhttp.typedefs offer the names aiohttp.hdrs and aiohttp.typedefs do.

The names are compared with the installed aiohttp programmatically, so a constant aiohttp
has and cyhttp lacks (or spells differently) fails here.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from collections.abc import Callable
from http.cookies import SimpleCookie

import aiohttp.hdrs
import aiohttp.typedefs
import multidict
import pytest
import yarl
from multidict import CIMultiDict, istr
from yarl import URL

import cyhttp
from cyhttp import hdrs, typedefs


def _header_names(module: object) -> dict[str, istr]:
    return {n: v for n, v in vars(module).items() if isinstance(v, istr)}


def _method_names(module: object) -> dict[str, object]:
    return {n: v for n, v in vars(module).items() if n.startswith("METH_")}


def test_every_aiohttp_header_constant_is_here_with_the_same_value() -> None:
    theirs, ours = _header_names(aiohttp.hdrs), _header_names(hdrs)
    assert len(theirs) > 100
    missing = sorted(set(theirs) - set(ours))
    assert not missing, f"header constants aiohttp.hdrs has and cyhttp.hdrs lacks: {missing}"
    for name, value in theirs.items():
        # same spelling, not only equal case-insensitively
        assert str(ours[name]) == str(value), name


def test_header_constants_are_istr_matching_their_names() -> None:
    for name, value in _header_names(hdrs).items():
        assert type(value) is istr
        assert value.upper() == name.replace("_", "-"), name
    headers = CIMultiDict({"content-type": "text/plain"})
    assert headers[hdrs.CONTENT_TYPE] == "text/plain"
    assert hdrs.WWW_AUTHENTICATE == "WWW-Authenticate"  # istr keeps its spelling


def test_method_constants_match_aiohttp() -> None:
    assert _method_names(hdrs) == _method_names(aiohttp.hdrs)
    assert {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST"} | {
        "PUT",
        "TRACE",
    } == hdrs.METH_ALL
    assert hdrs.METH_ANY == "*" and hdrs.METH_ANY not in hdrs.METH_ALL


def test_host_all_spellings() -> None:
    assert hdrs.HOST_ALL == aiohttp.hdrs.HOST_ALL
    assert len(hdrs.HOST_ALL) == 16 and {"host", "HOST", "hOsT"} <= hdrs.HOST_ALL


def _public_aliases(module: object) -> set[str]:
    """The names a module defines for its users: public, and not a module or an object
    merely imported from typing, collections.abc, multidict or yarl to build the aliases."""
    sources = (typing, collections.abc, multidict, yarl)
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if any(getattr(source, name, None) is value for source in sources):
            continue
        names.add(name)
    return names


def test_typedefs_offer_aiohttps_public_names() -> None:
    theirs = _public_aliases(aiohttp.typedefs) | {"Query"}  # Query is yarl's, re-exported
    assert {"StrOrURL", "LooseHeaders", "LooseCookies", "Query", "JSONEncoder"} <= theirs
    missing = sorted(theirs - set(dir(typedefs)))
    assert not missing, f"names aiohttp.typedefs has and cyhttp.typedefs lacks: {missing}"
    assert set(typedefs.__all__) <= set(dir(typedefs))


def test_typedefs_describe_what_they_should() -> None:
    assert typedefs.DEFAULT_JSON_ENCODER({"a": 1}) == '{"a": 1}'
    assert typedefs.DEFAULT_JSON_DECODER("[1]") == [1]
    assert typedefs.Query is aiohttp.typedefs.Query
    assert set(typing.get_args(typedefs.StrOrURL)) == {str, URL}
    assert set(typing.get_args(typedefs.Byteish)) == {bytes, bytearray, memoryview}
    assert typing.get_args(typedefs.JSONEncoder)[1] is str
    assert typing.get_args(typedefs.JSONBytesEncoder)[1] is bytes
    assert typing.get_origin(typedefs.JSONDecoder) is Callable
    assert typing.get_origin(typedefs.RawHeaders) is tuple
    # the cookie union covers a cookie set
    assert any(
        typing.get_origin(arg) is SimpleCookie.__mro__[1]
        for arg in typing.get_args(typedefs.LooseCookies)
    )


@pytest.mark.parametrize("name", ["hdrs", "typedefs"])
def test_reachable_from_the_package(name: str) -> None:
    module = getattr(cyhttp, name)
    assert module.__name__ == f"cyhttp.{name}"
