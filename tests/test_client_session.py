"""ClientSession end to end against an aiohttp.web server: verbs, every per-request
argument, session defaults, keep-alive reuse, closing and warnings."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import warnings

import pytest
from multidict import CIMultiDict, MultiDict

import cyhttp
from cyhttp import BasicAuth, ClientSession, TCPConnector

from .servers import AppServer, app_server, echo_app


@pytest.fixture
async def server() -> AppServer:
    async with app_server(echo_app()) as srv:
        yield srv


def headers_of(payload: dict) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in payload["headers"])


@pytest.mark.parametrize("verb", ["get", "post", "put", "patch", "delete", "options"])
async def test_verbs(server: AppServer, verb: str) -> None:
    async with ClientSession() as session, getattr(session, verb)(server.url("/echo")) as resp:
        assert resp.status == 200
        assert (await resp.json())["method"] == verb.upper()
        assert resp.method == verb.upper()


async def test_head_has_no_body_and_keeps_connection(server: AppServer) -> None:
    async with ClientSession() as session:
        for _ in range(2):
            async with session.head(server.url("/echo")) as resp:
                assert resp.status == 200
                assert await resp.read() == b""
    assert server.connections == 1


async def test_request_awaited_and_as_context_manager(server: AppServer) -> None:
    async with ClientSession() as session:
        resp = await session.request("GET", server.url("/echo"))
        assert resp.status == 200
        assert resp.reason == "OK"
        assert resp.version == cyhttp.HttpVersion11
        await resp.read()
        resp.release()
        async with session.request("get", str(server.url("/echo"))) as resp2:
            assert (await resp2.json())["method"] == "GET"


async def test_default_headers(server: AppServer) -> None:
    async with ClientSession() as session, session.get(server.url("/echo")) as resp:
        sent = headers_of(await resp.json())
    assert sent["Host"] == f"127.0.0.1:{server.port}"
    assert sent["User-Agent"] == f"cyhttp/{cyhttp.__version__}"
    assert sent["Accept"] == "*/*"
    assert set(sent["Accept-Encoding"].split(", ")) >= {"gzip", "deflate"}
    assert "Content-Length" not in sent


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"a": "1", "b": "x y"}, "z=0&a=1&b=x+y"),
        (MultiDict([("a", "1"), ("a", "2")]), "z=0&a=1&a=2"),
        ([("k", "v"), ("k", "w")], "z=0&k=v&k=w"),
        ("raw=%20already", "z=0&raw=%20already"),
    ],
    ids=["mapping", "multidict", "pairs", "str"],
)
async def test_params_merge_with_url_query(
    server: AppServer, params: object, expected: str
) -> None:
    async with ClientSession() as session:
        resp = await session.get(server.url("/echo").with_query("z=0"), params=params)
        async with resp:
            assert (await resp.json())["path"] == f"/echo?{expected}"
            assert resp.url.raw_query_string == expected


async def test_data_dict_is_form_encoded(server: AppServer) -> None:
    async with ClientSession() as session:
        resp = await session.post(server.url("/echo"), data={"a": "1", "b": "é"})
        async with resp:
            got = await resp.json()
    assert got["body"] == "a=1&b=%C3%A9"
    assert headers_of(got)["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers_of(got)["Content-Length"] == str(len(got["body"]))


@pytest.mark.parametrize(
    "data, body, ctype",
    [
        (b"\x00\x01raw", "\x00\x01raw", "application/octet-stream"),
        ("text é", "text é".encode().decode("latin-1"), "text/plain; charset=utf-8"),
    ],
    ids=["bytes", "str"],
)
async def test_data_bytes_and_str(server: AppServer, data: object, body: str, ctype: str) -> None:
    async with ClientSession() as session, session.put(server.url("/echo"), data=data) as resp:
        got = await resp.json()
    assert got["body"] == body
    assert headers_of(got)["Content-Type"] == ctype
    assert not got["chunked"]


async def test_data_file_like_with_known_size(server: AppServer) -> None:
    payload = b"0123456789" * 10000
    async with ClientSession() as session:
        resp = await session.post(server.url("/echo"), data=io.BytesIO(payload))
        async with resp:
            got = await resp.json()
    assert got["body"].encode("latin-1") == payload
    assert headers_of(got)["Content-Length"] == str(len(payload))


async def test_data_async_iterable_is_chunked(server: AppServer) -> None:
    async def gen():
        for i in range(5):
            yield f"part{i};".encode()
            await asyncio.sleep(0)

    async with ClientSession() as session:
        resp = await session.post(server.url("/echo"), data=gen())
        async with resp:
            got = await resp.json()
    assert got["body"] == "part0;part1;part2;part3;part4;"
    assert got["chunked"]


async def test_json_uses_session_serializer(server: AppServer) -> None:
    def dumps(obj: object) -> str:
        return json.dumps(obj, separators=(",", ":"), sort_keys=True)

    async with ClientSession(json_serialize=dumps) as session:
        resp = await session.post(server.url("/echo"), json={"b": 1, "a": [1, 2]})
        async with resp:
            got = await resp.json()
    assert got["body"] == '{"a":[1,2],"b":1}'
    assert headers_of(got)["Content-Type"] == "application/json"


async def test_json_and_data_together_is_value_error(server: AppServer) -> None:
    async with ClientSession() as session:
        with pytest.raises(ValueError):
            await session.post(server.url("/echo"), json={}, data=b"x")


async def test_headers_merge_case_insensitively(server: AppServer) -> None:
    defaults = {"X-Default": "d", "X-Replaced": "old"}
    async with ClientSession(headers=defaults) as session:
        extra = CIMultiDict([("x-replaced", "new"), ("X-Multi", "1"), ("X-Multi", "2")])
        async with session.get(server.url("/echo"), headers=extra) as resp:
            sent = headers_of(await resp.json())
    assert sent["X-Default"] == "d"
    assert sent.getall("X-Replaced") == ["new"]
    assert sent.getall("X-Multi") == ["1", "2"]
    assert resp.request_info.headers["X-Default"] == "d"


async def test_skip_auto_headers(server: AppServer) -> None:
    async with (
        ClientSession(skip_auto_headers=["User-Agent"]) as session,
        session.post(server.url("/echo"), data=b"x", skip_auto_headers=["content-type"]) as resp,
    ):
        sent = headers_of(await resp.json())
    assert "User-Agent" not in sent
    assert "Content-Type" not in sent
    assert sent["Content-Length"] == "1"


async def test_basic_auth_argument_session_and_url(server: AppServer) -> None:
    expected = BasicAuth("user", "päss").encode()
    async with ClientSession(auth=BasicAuth("sess", "x")) as session:
        resp = await session.get(server.url("/echo"), auth=BasicAuth("user", "päss"))
        async with resp:
            assert headers_of(await resp.json())["Authorization"] == expected
        async with session.get(server.url("/echo")) as resp:
            assert headers_of(await resp.json())["Authorization"] == BasicAuth("sess", "x").encode()
    async with ClientSession() as session:
        url = server.url("/echo").with_user("u").with_password("p")
        async with session.get(url) as resp:
            got = await resp.json()
        assert headers_of(got)["Authorization"] == BasicAuth("u", "p").encode()
        with pytest.raises(TypeError):
            await session.get(server.url("/echo"), auth=("u", "p"))


async def test_compress_deflates_the_body(server: AppServer) -> None:
    async with ClientSession() as session:
        resp = await session.post(server.url("/echo"), data=b"z" * 1000, compress=True)
        async with resp:
            got = await resp.json()
    sent = headers_of(got)
    assert sent["Content-Encoding"] == "deflate"
    assert got["chunked"]
    assert got["body"] == "z" * 1000  # aiohttp's server inflated it


async def test_chunked_upload(server: AppServer) -> None:
    async with ClientSession() as session:
        resp = await session.post(server.url("/echo"), data=b"abc" * 10, chunked=True)
        async with resp:
            got = await resp.json()
    assert got["chunked"]
    assert got["body"] == "abc" * 10
    with pytest.raises(ValueError):
        async with ClientSession() as session:
            await session.post(
                server.url("/echo"), data=b"x", chunked=True, headers={"Content-Length": "1"}
            )


async def test_keep_alive_reuses_one_connection(server: AppServer) -> None:
    async with ClientSession() as session:
        for _ in range(5):
            async with session.get(server.url("/echo")) as resp:
                await resp.read()
    assert server.requests == 5
    assert server.connections == 1


async def test_unread_body_is_not_reused_but_complete_body_is(server: AppServer) -> None:
    async with ClientSession() as session:
        # 2 MiB is more than the socket buffers: not complete at release time
        async with session.get(server.url("/bytes/2097152")) as resp:
            await resp.content.read(10)
        async with session.get(server.url("/bytes/10")) as resp:
            assert len(await resp.read()) == 10
        async with session.get(server.url("/bytes/10")) as resp:
            await resp.read()
    assert server.connections == 2


async def test_raise_for_status_session_and_request(server: AppServer) -> None:
    async with ClientSession(raise_for_status=True) as session:
        with pytest.raises(cyhttp.ClientResponseError) as info:
            await session.get(server.url("/status/404"))
        assert info.value.status == info.value.code == 404
        assert info.value.request_info.url == server.url("/status/404")
        async with session.get(server.url("/status/404"), raise_for_status=False) as resp:
            assert resp.status == 404
    async with ClientSession() as session:
        resp = await session.get(server.url("/status/500"))
        async with resp:
            with pytest.raises(cyhttp.ClientResponseError):
                resp.raise_for_status()
        with pytest.raises(cyhttp.ClientResponseError):
            await session.get(server.url("/status/418"), raise_for_status=True)


async def test_session_properties_close_and_detach(server: AppServer) -> None:
    connector = TCPConnector()
    session = ClientSession(connector=connector, connector_owner=False)
    assert session.connector is connector and not session.closed
    assert session.loop is asyncio.get_running_loop() or session.loop is not None
    session.requote_redirect_url = False
    assert session.requote_redirect_url is False
    await session.close()
    assert session.closed and not connector.closed
    other = ClientSession(connector=connector)
    other.detach()
    assert other.closed and not connector.closed
    owner = ClientSession(connector=connector)
    async with owner, owner.get(server.url("/echo")) as resp:
        assert resp.status == 200
    assert connector.closed
    with pytest.raises(RuntimeError):
        await owner.get(server.url("/echo"))


async def test_unclosed_session_warns() -> None:
    session = ClientSession()
    with pytest.warns(ResourceWarning, match="Unclosed client session"):
        del session
        gc.collect()


@pytest.mark.parametrize(
    "kwargs",
    [{"headers": 5}, {"skip_auto_headers": 5}, {"timeout": "5"}, {"auth": ("u", "p")}],
    ids=["headers", "skip_auto_headers", "timeout", "auth"],
)
async def test_refused_session_argument_leaves_nothing_to_warn_about(kwargs: dict) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TypeError):
            ClientSession(**kwargs)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


async def test_unclosed_response_warns(server: AppServer) -> None:
    async with ClientSession() as session:
        resp = await session.get(server.url("/bytes/4194304"))
        with pytest.warns(ResourceWarning, match="Unclosed response"):
            del resp
            gc.collect()


async def test_loop_argument_is_deprecated(server: AppServer) -> None:
    loop = asyncio.get_running_loop()
    with pytest.warns(DeprecationWarning):
        session = ClientSession(loop=loop)
    await session.close()
    with pytest.warns(DeprecationWarning):
        connector = TCPConnector(loop=loop)
    await connector.close()
    with pytest.warns(DeprecationWarning):
        async with cyhttp.request("GET", server.url("/echo"), loop=loop) as resp:
            assert resp.status == 200


async def test_one_shot_request_closes_its_connector(server: AppServer) -> None:
    async with cyhttp.request("POST", server.url("/echo"), data=b"hi") as resp:
        assert (await resp.json())["body"] == "hi"
        connector = resp.connection
    resp2 = await cyhttp.request("GET", server.url("/echo"))
    assert resp2.status == 200
    assert json.loads(await resp2.text())["method"] == "GET"
    assert connector is None or connector.closed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gc.collect()


async def test_one_shot_request_leaves_a_given_connector_open(server: AppServer) -> None:
    async with TCPConnector() as connector:
        async with cyhttp.request("GET", server.url("/echo"), connector=connector) as resp:
            assert resp.status == 200
        assert not connector.closed


async def test_cookies_roundtrip(server: AppServer) -> None:
    jar = cyhttp.CookieJar(unsafe=True)  # 127.0.0.1 is an IP address host
    async with ClientSession(cookies={"sess": "s1"}, cookie_jar=jar) as session:
        resp = await session.get(server.url("/setcookie?a=1&b=2"))
        async with resp:
            assert resp.cookies["a"].value == "1"
        async with session.get(server.url("/echo"), cookies={"req": "r"}) as resp:
            cookie = headers_of(await resp.json())["Cookie"]
    parts = cookie.split("; ")
    assert set(parts) == {"sess=s1", "a=1", "b=2", "req=r"}


async def test_response_attributes(server: AppServer) -> None:
    async with ClientSession() as session:
        resp = await session.get(server.url("/echo#frag"))
        async with resp:
            assert resp.url == server.url("/echo")  # aiohttp 3: the fragment is not sent
            assert resp.real_url == server.url("/echo#frag")
            assert resp.content_type == "application/json"
            assert resp.charset == "utf-8"
            assert resp.history == ()
            assert isinstance(resp.raw_headers, tuple)
            assert (b"Content-Type", b"application/json; charset=utf-8") in resp.raw_headers
            assert resp.request_info.method == "GET"
            assert resp.request_info.url == server.url("/echo")
            assert resp.connection is None  # body complete: connection back in the pool
        async with session.get(server.url("/status/204")) as resp:
            assert resp.content_type == "application/octet-stream"
            assert resp.charset is None
            assert await resp.read() == b""


async def test_read_is_cached_and_text_json(server: AppServer) -> None:
    async with ClientSession() as session, session.get(server.url("/echo")) as resp:
        first = await resp.read()
        assert await resp.read() is first
        assert json.loads(await resp.text()) == await resp.json()


async def test_version_10(server: AppServer) -> None:
    async with ClientSession(version=cyhttp.HttpVersion10) as session:
        resp = await session.get(server.url("/echo"))
        async with resp:
            got = await resp.json()
    assert headers_of(got)["Connection"] == "keep-alive"


async def test_invalid_urls() -> None:
    async with ClientSession() as session:
        for bad in ("/relative", "ftp://host/", "http://", "http:///path"):
            with pytest.raises(cyhttp.InvalidURL):
                await session.get(bad)


async def test_bad_header_and_method_raise_before_sending(server: AppServer) -> None:
    async with ClientSession() as session:
        for headers in (
            {"X": "a\r\nInjected: 1"},
            {"X": "a\nb"},
            {"X": "nul\x00"},
            {"Bad Name": "v"},
        ):
            with pytest.raises(ValueError):
                await session.get(server.url("/echo"), headers=headers)
        with pytest.raises(ValueError):
            await session.request("GE T", server.url("/echo"))
        with pytest.raises(ValueError):
            await session.request("GET\r\n", server.url("/echo"))
    assert server.requests == 0


async def test_bad_argument_types_raise_before_sending(server: AppServer) -> None:
    """Refused with a clear exception before anything goes on the wire (an unknown
    ``compress`` used to fail only in the body writer, and the request hung)."""
    async with ClientSession() as session:
        for compress in ("br", 5):
            with pytest.raises(ValueError, match="compress"):
                await session.post(server.url("/echo"), data=b"x", compress=compress)
        with pytest.raises(TypeError, match="method"):
            await session.request(5, server.url("/echo"))  # type: ignore[arg-type]
        for value in (5, None, b"v"):
            with pytest.raises(TypeError, match="'X'"):
                await session.get(server.url("/echo"), headers={"X": value})
    assert server.requests == 0


def test_works_on_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop", reason="uvloop is a bench extra")

    async def main() -> tuple[int, int]:
        async with app_server(echo_app()) as srv, ClientSession() as session:
            for _ in range(3):
                resp = await session.get(srv.url("/echo"))
                async with resp:
                    await resp.read()
            return resp.status, srv.connections

    assert uvloop.run(main()) == (200, 1)


async def test_expect100_waits_for_continue(server: AppServer) -> None:
    async with ClientSession() as session:
        resp = await session.put(server.url("/echo"), data=b"after continue", expect100=True)
        async with resp:
            got = await resp.json()
    assert got["body"] == "after continue"
    assert headers_of(got)["Expect"] == "100-continue"


async def test_expect100_body_not_sent_on_early_final_answer() -> None:
    from .servers import raw_server

    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        seen.append(await asyncio.wait_for(reader.read(100), 0.3))

    async with raw_server(handler) as srv, ClientSession() as session:
        resp = await session.put(srv.url(), data=b"never sent", expect100=True)
        async with resp:
            assert resp.status == 417
        await asyncio.sleep(0.4)
    assert b"never sent" not in b"".join(seen)


async def test_session_auto_decompress_off(server: AppServer) -> None:
    async with ClientSession(auto_decompress=False) as session:
        resp = await session.get(server.url("/echo"))
        async with resp:
            assert "Accept-Encoding" not in headers_of(await resp.json())


async def test_plain_request_reuse_respects_later_state(server: AppServer) -> None:
    """Plain GETs reuse a prebuilt request; later session state must still apply."""
    jar = cyhttp.CookieJar(unsafe=True)
    async with ClientSession(cookie_jar=jar) as session:
        for _ in range(2):
            resp = await session.get(server.url("/echo"))
            async with resp:
                assert "Cookie" not in headers_of(await resp.json())
        session.headers["X-Added"] = "later"
        resp = await session.get(server.url("/echo"))
        async with resp:
            assert headers_of(await resp.json())["X-Added"] == "later"
        del session.headers["X-Added"]
        resp = await session.get(server.url("/setcookie?k=v"))
        async with resp:
            await resp.read()
        resp = await session.get(server.url("/echo"))
        async with resp:
            sent = headers_of(await resp.json())
        assert sent["Cookie"] == "k=v" and "X-Added" not in sent
        resp = await session.get(server.url("/echo"), read_until_eof=False, timeout=5)
        async with resp:
            assert resp.request_info.headers["Host"] == f"127.0.0.1:{server.port}"


async def test_more_body_forms(server: AppServer) -> None:
    def pieces():
        yield b"sync-"
        yield "iter"

    class Unsized:
        """A file-like object whose size cannot be known: sent chunked."""

        def __init__(self) -> None:
            self._data = [b"one", b"two", b""]

        def read(self, n: int = -1) -> bytes:
            return self._data.pop(0)

    async with ClientSession() as session:
        resp = await session.post(server.url("/echo"), data=[("a", "1"), ("a", "2")])
        async with resp:
            assert (await resp.json())["body"] == "a=1&a=2"
        resp = await session.post(server.url("/echo"), data=pieces())
        async with resp:
            got = await resp.json()
            assert got["body"] == "sync-iter" and got["chunked"]
        resp = await session.post(server.url("/echo"), data=Unsized())
        async with resp:
            got = await resp.json()
            assert got["body"] == "onetwo" and got["chunked"]
        with pytest.raises(TypeError):
            await session.post(server.url("/echo"), data=object())


async def test_body_source_failure_fails_the_request(server: AppServer) -> None:
    async def broken():
        yield b"start"
        raise RuntimeError("source broke")

    async with ClientSession() as session:
        with pytest.raises(RuntimeError, match="source broke"):
            await session.post(server.url("/echo"), data=broken())
