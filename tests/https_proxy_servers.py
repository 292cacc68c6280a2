"""``https://`` proxies (TLS between client and proxy) on 127.0.0.1 for the proxy tests.

* :func:`https_proxy_py` runs the ``proxy.py`` package as a TLS-terminating proxy
  (``--cert-file/--key-file``, a certificate minted by ``trustme``) in a subprocess of its
  own session, and kills that process group at the end.
* :func:`recording_tls_proxy` is a small hand-written TLS proxy that records each request
  head it reads (CONNECT and absolute-form ones) and the ALPN protocol the client chose,
  then relays bytes both ways, so a test can see exactly what went over the TLS link.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from yarl import URL

from .proxy_servers import free_port, proxy_py_process


@dataclass
class HttpsProxyProcess:
    port: int
    auth: str | None

    @property
    def url(self) -> URL:
        return URL(f"https://127.0.0.1:{self.port}")


def _wait_tls_ready(port: int, proc: subprocess.Popen[bytes], limit: float = 30.0) -> None:
    """Wait until the proxy completes a TLS handshake (a bare TCP probe would leave the
    proxy's worker waiting for a ClientHello)."""
    probe = ssl.create_default_context()
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"proxy.py exited early with status {proc.returncode}")
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=1.0) as raw,
                probe.wrap_socket(raw, server_hostname="127.0.0.1"),
            ):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"proxy.py did not accept TLS on port {port} in {limit} s")


@contextlib.contextmanager
def https_proxy_py(
    leaf: trustme.LeafCert, basic_auth: str | None = None
) -> Iterator[HttpsProxyProcess]:
    """Run ``proxy.py`` as an ``https://`` proxy on a free port of 127.0.0.1, presenting
    ``leaf`` (``basic_auth`` = "user:pass" makes it require those credentials)."""
    with tempfile.TemporaryDirectory(prefix="cyhttp-https-proxy-") as tmp:
        cert, key = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        leaf.cert_chain_pems[0].write_to_path(str(cert))
        leaf.private_key_pem.write_to_path(str(key))
        port = free_port()
        tls = ["--cert-file", str(cert), "--key-file", str(key)]
        with proxy_py_process(port, basic_auth, tls, cwd=tmp) as proc:
            _wait_tls_ready(port, proc)
            yield HttpsProxyProcess(port=port, auth=basic_auth)


@dataclass
class RecordingTlsProxy:
    port: int
    heads: list[bytes] = field(default_factory=list)
    #: the ALPN protocol chosen on each TLS connection to the proxy (None: none offered)
    alpn: list[str | None] = field(default_factory=list)
    answer_connect: bytes = b"HTTP/1.1 200 Connection established\r\n\r\n"

    @property
    def url(self) -> URL:
        return URL(f"https://127.0.0.1:{self.port}")


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.transport.abort()


@contextlib.asynccontextmanager
async def recording_tls_proxy(context: ssl.SSLContext) -> AsyncIterator[RecordingTlsProxy]:
    """A minimal ``https://`` proxy serving TLS with ``context``: records each request head;
    CONNECT gets ``answer_connect`` and then a byte relay to the target; an absolute-form
    request is forwarded as it came to its target and the answer relayed back. On exit the
    listener closes and every connection is aborted (no TLS shutdown to wait for)."""
    state = RecordingTlsProxy(port=0)
    tasks: set[asyncio.Task[Any]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sslobj = writer.get_extra_info("ssl_object")
        state.alpn.append(sslobj.selected_alpn_protocol() if sslobj is not None else None)
        up_writer: asyncio.StreamWriter | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            state.heads.append(head)
            method, target, _ = head.split(b"\r\n", 1)[0].split(b" ", 2)
            if method == b"CONNECT":
                if not state.answer_connect.startswith(b"HTTP/1.1 200"):
                    writer.write(state.answer_connect)
                    await writer.drain()
                    return
                host, _, port = target.rpartition(b":")
                up_reader, up_writer = await asyncio.open_connection(host.decode(), int(port))
                writer.write(state.answer_connect)
            else:
                url = URL(target.decode())
                up_reader, up_writer = await asyncio.open_connection(url.host, url.port)
                up_writer.write(head)
            await asyncio.gather(_relay(reader, up_writer), _relay(up_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            if up_writer is not None:
                up_writer.transport.abort()
            writer.transport.abort()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await serve(reader, writer)
        finally:
            tasks.discard(task)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=context)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        if tasks:
            await asyncio.wait(list(tasks), timeout=2)
        await server.wait_closed()
