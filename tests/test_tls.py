"""HTTPS end to end with certificates minted per test (trustme): verification on by
default, the 2.x trio (verify_ssl, ssl_context, fingerprint) and the modern ``ssl=``, per
connector and per request, certificate pinning, error classes, and closing TLS
connections whose peer never finishes the shutdown."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import struct
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest

import cyhttp
from cyhttp import (
    ClientConnectorCertificateError,
    ClientConnectorSSLError,
    ClientSession,
    ClientSSLError,
    Fingerprint,
    ServerFingerprintMismatch,
    TCPConnector,
)

from .servers import app_server, echo_app, raw_server
from .tls_servers import Pki, TlsServer, hello_app, stubborn_tls_server, tls_app_server


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture
async def server(pki: Pki) -> TlsServer:
    async with tls_app_server(hello_app(), pki.server_context()) as srv:
        yield srv


async def fetch(session: ClientSession, url: object, **kwargs: object) -> str:
    async with session.get(url, **kwargs) as resp:
        assert resp.status == 200
        return await resp.text()


# ----- verification -----


async def test_verified_by_default_rejects_unknown_ca(server: TlsServer) -> None:
    async with ClientSession() as session:
        with pytest.raises(ClientConnectorCertificateError) as info:
            await session.get(server.url())
    err = info.value
    assert isinstance(err, ClientSSLError)
    assert isinstance(err, ssl.CertificateError)
    assert isinstance(err, cyhttp.ClientConnectorError)
    assert err.host == "127.0.0.1"
    assert err.port == server.port
    assert isinstance(err.certificate_error, ssl.SSLCertVerificationError)
    assert err.certificate_error.verify_code == 20  # unable to get local issuer certificate
    assert "127.0.0.1" in str(err)


async def test_default_context_uses_the_system_trust_store(pki: Pki, tmp_path: Path) -> None:
    """With the CA in the store OpenSSL reads by default (SSL_CERT_FILE), a plain
    ``session.get`` verifies and succeeds: the default is the system store, not a
    private list. That default context offers ALPN http/1.1 (the server would prefer h2)."""
    ca_file = tmp_path / "ca.pem"
    pki.ca.cert_pem.write_to_path(str(ca_file))
    async with tls_app_server(hello_app(), pki.server_context(alpn=["h2", "http/1.1"])) as srv:
        script = (
            "import asyncio, cyhttp\n"
            "async def main():\n"
            "    async with cyhttp.ClientSession() as s:\n"
            "        async with s.get(URL) as r:\n"
            "            print(r.status, await r.text())\n"
            "        async with s.get(URL + 'alpn') as r:\n"
            "            print(await r.text())\n"
            "asyncio.run(main())\n"
        ).replace("URL", repr(str(srv.url())))
        env = {**os.environ, "SSL_CERT_FILE": str(ca_file)}
        env.pop("SSL_CERT_DIR", None)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, env=env, stdout=PIPE, stderr=PIPE
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert out.decode().split("\n")[:2] == ["200 hello https", "http/1.1"]


@pytest.mark.parametrize("ssl_arg", [True, None])
async def test_ssl_true_means_default_verification(server: TlsServer, ssl_arg: object) -> None:
    async with ClientSession(connector=TCPConnector(ssl=ssl_arg)) as session:
        with pytest.raises(ClientConnectorCertificateError):
            await session.get(server.url(), ssl=ssl_arg)


async def test_connector_ssl_context_verifies(pki: Pki, server: TlsServer) -> None:
    conn = TCPConnector(ssl_context=pki.client_context())
    assert conn.ssl_context is not None
    async with ClientSession(connector=conn) as session:
        assert await fetch(session, server.url()) == "hello https"
        assert await fetch(session, server.url()) == "hello https"
    assert server.connections == 1  # the TLS connection was pooled and reused


async def test_connector_modern_ssl_context(pki: Pki, server: TlsServer) -> None:
    async with ClientSession(connector=TCPConnector(ssl=pki.client_context())) as session:
        assert await fetch(session, server.url()) == "hello https"


async def test_request_ssl_context(pki: Pki, server: TlsServer) -> None:
    async with ClientSession() as session:
        ctx = pki.client_context()
        assert await fetch(session, server.url(), ssl_context=ctx) == "hello https"
        assert await fetch(session, server.url(), ssl=ctx) == "hello https"
        # the connector default is still strict
        with pytest.raises(ClientConnectorCertificateError):
            await session.get(server.url())


async def test_verify_ssl_false_per_connector(server: TlsServer) -> None:
    conn = TCPConnector(verify_ssl=False)
    assert conn.verify_ssl is False
    async with ClientSession(connector=conn) as session:
        assert await fetch(session, server.url()) == "hello https"


async def test_connector_ssl_false(server: TlsServer) -> None:
    async with ClientSession(connector=TCPConnector(ssl=False)) as session:
        assert await fetch(session, server.url()) == "hello https"


@pytest.mark.parametrize("kwargs", [{"verify_ssl": False}, {"ssl": False}])
async def test_unverified_per_request(server: TlsServer, kwargs: dict[str, object]) -> None:
    async with ClientSession() as session:
        assert await fetch(session, server.url(), **kwargs) == "hello https"


async def test_request_overrides_unverified_connector(pki: Pki, server: TlsServer) -> None:
    """A per-request context wins over the connector's verify_ssl=False, and a pooled
    unverified connection is not handed to a request that asked for verification."""
    conn = TCPConnector(verify_ssl=False)
    async with (
        tls_app_server(hello_app(), pki.server_context(pki.wrong_host)) as wrong,
        ClientSession(connector=conn) as session,
    ):
        assert await fetch(session, wrong.url()) == "hello https"
        with pytest.raises(ClientConnectorCertificateError):
            await session.get(wrong.url(), ssl=pki.client_context())
    assert wrong.connections == 1


async def test_wrong_host(pki: Pki) -> None:
    conn = TCPConnector(ssl=pki.client_context())
    async with (
        tls_app_server(hello_app(), pki.server_context(pki.wrong_host)) as srv,
        ClientSession(connector=conn) as session,
    ):
        with pytest.raises(ClientConnectorCertificateError) as info:
            await session.get(srv.url())
    cert_err = info.value.certificate_error
    assert isinstance(cert_err, ssl.SSLCertVerificationError)
    assert cert_err.verify_code == 64  # IP address mismatch
    assert info.value.port == srv.port


async def test_hostname_is_checked_by_name(pki: Pki) -> None:
    """The certificate is valid for 127.0.0.1 and localhost, not for another name that
    resolves to the same address."""
    async with tls_app_server(hello_app(), pki.server_context()) as srv:
        resolver = StaticResolver({"other.test": "127.0.0.1", "localhost": "127.0.0.1"})
        conn = TCPConnector(ssl=pki.client_context(), resolver=resolver)
        async with ClientSession(connector=conn) as session:
            assert await fetch(session, srv.url(host="localhost")) == "hello https"
            with pytest.raises(ClientConnectorCertificateError) as info:
                await session.get(srv.url(host="other.test"))
    assert info.value.host == "other.test"
    assert info.value.certificate_error.verify_code == 62  # hostname mismatch


async def test_expired_certificate(pki: Pki) -> None:
    async with (
        tls_app_server(hello_app(), pki.server_context(pki.expired)) as srv,
        ClientSession() as session,
    ):
        with pytest.raises(ClientConnectorCertificateError) as info:
            await session.get(srv.url(), ssl=pki.client_context())
        # pinning its fingerprint still works: pinning replaces CA verification
        text = await fetch(session, srv.url(), fingerprint=pki.fingerprint(pki.expired))
    assert info.value.certificate_error.verify_code == 10  # certificate has expired
    assert text == "hello https"


async def test_other_tls_error_is_ssl_error() -> None:
    """A TLS handshake with a plain-HTTP server fails below the certificate level."""
    async with app_server(echo_app()) as plain, ClientSession() as session:
        url = f"https://127.0.0.1:{plain.port}/echo"
        with pytest.raises(ClientConnectorSSLError) as info:
            await session.get(url, ssl=False)
    err = info.value
    assert isinstance(err, ssl.SSLError)
    assert not isinstance(err, ssl.CertificateError)
    assert (err.host, err.port, err.ssl) == ("127.0.0.1", plain.port, False)


async def test_tls_alert_is_ssl_error(pki: Pki) -> None:
    """A server that answers the ClientHello with a fatal "protocol version" alert."""

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)  # the ClientHello has started
        writer.write(b"\x15\x03\x03\x00\x02\x02\x46")  # alert(fatal, protocol_version)
        await writer.drain()
        await reader.read(65536)

    ctx = pki.client_context()
    async with raw_server(refuse) as srv, ClientSession() as session:
        with pytest.raises(ClientConnectorSSLError) as info:
            await session.get(f"https://127.0.0.1:{srv.port}/", ssl=ctx)
    assert info.value.ssl is ctx
    assert "ALERT_PROTOCOL_VERSION" in str(info.value.os_error)


@pytest.mark.parametrize("how", ["close", "reset"])
async def test_peer_hanging_up_in_handshake_is_ssl_error(how: str) -> None:
    """The TCP connection succeeds, then the peer drops it during the handshake."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        if how == "reset":  # linger 0: close() sends RST instead of FIN
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        else:
            writer.close()

    async with raw_server(hang_up) as srv, ClientSession() as session:
        with pytest.raises(ClientConnectorSSLError) as info:
            await session.get(f"https://127.0.0.1:{srv.port}/", ssl=False)
    err = info.value
    assert isinstance(err.os_error, ConnectionResetError)
    assert err.os_error.strerror
    assert (err.host, err.port) == ("127.0.0.1", srv.port)


# ----- pinning -----


async def test_fingerprint_per_connector(pki: Pki, server: TlsServer) -> None:
    digest = pki.fingerprint()
    conn = TCPConnector(fingerprint=digest)
    assert conn.fingerprint == digest
    async with ClientSession(connector=conn) as session:
        assert await fetch(session, server.url()) == "hello https"
        assert await fetch(session, server.url()) == "hello https"
    assert server.connections == 1


async def test_fingerprint_as_connector_ssl(pki: Pki, server: TlsServer) -> None:
    conn = TCPConnector(ssl=Fingerprint(pki.fingerprint()))
    async with ClientSession(connector=conn) as session:
        assert await fetch(session, server.url()) == "hello https"


async def test_request_ssl_true_defers_to_connector(pki: Pki, server: TlsServer) -> None:
    """As in aiohttp, ``ssl=True`` on a request means "the connector's setting"; a
    context given on the request replaces the connector's pin."""
    conn = TCPConnector(ssl=Fingerprint(pki.fingerprint(pki.wrong_host)))
    async with ClientSession(connector=conn) as session:
        with pytest.raises(ServerFingerprintMismatch):
            await session.get(server.url(), ssl=True)
        assert await fetch(session, server.url(), ssl=pki.client_context()) == "hello https"


@pytest.mark.parametrize("form", ["fingerprint", "ssl"])
async def test_fingerprint_per_request(pki: Pki, server: TlsServer, form: str) -> None:
    digest = pki.fingerprint()
    kwargs = {"fingerprint": digest} if form == "fingerprint" else {"ssl": Fingerprint(digest)}
    async with ClientSession() as session:
        assert await fetch(session, server.url(), **kwargs) == "hello https"


async def test_fingerprint_mismatch_closes_and_never_pools(pki: Pki, server: TlsServer) -> None:
    wrong = pki.fingerprint(pki.wrong_host)
    conn = TCPConnector(limit=1)
    async with ClientSession(connector=conn) as session:
        for _ in range(2):  # the slot is given back each time (limit=1 would block)
            with pytest.raises(ServerFingerprintMismatch) as info:
                await session.get(server.url(), fingerprint=wrong)
        assert not conn._conns
        assert not conn._acquired
        # the right pin gets a fresh connection
        text = await fetch(session, server.url(), fingerprint=pki.fingerprint())
    err = info.value
    assert err.expected == wrong
    assert err.got == pki.fingerprint()
    assert (err.host, err.port) == ("127.0.0.1", server.port)
    assert wrong.hex() in repr(err)
    assert text == "hello https"
    assert server.connections == 1  # only the pinned-right connection carried a request


async def test_fingerprint_ignored_for_plain_http(pki: Pki) -> None:
    async with app_server(echo_app()) as plain, ClientSession() as session:
        resp = await session.get(plain.url("/echo"), fingerprint=pki.fingerprint())
        assert resp.status == 200
        resp.release()


@pytest.mark.parametrize("size", [16, 20])
async def test_weak_digests_refused(size: int) -> None:
    digest = b"\x01" * size
    with pytest.raises(ValueError, match="sha256"):
        TCPConnector(fingerprint=digest)
    with pytest.raises(ValueError, match="sha256"):
        Fingerprint(digest)
    async with ClientSession() as session:
        with pytest.raises(ValueError, match="sha256"):
            await session.get("https://127.0.0.1:1/", fingerprint=digest)


async def test_bad_digest_length_refused() -> None:
    with pytest.raises(ValueError):
        Fingerprint(b"\x00" * 31)
    with pytest.raises(TypeError):
        Fingerprint("00" * 32)  # type: ignore[arg-type]


# ----- conflicting arguments -----


def test_connector_conflicts(pki: Pki) -> None:
    ctx = pki.client_context()
    digest = pki.fingerprint()
    with pytest.raises(ValueError):
        TCPConnector(verify_ssl=False, ssl_context=ctx)
    with pytest.raises(ValueError):
        TCPConnector(ssl=ctx, verify_ssl=False)
    with pytest.raises(ValueError):
        TCPConnector(ssl=ctx, ssl_context=ctx)
    with pytest.raises(ValueError):
        TCPConnector(ssl=False, fingerprint=digest)
    with pytest.raises(ValueError):
        TCPConnector(fingerprint=digest, ssl_context=ctx)
    with pytest.raises(TypeError):
        TCPConnector(ssl="yes")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"verify_ssl": False, "ssl_context": "ctx"},
        {"ssl": "ctx", "verify_ssl": False},
        {"ssl": "ctx", "fingerprint": "digest"},
        {"ssl": False, "ssl_context": "ctx"},
        {"ssl_context": "ctx", "fingerprint": "digest"},
    ],
)
async def test_request_conflicts(pki: Pki, server: TlsServer, kwargs: dict[str, object]) -> None:
    values = {"ctx": pki.client_context(), "digest": pki.fingerprint()}
    real = {k: values.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    async with ClientSession() as session:
        with pytest.raises(ValueError):
            await session.get(server.url(), **real)
    assert server.connections == 0


async def test_request_bad_ssl_type(server: TlsServer) -> None:
    async with ClientSession() as session:
        with pytest.raises(TypeError):
            await session.get(server.url(), ssl="no")


async def test_pool_separates_tls_settings(pki: Pki, server: TlsServer) -> None:
    async with ClientSession() as session:
        assert await fetch(session, server.url(), ssl=False) == "hello https"
        assert await fetch(session, server.url(), fingerprint=pki.fingerprint()) == "hello https"
        assert await fetch(session, server.url(), ssl=False) == "hello https"
    assert server.connections == 2


# ----- closing -----


async def test_cleanup_closed_aborts_stubborn_tls_peer(pki: Pki) -> None:
    """The server never answers close_notify; closing the connector must still drop the
    TCP connection at once rather than wait for the TLS shutdown to finish."""
    async with stubborn_tls_server(pki.server_context()) as srv:
        conn = TCPConnector(enable_cleanup_closed=True, ssl=pki.client_context())
        session = ClientSession(connector=conn)
        async with session.get(srv.url()) as resp:
            assert await resp.read() == b"ok"
        assert sum(len(v) for v in conn._conns.values()) == 1  # pooled, alive
        await session.close()
        # bounded wait (asyncio's own TLS shutdown timeout is 30 s)
        await asyncio.wait_for(srv.closed.wait(), 10)
    assert conn.closed


async def test_closed_response_connection_dropped_for_stubborn_peer(pki: Pki) -> None:
    async with stubborn_tls_server(pki.server_context()) as srv:
        conn = TCPConnector(enable_cleanup_closed=True, force_close=True)
        async with ClientSession(connector=conn) as session:
            async with session.get(srv.url(), ssl=pki.client_context()) as resp:
                assert await resp.read() == b"ok"
            await asyncio.wait_for(srv.closed.wait(), 10)


class StaticResolver(cyhttp.abc.AbstractResolver):
    """Maps names to 127.0.0.1 without DNS."""

    def __init__(self, table: dict[str, str]) -> None:
        self._table = table

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[dict[str, object]]:
        import socket

        return [
            {
                "hostname": host,
                "host": self._table[host],
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        return None


# ----- ALPN -----


@pytest.fixture
async def alpn_server(pki: Pki) -> TlsServer:
    """A server that takes part in ALPN and would rather speak h2."""
    async with tls_app_server(hello_app(), pki.server_context(alpn=["h2", "http/1.1"])) as srv:
        yield srv


@pytest.mark.parametrize("how", ["ssl_false", "verify_ssl_false", "fingerprint"])
async def test_own_contexts_offer_alpn_http11(pki: Pki, alpn_server: TlsServer, how: str) -> None:
    """The contexts cyhttp builds offer ALPN ``http/1.1`` (only: the server prefers h2)."""
    kwargs: dict[str, object] = {
        "ssl_false": {"ssl": False},
        "verify_ssl_false": {"verify_ssl": False},
        "fingerprint": {"ssl": Fingerprint(pki.fingerprint())},
    }[how]
    async with ClientSession() as session:
        assert await fetch(session, alpn_server.url("/alpn"), **kwargs) == "http/1.1"


async def test_user_context_is_used_as_given(pki: Pki, alpn_server: TlsServer) -> None:
    """A user's SSLContext is never changed: no ALPN added to it (it may be shared with
    code that wants none, or other protocols), and its own ALPN choice is what is offered."""
    plain = pki.client_context()
    async with ClientSession(connector=TCPConnector(ssl=plain)) as session:
        assert await fetch(session, alpn_server.url("/alpn")) == "none"
        other = pki.client_context()
        assert await fetch(session, alpn_server.url("/alpn"), ssl=other) == "none"
        assert await fetch(session, alpn_server.url("/alpn"), ssl_context=other) == "none"
    own = pki.client_context()
    own.set_alpn_protocols(["h2", "http/1.1"])  # its own choice, even one cyhttp cannot speak
    async with ClientSession() as session:
        assert await fetch(session, alpn_server.url("/alpn"), ssl=own) == "h2"
