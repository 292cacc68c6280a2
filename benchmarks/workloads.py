"""What is measured: the request paths, the bodies the server sends and the client checks.

Servers and clients both import this module, so a body size or a path is written once.
Everything here is deterministic (no randomness), so every run measures the same bytes.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass

SMALL_BODY = b"Hello, World!"
BIG_SIZE = 1024 * 1024
BIG_BODY = bytes(range(256)) * (BIG_SIZE // 256)
POST_SIZE = 64 * 1024
POST_BODY = b"p" * POST_SIZE
WS_SMALL = b"w" * 64
WS_BIG = bytes(range(256)) * (BIG_SIZE // 256)
CONCURRENCY = 50
#: HTTP/2 rows: requests in flight at once, all on one TLS connection
H2_SMALL_CONCURRENCY = 100
H2_BIG_CONCURRENCY = 10
#: the gzip-encoded JSON body is sent in chunks of this size (chunked transfer coding)
JSON_CHUNK = 512
#: Records in the JSON document: a typical API answer of about 7 KiB (1 KiB gzipped). With
#: 500 records (68 KiB) ``json.loads`` alone took ~90% of every client's time, so the row
#: measured the standard library's decoder, the same in every client, not the client.
JSON_ITEMS = 50


def json_document() -> list[dict[str, object]]:
    """``JSON_ITEMS`` small records, the same on every call."""
    return [
        {
            "id": i,
            "name": f"item-{i:04d}",
            "tags": ["alpha", "beta", "gamma"][: 1 + i % 3],
            "price": round(i * 1.25, 2),
            "active": i % 2 == 0,
            "owner": {"login": f"user{i % 37}", "score": i * 7 % 101},
        }
        for i in range(JSON_ITEMS)
    ]


JSON_TEXT = json.dumps(json_document()).encode()
JSON_GZIP = gzip.compress(JSON_TEXT, compresslevel=6, mtime=0)


@dataclass(frozen=True)
class Workload:
    """One row group of the table: ``key`` for the command line, ``name`` for people."""

    key: str
    name: str
    kind: str  # "http" (HTTP/1.1), "h2" (HTTP/2 over TLS, one connection) or "ws"
    unit: str
    #: operations kept in flight at once by concurrent workers (1: one after another)
    workers: int = 1
    #: client and server work at the same time (many requests in flight, or a large body
    #: streamed while the server is still sending it): the client then gets a CPU of its
    #: own (``machine.cpu_plan``); otherwise the two sides take turns and share one CPU
    parallel: bool = False
    #: over HTTPS (TLS 1.3, a certificate of a CA made for the run that every client trusts)
    tls: bool = False


HTTP_WORKLOADS = (
    Workload("get_small_seq", "GET small, keep-alive, sequential", "http", "req/s"),
    Workload(
        "get_small_c50",
        "GET small, 50 concurrent",
        "http",
        "req/s",
        workers=CONCURRENCY,
        parallel=True,
    ),
    Workload("get_1m", "GET 1 MiB", "http", "req/s", parallel=True),
    Workload("get_json_gzip", "GET gzip chunked JSON", "http", "req/s"),
    Workload("post_64k", "POST 64 KiB (echo)", "http", "req/s"),
    Workload(
        "https_small_seq", "HTTPS GET small, keep-alive, sequential", "http", "req/s", tls=True
    ),
    Workload(
        "https_small_c50",
        "HTTPS GET small, 50 concurrent",
        "http",
        "req/s",
        workers=CONCURRENCY,
        parallel=True,
        tls=True,
    ),
    Workload("https_1m", "HTTPS GET 1 MiB", "http", "req/s", parallel=True, tls=True),
)
#: HTTP/2 over TLS (ALPN h2) against nginx, every request of a client on one connection
H2_WORKLOADS = (
    Workload(
        "h2_small_c100",
        "HTTP/2 GET small, 100 concurrent, 1 connection",
        "h2",
        "req/s",
        workers=H2_SMALL_CONCURRENCY,
        parallel=True,
        tls=True,
    ),
    Workload(
        "h2_1m_c10",
        "HTTP/2 GET 1 MiB, 10 concurrent, 1 connection",
        "h2",
        "req/s",
        workers=H2_BIG_CONCURRENCY,
        parallel=True,
        tls=True,
    ),
)
WS_WORKLOADS = (
    Workload("ws_echo_64", "WS echo 64 B", "ws", "msg/s"),
    Workload("ws_echo_1m", "WS echo 1 MiB", "ws", "msg/s", parallel=True),
)
ALL_WORKLOADS = HTTP_WORKLOADS + H2_WORKLOADS + WS_WORKLOADS
BY_KEY = {w.key: w for w in ALL_WORKLOADS}

#: the HTTPS workloads run the same requests as these plain ones
PLAIN_TWIN = {
    "https_small_seq": "get_small_seq",
    "https_small_c50": "get_small_c50",
    "https_1m": "get_1m",
}

#: memory rows (``client_memory``): N connections or requests, RSS growth divided by N
MEMORY_CONNECTIONS = 400
MEMORY_CONNECTIONS_QUICK = 100
MEMORY_INFLIGHT = "RSS per in-flight request (own connection)"
MEMORY_IDLE = "RSS per idle pooled connection"
MEMORY_UNIT = "KiB"
