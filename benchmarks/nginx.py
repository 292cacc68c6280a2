"""``--server nginx``: the HTTP workloads against a real nginx, with a config of our own.

nginx runs in the foreground as a single process (no daemon, no master) from a temporary
directory holding its config, its logs and the files it serves; it is stopped and the
directory removed at the end. nginx cannot echo a request body without third-party
modules, so in this mode ``/echo`` reads and discards the POST body and answers ``ok``.
Given the run's certificate it also listens for HTTPS (TLS 1.3) on a second port, and
for HTTP/2 over TLS on a third when asked: the HTTP/2 rows always use nginx, whichever
server the HTTP/1.1 rows use.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks import certs, procs, workloads

#: the body of a POST answer in nginx mode
ECHO_REPLY = b"ok"

#: the routes every server block serves (the HTTP/2 one too); ``/protocol`` answers the
#: protocol the request came in on (``HTTP/2.0`` on the HTTP/2 port)
_LOCATIONS = """\
        location = /small {{ default_type text/plain; return 200 "{small}"; }}
        location = /1m {{ try_files /1m.bin =404; }}
        location = /json-gzip {{
            default_type application/json;
            gzip on;
            gzip_types application/json;
            gzip_min_length 0;
            gzip_comp_level 6;
            try_files /doc.json =404;
        }}
        location = /echo {{
            client_max_body_size 4m;
            client_body_buffer_size 128k;
            return 200 "{reply}";
        }}
        location = /protocol {{ default_type text/plain; return 200 "$server_protocol"; }}
"""

_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp_body;
    proxy_temp_path {root}/tmp_proxy;
    fastcgi_temp_path {root}/tmp_fastcgi;
    uwsgi_temp_path {root}/tmp_uwsgi;
    scgi_temp_path {root}/tmp_scgi;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port} backlog=1024;
{tls}        root {root}/www;
{status}{locations}    }}
{h2}}}
"""


def find() -> str | None:
    """The nginx binary on PATH (or in /usr/sbin, where apt installs it), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_TLS = """\
        listen 127.0.0.1:{port} ssl backlog=1024;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.3;
"""


#: a server block of its own for HTTP/2 over TLS (ALPN h2; ``listen ... http2`` is the
#: spelling nginx 1.22 knows, later ones still accept it); 128 streams per connection, so
#: the 100 concurrent requests of the HTTP/2 rows all fit on one connection
_H2 = """\
    server {{
        listen 127.0.0.1:{port} ssl http2 backlog=1024;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.3;
        http2_max_concurrent_streams 128;
        root {root}/www;
{locations}    }}
"""


def config(
    root: Path,
    port: int,
    tls: certs.Files | None = None,
    tls_port: int | None = None,
    h2_port: int | None = None,
    status: bool = False,
) -> str:
    """The whole nginx.conf: plain HTTP on ``port``, HTTPS (HTTP/1.1) on ``tls_port`` and
    HTTP/2 over TLS on ``h2_port`` when given (the last two need the certificate).

    ``status``: the plain port also answers ``/nginx-status`` (nginx's stub_status: the
    connections accepted so far, which tests count; not every nginx build has it)."""
    locations = _LOCATIONS.format(small=workloads.SMALL_BODY.decode(), reply=ECHO_REPLY.decode())
    tls_lines = h2_block = ""
    if tls is not None and tls_port is not None:
        tls_lines = _TLS.format(port=tls_port, cert=tls.cert, key=tls.key)
    if tls is not None and h2_port is not None:
        h2_block = _H2.format(
            port=h2_port, cert=tls.cert, key=tls.key, root=root, locations=locations
        )
    status_line = "        location = /nginx-status { stub_status; }\n" if status else ""
    return _CONF.format(
        root=root, port=port, tls=tls_lines, status=status_line, locations=locations, h2=h2_block
    )


def _wait_listening(proc: subprocess.Popen[str], port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = log.read_text(errors="replace") if log.exists() else ""
            err = proc.stderr.read() if proc.stderr else ""
            raise procs.StartError(f"nginx exited with {proc.returncode}: {(err + text)[-500:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise procs.StartError(f"nginx did not listen on port {port} within {timeout:.0f} s")


@contextlib.contextmanager
def server(
    binary: str,
    cpus: frozenset[int] | None,
    tls: certs.Files | None = None,
    h2: bool = False,
    status: bool = False,
) -> Iterator[procs.Server]:
    """Start nginx on a free port of 127.0.0.1 (and HTTPS on another, given ``tls``; with
    ``h2`` too, HTTP/2 over TLS on a third), yield it, and always stop it.

    ``more_ports`` of the server yielded: (HTTPS port,) or (HTTPS port, HTTP/2 port)."""
    if h2 and tls is None:
        raise ValueError("HTTP/2 needs the run's certificate")
    with tempfile.TemporaryDirectory(prefix="cyhttp-bench-nginx-") as tmp:
        root = Path(tmp)
        (root / "www").mkdir()
        (root / "www" / "1m.bin").write_bytes(workloads.BIG_BODY)
        (root / "www" / "doc.json").write_bytes(workloads.JSON_TEXT)
        port = _free_port()
        tls_port = _free_port() if tls is not None else None
        h2_port = _free_port() if h2 else None
        conf = root / "nginx.conf"
        conf.write_text(config(root, port, tls, tls_port, h2_port, status))
        proc = subprocess.Popen(
            [binary, "-p", str(root), "-c", str(conf), "-e", str(root / "error.log")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            procs.pin(proc.pid, cpus)
            _wait_listening(proc, port, root / "error.log", 20.0)
            more = tuple(p for p in (tls_port, h2_port) if p is not None)
            for extra in more:
                _wait_listening(proc, extra, root / "error.log", 20.0)
            yield procs.Server("nginx", proc, port, more)
        finally:
            procs.stop(proc)
