"""Smoke test of the ``make bench`` harness: servers start, answer and stop; the client
process reports results; the table, JSON and chart writers work on made-up rows.

Also: the embedded server's HTTPS port (TLS 1.3, the run's own CA) and its ``/hold`` routes;
every HTTP client trusting that CA and only it, and reusing its connections; one tiny run
of each added client (wreq, pyreqwest, curl_cffi, niquests: skipped, with the reason, where
the library is not installed); CPU time counting every thread; the memory rows.

No timing is asserted here (speed is what ``benchmarks`` measures, not what tests check).
The harness needs the ``bench`` extra (httptools, picows, matplotlib); without it these
tests are skipped with that reason.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import hashlib
import http.client
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httptools", reason="the bench extra is not installed (make bench does it)")
pytest.importorskip("picows", reason="the bench extra is not installed (make bench does it)")

from benchmarks import __main__ as bench_main
from benchmarks import (
    certs,
    client_floor,
    client_floor_h2,
    client_main,
    clients,
    machine,
    nginx,
    procs,
    report,
    runner,
    workloads,
)

pytestmark = pytest.mark.timeout(60)
PY = sys.executable


def _request(
    port: int, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _tls_server_argv(tls: certs.Files) -> list[str]:
    return [
        *[PY, "-m", "benchmarks.http_server", "--loop", "asyncio"],
        *["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)],
    ]


def test_http_server_answers_every_route_then_stops() -> None:
    argv = [PY, "-m", "benchmarks.http_server", "--loop", "asyncio"]
    with procs.server("http", argv, None) as srv:
        status, headers, body = _request(srv.port, "GET", "/small")
        assert (status, body) == (200, workloads.SMALL_BODY)
        status, headers, body = _request(srv.port, "GET", "/1m")
        assert status == 200 and body == workloads.BIG_BODY
        status, headers, body = _request(srv.port, "GET", "/json-gzip")
        assert headers["transfer-encoding"] == "chunked"
        assert headers["content-encoding"] == "gzip"
        assert json.loads(gzip.decompress(body)) == workloads.json_document()
        status, headers, body = _request(srv.port, "POST", "/echo", workloads.POST_BODY)
        assert (status, body) == (200, workloads.POST_BODY)
        assert _request(srv.port, "GET", "/nope")[0] == 404
        proc = srv.proc
    assert proc.poll() is not None, "the server must be stopped when the block ends"


def test_ws_server_echoes_then_stops() -> None:
    from websockets.sync.client import connect

    argv = [PY, "-m", "benchmarks.ws_server", "--loop", "asyncio"]
    with procs.server("ws", argv, None) as srv:
        with connect(f"ws://127.0.0.1:{srv.port}/", compression=None, max_size=2**22) as ws:
            ws.send(workloads.WS_SMALL)
            assert ws.recv(timeout=10) == workloads.WS_SMALL
            ws.send("text too")
            assert ws.recv(timeout=10) == "text too"
        proc = srv.proc
    assert proc.poll() is not None


def test_server_that_never_gets_ready_is_reported_and_killed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stopped = []
    real_stop = procs.stop

    def recording_stop(proc: Any) -> None:
        real_stop(proc)
        stopped.append(proc)

    monkeypatch.setattr(procs, "stop", recording_stop)
    argv = [PY, "-c", "import time; time.sleep(30)"]
    with (
        pytest.raises(procs.StartError, match="no READY line"),
        procs.server("sleeper", argv, None, timeout=0.5),
    ):
        pass  # pragma: no cover
    assert len(stopped) == 1 and stopped[0].poll() is not None


def test_client_process_reports_results_and_errors() -> None:
    http_argv = [PY, "-m", "benchmarks.http_server", "--loop", "asyncio"]
    ws_argv = [PY, "-m", "benchmarks.ws_server", "--loop", "asyncio"]
    with procs.server("http", http_argv, None) as h, procs.server("ws", ws_argv, None) as w:
        argv = [
            PY,
            "-m",
            "benchmarks.client_main",
            "--client",
            "aiohttp",
            "--loop",
            "asyncio",
            "--http-url",
            f"http://127.0.0.1:{h.port}",
            "--ws-url",
            f"ws://127.0.0.1:{w.port}/",
            "--workloads",
            "get_small_seq,ws_echo_64",
            "--duration",
            "0.05",
            "--warmup",
            "0.01",
        ]
        done = procs.run(argv, None, timeout=50)
        # /echo answers with the body, so expecting "ok" must be reported as a wrong answer
        wrong = procs.run(
            [
                *argv[:-6],
                "--workloads",
                "post_64k",
                "--duration",
                "0.05",
                "--warmup",
                "0.01",
                "--echo",
                "ok",
            ],
            None,
            timeout=50,
        )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["meta"]["client"] == "aiohttp"
    results = {line["workload"]: line for line in lines[1:]}
    for key in ("get_small_seq", "ws_echo_64"):
        assert results[key]["ops"] > 0 and results[key]["seconds"] > 0, results[key]
        assert results[key]["cpu"] >= 0
    post = json.loads(wrong.stdout.splitlines()[-1])
    assert "wrong answer" in post["error"]


def _fake_results() -> runner.Results:
    res = runner.Results()
    name = workloads.HTTP_WORKLOADS[0].name
    res.units[name] = "req/s"
    res.groups[name] = "http"
    res.samples[(name, "cyhttp compiled", "uvloop")] += [100.0, 110.0, 90.0]
    res.samples[(name, "aiohttp", "uvloop")] += [50.0, 40.0, 60.0]
    res.cpu_us[(name, "aiohttp", "uvloop")] += [1234.0, 1000.0, 2000.0]
    res.errors[(name, "httpx", "uvloop")].append("RuntimeError: boom")
    res.units["import time"] = "ms"
    res.groups["import time"] = "import"
    res.samples[("import time", "cyhttp compiled", "-")] += [30.0]
    res.samples[("import time", "aiohttp", "-")] += [90.0]
    res.micro_rows.append(
        {
            "bench": "parser 9-header",
            "impl": "cyhttp compiled",
            "value": 300.0,
            "unit": "msg/s",
            "spread": 0.02,
        }
    )
    res.micro_rows.append(
        {
            "bench": "parser 9-header",
            "impl": "aiohttp (llhttp)",
            "value": 100.0,
            "unit": "msg/s",
            "spread": 0.05,
        }
    )
    for impl, value in (("cyhttp pure", 40.0), ("aiohttp pure", 32.0)):
        res.micro_rows.append(
            {"bench": "parser 9-header", "impl": impl, "value": value, "unit": "msg/s"}
        )
    for impl, value in (("cyhttp compiled", 900.0), ("aiohttp (llhttp)", 100.0)):
        res.micro_rows.append(
            {"bench": "parser 1MiB chunked", "impl": impl, "value": value, "unit": "MB/s"}
        )
    return res


def test_rows_speeds_table_and_targets_from_fake_results() -> None:
    rows = report.build_rows(_fake_results())
    by = {(r["bench"], r["impl"]): r for r in rows}
    small = workloads.HTTP_WORKLOADS[0].name
    cy, aio, httpx_row = (
        by[(small, "cyhttp compiled")],
        by[(small, "aiohttp")],
        by[(small, "httpx")],
    )
    assert cy["value"] == 100.0 and cy["spread"] == pytest.approx(0.2)
    assert aio["speed"] == pytest.approx(0.5)
    assert httpx_row["value"] is None and httpx_row["error"] == "RuntimeError: boom"
    # times: lower is faster, so 90 ms against 30 ms is a third of the speed
    assert by[("import time", "aiohttp")]["speed"] == pytest.approx(1 / 3)
    assert by[("parser 9-header", "aiohttp (llhttp)")]["speed"] == pytest.approx(1 / 3)
    text = "\n".join(report.text_table(rows))
    assert "0.50x" in text and "error: RuntimeError: boom" in text
    assert aio["cpu_us_per_op"] == 1234.0 and "1,234" in text
    assert report.noisy(rows) is None  # spreads 20%, 40%, 0, 0: median 10%, not flagged
    assert report.noisy(rows, limit=0.05) == pytest.approx(0.1)
    found = {t["what"]: t for t in _aiohttp_targets(rows)}
    assert found[f"{small} (uvloop)"]["met"] is True  # exactly 2.0x aiohttp
    assert found["parser 9-header"]["ratio"] == pytest.approx(3.0)
    assert found["import time (ms, absolute)"]["met"] is True
    # issue 3's own targets: the pure twin against aiohttp's pure parser (1.25x < 1.5x),
    # and the chunked body in absolute MB/s (900 < 1000), not as a ratio
    pure = found["parser 9-header, pure-Python twin"]
    assert pure["ratio"] == pytest.approx(1.25) and pure["met"] is False
    chunked = found["parser 1MiB chunked (MB/s, absolute)"]
    assert chunked["met"] is False and "parser 1MiB chunked" not in found
    lines = report.targets_lines(report.targets(rows))
    assert "  parser 1MiB chunked (MB/s, absolute): 900 MB/s (target >= 1,000) MISSED" in lines
    assert "  import time (ms, absolute): 30.0 ms (target <= 60.0) met" in lines


def test_reference_falls_back_to_aiohttp_without_cyhttp() -> None:
    res = _fake_results()
    small = workloads.HTTP_WORKLOADS[0].name
    del res.samples[(small, "cyhttp compiled", "uvloop")]
    res.errors[(small, "cyhttp compiled", "uvloop")].append("AttributeError: no ClientSession")
    rows = report.build_rows(res)
    aio = next(r for r in rows if r["bench"] == small and r["impl"] == "aiohttp")
    assert aio["reference"] == "aiohttp" and aio["speed"] == pytest.approx(1.0)


def test_json_markdown_and_chart_writers(tmp_path: Path) -> None:
    rows = report.build_rows(_fake_results())
    path = report.write({"settings": {"quick": True}, "rows": rows}, tmp_path)
    assert path.name.endswith("-quick.json")
    assert (
        json.loads((tmp_path / "latest.json").read_text())["rows"][0]["bench"] == rows[0]["bench"]
    )
    assert "| parser 9-header | aiohttp (llhttp) |" in (tmp_path / "latest.md").read_text()
    pytest.importorskip("matplotlib", reason="the bench extra is not installed")
    from benchmarks import chart

    png = chart.draw(rows, tmp_path / "x.png", "title", "subtitle")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_only_filter() -> None:
    loops = ["asyncio", "uvloop"]
    sel = runner.select(["ws", "uvloop", "aiohttp"], loops)
    assert {w.kind for w in sel.workloads} == {"ws"}
    assert [c.key for c in sel.clients] == ["cyhttp-c", "aiohttp"]  # the reference stays
    assert sel.loops == ["uvloop"] and sel.micro == [] and not sel.import_time
    sel = runner.select(["1 MiB"], loops)
    assert [w.key for w in sel.workloads] == ["get_1m", "https_1m", "h2_1m_c10", "ws_echo_1m"]
    assert len(sel.clients) == 14 and sel.loops == loops and not sel.memory
    sel = runner.select(["floor", "echo 64"], loops)
    assert [c.key for c in sel.clients] == ["cyhttp-c", "floor"]
    assert [w.key for w in sel.workloads] == ["ws_echo_64"]
    sel = runner.select(["https", "wreq"], loops)
    assert [w.key for w in sel.workloads] == ["https_small_seq", "https_small_c50", "https_1m"]
    assert [c.key for c in sel.clients] == ["cyhttp-c", "wreq"]
    sel = runner.select(["memory"], loops)
    assert sel.memory and sel.workloads == [] and sel.micro == [] and not sel.import_time
    everything = runner.select([], loops)
    assert everything.import_time and everything.micro and len(everything.workloads) == 12
    assert everything.memory
    assert clients.BY_KEY["floor"] in everything.clients  # make bench runs the floor too
    for key in ("wreq", "pyreqwest", "curl_cffi", "niquests"):
        assert clients.BY_KEY[key] in everything.clients
    sel = runner.select(["h2", "httpx"], loops)  # HTTP/2 rows: not part of "https"
    assert [w.key for w in sel.workloads] == ["h2_small_c100", "h2_1m_c10"]
    assert [c.key for c in sel.clients] == ["cyhttp-c", "httpx"]
    assert runner.select(["http2"], loops).workloads == sel.workloads
    assert [m for m in runner.select(["hpack"], loops).micro] == ["bench_hpack"]
    with pytest.raises(runner.SelectionError, match="nonsense"):
        runner.select(["nonsense"], loops)


def test_nginx_missing_is_said(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_main.nginx, "find", lambda: None)
    assert bench_main.main(["--server", "nginx", "--only", "small"]) == 2
    assert "nginx is not installed" in capsys.readouterr().err


def test_whole_run_on_a_tiny_selection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--only", "get_small_seq,aiohttp,floor,asyncio", "--rounds", "2", "--duration", "0.05"]
    assert bench_main.main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Machine:" in out and "GET small, keep-alive, sequential" in out
    document = json.loads((tmp_path / "latest.json").read_text())
    assert {(r["impl"], r["loop"]) for r in document["rows"]} == {
        ("cyhttp compiled", "asyncio"),
        ("aiohttp", "asyncio"),
        (clients.FLOOR, "asyncio"),
    }
    assert all(r["reference"] == clients.BASELINE for r in document["rows"])
    assert document["pinning"]["placement"] == "auto"
    assert document["pinning"]["note"] in out  # the header says where each kind ran
    target, field = document["targets"]
    assert target["versus"] == "aiohttp" and target["ceiling"] > 0
    assert field["kind"] == "field" and field["versus"] == "aiohttp"  # the only peer here
    line = next(x for x in out.splitlines() if "GET small, keep-alive, sequential (asyncio):" in x)
    assert f"ceiling here {target['ceiling']:.2f}x (raw protocol / aiohttp)" in line
    aiohttp_row = next(r for r in document["rows"] if r["impl"] == "aiohttp")
    assert len(aiohttp_row["runs"]) == 2 and aiohttp_row["value"] > 0
    assert (tmp_path / "latest.png").read_bytes()[:4] == b"\x89PNG"


# --- placement: which CPU runs what ---------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="this OS cannot pin processes")
def test_cpu_plan_per_placement_on_two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine.os, "sched_getaffinity", lambda pid: {5, 2, 7})
    two, five = frozenset({2}), frozenset({5})
    auto = machine.cpu_plan("auto")
    assert (auto.server, auto.pingpong, auto.parallel) == (two, two, five)
    assert "auto" in auto.note and "on CPU 5" in auto.note
    split = machine.cpu_plan("split")
    assert (split.server, split.pingpong, split.parallel) == (two, five, five)
    shared = machine.cpu_plan("shared")
    assert (shared.server, shared.pingpong, shared.parallel) == (two, two, two)
    assert machine.cpu_plan() == auto
    # the workload decides which client set applies: the ones where both sides work at
    # once (50 in flight, 1 MiB bodies) get the other CPU
    picked = {w.key: auto.client_cpus(w.parallel) for w in workloads.ALL_WORKLOADS}
    apart = {key for key, cpus in picked.items() if cpus == five}
    assert apart == {
        *("get_small_c50", "get_1m", "https_small_c50", "https_1m", "ws_echo_1m"),
        *("h2_small_c100", "h2_1m_c10"),
    }
    assert {cpus for key, cpus in picked.items() if key not in apart} == {two}
    assert auto.as_json() == {
        "placement": "auto",
        "servers": [2],
        "clients_pingpong": [2],
        "clients_parallel": [5],
        "note": auto.note,
    }
    with pytest.raises(ValueError, match="placement"):
        machine.cpu_plan("everywhere")


def test_cpu_plan_on_one_cpu_pins_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine.os, "sched_getaffinity", lambda pid: {3}, raising=False)
    for placement in machine.PLACEMENTS:
        plan = machine.cpu_plan(placement)
        assert (plan.server, plan.pingpong, plan.parallel) == (None, None, None)
        assert plan.note.startswith("not pinned")


def test_runner_hands_the_plan_to_the_client_process(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[list[str], frozenset[int] | None]] = []

    def fake_run(argv: list[str], cpus: frozenset[int] | None, *rest: Any) -> procs.Finished:
        calls.append((argv, cpus))
        return procs.Finished(0, "", "")

    monkeypatch.setattr(runner.procs, "run", fake_run)
    plan = machine.CpuPlan(frozenset({0}), frozenset({0}), frozenset({1, 3}), "test", "auto")
    todo = [workloads.BY_KEY["get_small_c50"], workloads.BY_KEY["get_small_seq"]]
    results = runner.Results()
    urls = runner.Endpoints("http://127.0.0.1:1", "ws://127.0.0.1:2/", "https://127.0.0.1:3", "/ca")
    runner._client_round(
        clients.BY_KEY["aiohttp"], "asyncio", todo, urls, runner.Settings(), plan, results
    )
    ((argv, cpus),) = calls
    assert "--pingpong-cpus=0" in argv and "--parallel-cpus=1,3" in argv
    assert argv[argv.index("--https-url") + 1] == "https://127.0.0.1:3"
    assert argv[argv.index("--ca-file") + 1] == "/ca"
    assert cpus == frozenset({1, 3})  # started where its first workload runs
    # a client process that printed nothing leaves an error for every workload, no sample
    assert not results.samples and len(results.errors) == 2


@pytest.mark.parametrize("allocator", ["settled", "fresh"])
def test_allocator_mode_decides_processes_per_workload(
    monkeypatch: pytest.MonkeyPatch, allocator: str
) -> None:
    urls = runner.Endpoints("http://127.0.0.1:1", "ws://127.0.0.1:2/")
    monkeypatch.setattr(runner, "_servers", lambda *args: contextlib.nullcontext(urls))
    calls: list[list[str]] = []

    def fake_run(argv: list[str], cpus: frozenset[int] | None, *rest: Any) -> procs.Finished:
        calls.append(argv)
        return procs.Finished(0, "", "")

    monkeypatch.setattr(runner.procs, "run", fake_run)
    sel = runner.select(["aiohttp", "get_small"], ["asyncio"])
    settings = runner.Settings(rounds=1, allocator=allocator)
    runner.run(settings, sel, machine.CpuPlan(None, None, None, "test"))
    runs = [
        (argv[argv.index("--client") + 1], argv[argv.index("--workloads") + 1]) for argv in calls
    ]
    flagged = ["--fresh-allocator" in argv for argv in calls]
    if allocator == "fresh":  # a new, untouched process for every workload
        assert runs == [
            ("cyhttp-c", "get_small_seq"),
            ("cyhttp-c", "get_small_c50"),
            ("aiohttp", "get_small_seq"),
            ("aiohttp", "get_small_c50"),
        ]
        assert all(flagged)
    else:
        both = "get_small_seq,get_small_c50"
        assert runs == [("cyhttp-c", both), ("aiohttp", both)] and not any(flagged)


def _floor_argv(
    h: procs.Server, w: procs.Server, loop: str, cpus: list[int], ca: Path
) -> list[str]:
    seq, conc = cpus[0], cpus[-1]
    return [
        PY,
        "-m",
        "benchmarks.client_main",
        "--client",
        "floor",
        "--loop",
        loop,
        "--http-url",
        f"http://127.0.0.1:{h.port}",
        "--ws-url",
        f"ws://127.0.0.1:{w.port}/",
        "--https-url",
        f"https://127.0.0.1:{h.more_ports[0]}",
        "--ca-file",
        str(ca),
        "--workloads",
        ",".join(FLOOR_WORK),
        "--duration",
        "0.05",
        "--warmup",
        "0.02",
        f"--pingpong-cpus={seq}",
        f"--parallel-cpus={conc}",
    ]


FLOOR_WORK = (
    "get_small_seq",
    "get_small_c50",
    "get_1m",
    "https_small_seq",
    "https_small_c50",
    "https_1m",
    "ws_echo_64",
    "ws_echo_1m",
)


def test_floor_runs_its_workloads_on_both_loops_pinned_per_workload() -> None:
    floor = clients.BY_KEY["floor"]
    picked = runner._workloads_for(floor, list(workloads.ALL_WORKLOADS))
    # the HTTP/2 ones need nginx: see the HTTP/2 tests below
    assert tuple(w.key for w in picked if w.kind != "h2") == FLOOR_WORK
    assert [w.key for w in picked if w.kind == "h2"] == ["h2_small_c100", "h2_1m_c10"]
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    ws_argv = [PY, "-m", "benchmarks.ws_server", "--loop", "asyncio"]
    with (
        certs.made_for_run() as tls,
        procs.server("http", _tls_server_argv(tls), None) as h,
        procs.server("ws", ws_argv, None) as w,
    ):
        for loop in ("asyncio", "uvloop") if procs.uvloop_available() else ("asyncio",):
            argv = _floor_argv(h, w, loop, usable or [0], tls.ca)
            done = procs.run(argv, None, timeout=50)
            assert done.returncode == 0, done.stderr
            lines = [json.loads(line) for line in done.stdout.splitlines()]
            assert lines[0]["meta"]["loop"] == loop
            results = {line["workload"]: line for line in lines[1:]}
            assert set(results) == set(FLOOR_WORK)
            for key, line in results.items():
                assert "error" not in line, line
                assert line["ops"] > 0 and line["seconds"] > 0
                if usable:
                    want = usable[-1] if workloads.BY_KEY[key].parallel else usable[0]
                    assert line["cpus"] == [want], (key, line)


async def test_floor_http_checks_answers_and_reassembles_split_ones() -> None:
    argv = [PY, "-m", "benchmarks.http_server", "--loop", "asyncio"]
    with procs.server("http", argv, None) as srv:
        client = client_floor.HttpClient()
        await client.start(f"http://127.0.0.1:{srv.port}")
        try:
            assert await client.get("/small") == workloads.SMALL_BODY
            assert await client.get("/1m") == workloads.BIG_BODY  # many reads
            bodies = await asyncio.gather(*(client.get("/small") for _ in range(5)))
            assert bodies == [workloads.SMALL_BODY] * 5 and len(client.opened) == 5
            with pytest.raises(client_floor.FloorError, match="unexpected answer"):
                await client.get("/nope")  # a 404
            assert len(client.idle) == 4  # the failed connection is not reused
            assert await client.get("/small") == workloads.SMALL_BODY
        finally:
            await asyncio.wait_for(client.close(), 10)
    assert all(c.transport is None for c in client.opened)


async def _split_ws_server(
    accept: bytes, received: list[bytes], finished: asyncio.Event
) -> tuple[asyncio.Server, int]:
    """A WebSocket peer that unmasks what it gets and answers each frame in three pieces."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            assert b"Sec-WebSocket-Key: " + client_floor.WS_KEY in head
            writer.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            while True:
                first, second = await reader.readexactly(2)
                size = second & 0x7F
                extra = {126: 2, 127: 8}.get(size, 0)
                if extra:
                    size = int.from_bytes(await reader.readexactly(extra), "big")
                mask = await reader.readexactly(4)
                data = await reader.readexactly(size)
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
                received.append(bytes((first,)) + payload)
                if first & 0x0F == client_floor.CLOSE:
                    writer.write(b"\x88\x02" + payload)
                    return
                if size < 126:
                    frame = bytes((first, size)) + payload
                else:  # a 16-bit length; the tests send no 64 KiB frames
                    frame = bytes((first, 126)) + size.to_bytes(2, "big") + payload
                for piece in (frame[:1], frame[1:3], frame[3:10], frame[10:200], frame[200:]):
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.01)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away
        finally:
            writer.close()
            await writer.wait_closed()
            finished.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_floor_ws_unmasks_right_and_reassembles_split_frames() -> None:
    right = base64.b64encode(hashlib.sha1(client_floor.WS_KEY + client_floor.WS_GUID).digest())
    received: list[bytes] = []
    finished = asyncio.Event()
    server, port = await _split_ws_server(right, received, finished)
    async with server:
        client = client_floor.WsClient()
        await client.start(f"ws://127.0.0.1:{port}/")
        assert await client.echo(workloads.WS_SMALL) == workloads.WS_SMALL
        assert await client.echo(b"x" * 125) == b"x" * 125
        large = bytes(range(256)) * 20 + b"tail"  # a 16-bit length, read in pieces
        assert await client.echo(large) == large
        await asyncio.wait_for(client.close(), 10)
        await asyncio.wait_for(finished.wait(), 10)
    assert received == [
        b"\x82" + workloads.WS_SMALL,
        b"\x82" + b"x" * 125,
        b"\x82" + large,
        b"\x88" + (1000).to_bytes(2, "big"),
    ]
    # a 64-bit length for the 1 MiB echo, masked by the sample key
    frame = client_floor.masked_frame(client_floor.BINARY, b"\0" * 70000)
    assert frame[:2] == b"\x82\xff" and int.from_bytes(frame[2:10], "big") == 70000
    assert frame[10:14] == client_floor.MASK and frame[14:18] == client_floor.MASK


async def test_floor_ws_refuses_a_wrong_accept() -> None:
    finished = asyncio.Event()
    server, port = await _split_ws_server(b"d3Jvbmc=", [], finished)
    async with server:
        client = client_floor.WsClient()
        with pytest.raises(client_floor.FloorError, match="Sec-WebSocket-Accept"):
            await client.start(f"ws://127.0.0.1:{port}/")
        await asyncio.wait_for(finished.wait(), 10)  # the floor hung up
        await asyncio.wait_for(asyncio.shield(client.conn.lost), 10)


def _results_with_floor(aio: float, floor: float) -> runner.Results:
    res = runner.Results()
    for w in (workloads.BY_KEY["get_small_seq"], workloads.BY_KEY["ws_echo_64"]):
        res.units[w.name] = w.unit
        res.groups[w.name] = w.kind
        res.samples[(w.name, clients.BASELINE, "asyncio")] += [160.0]
        res.samples[(w.name, "aiohttp", "asyncio")] += [aio]
        res.samples[(w.name, clients.FLOOR, "asyncio")] += [floor]
    return res


def test_ceiling_in_targets_and_floor_is_never_a_reference() -> None:
    rows = report.build_rows(_results_with_floor(aio=100.0, floor=170.0))
    assert {r["reference"] for r in rows} == {clients.BASELINE}
    found = _aiohttp_targets(rows)
    assert len(found) == 2
    for t in found:
        assert t["versus"] == "aiohttp"
        assert t["ratio"] == pytest.approx(1.6) and t["ceiling"] == pytest.approx(1.7)
    lines = report.targets_lines(found)
    assert all("ceiling here 1.70x (raw protocol / aiohttp)" in x for x in lines), lines
    # without cyhttp, aiohttp is the reference, not the (faster) floor
    res = _results_with_floor(aio=100.0, floor=170.0)
    for key in [k for k in res.samples if k[1] == clients.BASELINE]:
        del res.samples[key]
    rows = report.build_rows(res)
    assert {r["reference"] for r in rows} == {"aiohttp"}
    # without aiohttp the floor does not stand in for it: no target at all
    res = _results_with_floor(aio=100.0, floor=170.0)
    for key in [k for k in res.samples if k[1] == "aiohttp"]:
        del res.samples[key]
    assert _aiohttp_targets(report.build_rows(res)) == []
    # and a target without a floor row says nothing about a ceiling
    res = _results_with_floor(aio=100.0, floor=170.0)
    for key in [k for k in res.samples if k[1] == clients.FLOOR]:
        del res.samples[key]
    found = report.targets(report.build_rows(res))
    assert found and all(t["ceiling"] is None for t in found)
    assert not any("ceiling" in x for x in report.targets_lines(found))


def _aiohttp_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The targets against aiohttp only (not those against the whole field)."""
    return [t for t in report.targets(rows) if t.get("kind") != "field"]


def _field_results() -> runner.Results:
    """GET small 50c and WS echo: cyhttp (both ways), two peers each, the floor, CPU."""
    res = runner.Results()
    small, ws = workloads.BY_KEY["get_small_c50"], workloads.BY_KEY["ws_echo_64"]
    for w in (small, ws):
        res.units[w.name] = w.unit
        res.groups[w.name] = w.kind
    rows = {
        (small.name, clients.BASELINE): (30_000.0, 30.0),
        (small.name, clients.FASTNET): (45_000.0, 22.0),
        (small.name, "cyhttp pure"): (50_000.0, 10.0),  # never judged
        (small.name, "wreq"): (40_000.0, 26.0),
        (small.name, "aiohttp"): (10_000.0, 90.0),
        (small.name, clients.FLOOR): (80_000.0, 8.0),
        (ws.name, clients.BASELINE): (35_000.0, 25.0),
        (ws.name, "picows"): (30_000.0, 20.0),
        (ws.name, "aiohttp"): (90_000.0, 5.0),  # not the WebSocket peer
    }
    for (bench, impl), (value, cpu) in rows.items():
        res.samples[(bench, impl, "uvloop")] += [value]
        res.cpu_us[(bench, impl, "uvloop")] += [cpu]
    return res


def test_field_targets_judge_each_cyhttp_row_against_the_fastest_and_thriftiest_peer() -> None:
    rows = report.build_rows(_field_results())
    found = {(t["what"], t["client"]): t for t in report.targets(rows) if t.get("kind") == "field"}
    small = "GET small, 50 concurrent (uvloop)"
    assert set(found) == {
        (small, clients.BASELINE),
        (small, clients.FASTNET),
        ("WS echo 64 B (uvloop)", clients.BASELINE),
    }
    plain, fast = found[(small, clients.BASELINE)], found[(small, clients.FASTNET)]
    assert plain["versus"] == fast["versus"] == "wreq"
    assert plain["cpu_bound_us"] == pytest.approx(0.8 * 26.0)
    assert (plain["speed_met"], plain["cpu_met"], plain["met"]) == (False, False, False)
    assert (fast["speed_met"], fast["cpu_met"], fast["met"]) == (True, False, False)
    assert fast["ceiling"] == pytest.approx(2.0)
    ws = found[("WS echo 64 B (uvloop)", clients.BASELINE)]
    assert ws["versus"] == "picows" and ws["met"] and ws["cpu_met"] is None
    lines = report.targets_lines(list(found.values()))
    assert any(
        "cyhttp+aiofastnet: 1.12x the fastest peer (wreq: 45,000 vs 40,000) met" in x
        and "CPU 22.0 us <= 0.8x wreq's = 20.8 us MISSED" in x
        and "ceiling here 2.00x (raw protocol / wreq), the raw protocol's CPU 8 us" in x
        for x in lines
    ), lines


# --- HTTPS: the TLS port of the embedded server ----------------------------------------


def _https_get(port: int, ca: Path | None, path: str = "/small", **ctx_opts: Any) -> Any:
    import http.client
    import ssl

    ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
    for name, value in ctx_opts.items():
        setattr(ctx, name, value)
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ctx)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        assert conn.sock is not None
        return resp.status, resp.read(), conn.sock.version(), conn.sock.selected_alpn_protocol()
    finally:
        conn.close()


def test_http_server_serves_tls13_on_a_second_port() -> None:
    import ssl

    with certs.made_for_run() as tls:
        with procs.server("http", _tls_server_argv(tls), None) as srv:
            (tls_port,) = srv.more_ports
            assert tls_port != srv.port
            status, body, version, _ = _https_get(tls_port, tls.ca)
            assert (status, body, version) == (200, workloads.SMALL_BODY, "TLSv1.3")
            assert _https_get(tls_port, tls.ca, "/1m")[1] == workloads.BIG_BODY
            # the plain port stays plain
            assert _request(srv.port, "GET", "/small")[2] == workloads.SMALL_BODY
            # TLS 1.2 at most: refused (the rows are about TLS 1.3)
            with pytest.raises(ssl.SSLError):
                _https_get(tls_port, tls.ca, maximum_version=ssl.TLSVersion.TLSv1_2)
            # a client that does not trust the run's CA is refused
            with pytest.raises(ssl.SSLCertVerificationError):
                _https_get(tls_port, None)
        files = [tls.ca, tls.cert, tls.key]
        assert all(f.exists() for f in files)
    assert not any(f.exists() for f in files), "the CA files are removed after the run"


def test_http_server_without_a_certificate_announces_one_port() -> None:
    argv = [PY, "-m", "benchmarks.http_server", "--loop", "asyncio"]
    with procs.server("http", argv, None) as srv:
        assert srv.more_ports == ()


def test_hold_release_and_held_routes() -> None:
    import socket

    argv = [PY, "-m", "benchmarks.http_server", "--loop", "asyncio"]
    with procs.server("http", argv, None) as srv:
        held = []
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            sock.sendall(b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
            held.append(sock)
        try:
            for _ in range(200):  # the server may read them a little later
                if _request(srv.port, "GET", "/held")[2] == b"3":
                    break
            assert _request(srv.port, "GET", "/held")[2] == b"3"
            held[0].settimeout(0.2)
            with pytest.raises(TimeoutError):
                held[0].recv(100)  # no answer while held
            held[0].settimeout(10)
            assert _request(srv.port, "GET", "/release")[2] == b"3"
            for sock in held:
                answer = b""
                while not answer.endswith(workloads.SMALL_BODY):
                    chunk = sock.recv(4096)
                    assert chunk, "closed before the answer"
                    answer += chunk
                assert answer.startswith(b"HTTP/1.1 200 ")
            assert _request(srv.port, "GET", "/held")[2] == b"0"
        finally:
            for sock in held:
                sock.close()


def test_nginx_config_listens_for_tls13_given_the_certificate(tmp_path: Path) -> None:
    files = certs.Files(tmp_path / "ca.pem", tmp_path / "s.pem", tmp_path / "s.key")
    text = nginx.config(tmp_path, 8080, files, 8443)
    assert "listen 127.0.0.1:8443 ssl" in text and "ssl_protocols TLSv1.3;" in text
    assert f"ssl_certificate {files.cert};" in text
    assert f"ssl_certificate_key {files.key};" in text
    assert "ssl" not in nginx.config(tmp_path, 8080)


# --- the clients: every HTTP adapter, HTTP and HTTPS ------------------------------------

#: every HTTP adapter; "cyhttp" is whichever twin this test process runs (compiled or pure)
HTTP_CLIENTS = ["cyhttp"] + [c.key for c in clients.CLIENTS if c.http and "cyhttp" not in c.key]
NEW_CLIENTS = ("wreq", "pyreqwest", "curl_cffi", "niquests")


def _need(key: str) -> None:
    why = clients.BY_KEY[key].missing()
    if why is not None:
        pytest.skip(why)


@pytest.fixture(scope="module")
def tls_server() -> Any:
    with (
        certs.made_for_run() as tls,
        certs.made_for_run() as stranger,
        procs.server("http", _tls_server_argv(tls), None) as srv,
    ):
        yield srv, tls, stranger


def _client_main_argv(key: str, srv: procs.Server, ca: Path, work: str) -> list[str]:
    return [
        *[PY, "-m", "benchmarks.client_main", "--client", key, "--loop", "asyncio"],
        *["--http-url", f"http://127.0.0.1:{srv.port}"],
        *["--https-url", f"https://127.0.0.1:{srv.more_ports[0]}", "--ca-file", str(ca)],
        *["--workloads", work, "--duration", "0.05", "--warmup", "0.01"],
    ]


@pytest.mark.parametrize("key", NEW_CLIENTS)
def test_new_client_runs_every_http_workload(key: str, tls_server: Any) -> None:
    """One tiny run per workload: the answers are checked in the warm-up (gzip JSON
    decoded, the POST echoed, 1 MiB intact), over HTTP and over HTTPS."""
    _need(key)
    srv, tls, _ = tls_server
    todo = [w.key for w in workloads.HTTP_WORKLOADS]
    done = procs.run(_client_main_argv(key, srv, tls.ca, ",".join(todo)), None, timeout=120)
    # pyreqwest 0.15 sometimes aborts while the interpreter shuts down, after its results
    # are out (the runner keeps them and notes the crash): only a clean exit or that
    if done.returncode != 0:
        assert "finalizing" in done.stderr, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["meta"]["client"] == key and "error" not in lines[0]["meta"]
    results = {line["workload"]: line for line in lines[1:]}
    assert list(results) == todo
    for work, line in results.items():
        assert "error" not in line, (work, line)
        assert line["ops"] > 0 and line["seconds"] > 0 and line["cpu"] > 0, line
        assert line["threads"] >= 1


@pytest.mark.filterwarnings("ignore:ssl NPN is deprecated:DeprecationWarning")  # aiosonic's
@pytest.mark.parametrize("key", HTTP_CLIENTS)
async def test_https_trusts_the_given_ca_and_only_it(key: str, tls_server: Any) -> None:
    """Verification stays on: the run's CA is trusted, another CA's certificate is not."""
    if key == "cyhttp":
        import cyhttp

        key = "cyhttp-c" if cyhttp.IMPLEMENTATION == "compiled" else "cyhttp-py"
    _need(key)
    srv, tls, stranger = tls_server
    loaded = clients.load(key)
    assert loaded.http is not None
    url = f"https://127.0.0.1:{srv.more_ports[0]}"
    client = loaded.http()
    await client.start(url, str(tls.ca))
    try:
        assert await asyncio.wait_for(client.get("/small"), 10) == workloads.SMALL_BODY
    finally:
        await asyncio.wait_for(client.close(), 10)
    client = loaded.http()
    await client.start(url, str(stranger.ca))
    try:
        with pytest.raises(Exception) as caught:
            await asyncio.wait_for(client.get("/small"), 10)
        assert not isinstance(caught.value, (TimeoutError, AssertionError)), caught.value
    finally:
        await asyncio.wait_for(client.close(), 10)


def _connections(port: int) -> int:
    """Connections the embedded server has accepted, this question's own included."""
    return int(_request(port, "GET", "/connections")[2])


@pytest.mark.filterwarnings("ignore:ssl NPN is deprecated:DeprecationWarning")  # aiosonic's
@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("key", HTTP_CLIENTS)
async def test_every_client_reuses_its_connections(key: str, scheme: str, tls_server: Any) -> None:
    """Pooling on: ten requests one after another take one connection, whoever sends them
    (a client that reconnected each time would measure connection set-up, not requests)."""
    if key == "cyhttp":
        import cyhttp

        key = "cyhttp-c" if cyhttp.IMPLEMENTATION == "compiled" else "cyhttp-py"
    _need(key)
    srv, tls, _ = tls_server
    loaded = clients.load(key)
    assert loaded.http is not None
    port = srv.port if scheme == "http" else srv.more_ports[0]
    client = loaded.http()
    await client.start(f"{scheme}://127.0.0.1:{port}", str(tls.ca) if scheme == "https" else None)
    try:
        before = await asyncio.to_thread(_connections, srv.port)
        for _ in range(10):
            assert await asyncio.wait_for(client.get("/small"), 10) == workloads.SMALL_BODY
        after = await asyncio.to_thread(_connections, srv.port)
    finally:
        await asyncio.wait_for(client.close(), 10)
    assert after - before == 2, "one connection for the ten requests, one for the question"


def test_a_crash_at_exit_keeps_the_results_and_is_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    line = {"workload": "get_small_seq", "ops": 10, "seconds": 0.5, "cpu": 0.1, "threads": 2}
    stdout = json.dumps({"meta": {"client": "pyreqwest"}}) + "\n" + json.dumps(line) + "\n"
    stderr = "Fatal Python error: PyGILState_Release: thread state 0x1 must be current\n"
    monkeypatch.setattr(runner.procs, "run", lambda *args: procs.Finished(-6, stdout, stderr))
    results = runner.Results()
    plan = machine.CpuPlan(None, None, None, "t")
    todo = [workloads.BY_KEY["get_small_seq"]]
    spec = clients.BY_KEY["pyreqwest"]
    for _ in range(2):
        runner._client_round(
            spec, "asyncio", todo, runner.Endpoints(), runner.Settings(), plan, results
        )
    key = (todo[0].name, "pyreqwest", "asyncio")
    assert results.samples[key] == [20.0, 20.0] and not results.errors
    assert results.threads[key] == [2, 2]
    assert results.notes == [
        "pyreqwest: its process ended with exit status -6 after reporting all its results "
        "(the library failed at interpreter exit: Fatal Python error: PyGILState_Release: "
        "thread state 0x1 must be current)"
    ]


def test_a_client_that_is_not_installed_is_skipped_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ghost = clients.ClientSpec("ghost", "ghost", http=True, ws=False, module="no_such_lib_here")
    assert ghost.missing() == (
        "ghost is not installed here (`pip install no_such_lib_here`, or the bench extra): skipped"
    )
    assert clients.BY_KEY["aiohttp"].missing() is None
    urls = runner.Endpoints("http://127.0.0.1:1")
    monkeypatch.setattr(runner, "_servers", lambda *args: contextlib.nullcontext(urls))
    calls: list[list[str]] = []

    def fake_run(argv: list[str], cpus: frozenset[int] | None, *rest: Any) -> procs.Finished:
        calls.append(argv)
        return procs.Finished(0, "", "")

    monkeypatch.setattr(runner.procs, "run", fake_run)
    sel = runner.Selection(
        [workloads.BY_KEY["get_small_seq"]],
        [clients.BY_KEY["aiohttp"], ghost],
        ["asyncio"],
        [],
        False,
    )
    results = runner.run(runner.Settings(rounds=1), sel, machine.CpuPlan(None, None, None, "t"))
    assert [argv[argv.index("--client") + 1] for argv in calls] == ["aiohttp"]
    assert ghost.missing() in results.notes


def test_without_trustme_the_https_rows_are_skipped_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(certs, "available", lambda: "no CA here")
    sel = runner.select(["aiohttp", "https_small_seq", "get_small_seq"], ["asyncio"])
    results = runner.Results()
    kept = runner._runnable(sel, results)
    assert [w.key for w in kept.workloads] == ["get_small_seq"]
    assert results.notes == ["no CA here"]


# --- CPU time: every thread of the client process --------------------------------------


def test_cpu_time_counts_every_thread_of_the_process() -> None:
    """A Rust client works on its runtime's threads, not on the event loop's: a thread
    burning CPU while the main thread sleeps must show in ``cpu_seconds``."""
    import hashlib
    import threading
    import time

    stop = threading.Event()
    data = b"x" * (1 << 20)

    def burn() -> None:
        while not stop.is_set():
            hashlib.sha256(data).digest()  # releases the GIL: truly in parallel

    before = client_main.cpu_seconds()
    worker = threading.Thread(target=burn)
    worker.start()
    start = time.monotonic()
    threads = client_main.thread_count()
    stop.wait(0.5)  # the main thread does nothing meanwhile
    stop.set()
    worker.join()
    wall = time.monotonic() - start
    used = client_main.cpu_seconds() - before
    # on a busy shared machine the thread may not get a whole CPU: a fifth is plenty to
    # tell it apart from the main thread's own (near zero) time
    assert used > 0.2 * wall, (used, wall)
    assert threads is None or threads >= 2


# --- memory rows --------------------------------------------------------------------------


def test_memory_client_reports_per_connection_and_per_request_rss() -> None:
    argv = [PY, "-m", "benchmarks.http_server", "--loop", "asyncio"]
    keys = ["cyhttp-c", "aiohttp"] + (["wreq"] if clients.BY_KEY["wreq"].missing() is None else [])
    with procs.server("http", argv, None) as srv:
        for key in keys:
            done = procs.run(
                [
                    *[PY, "-m", "benchmarks.client_memory", "--client", key],
                    *["--http-url", f"http://127.0.0.1:{srv.port}", "--connections", "40"],
                ],
                None,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
            meta, result = (json.loads(line) for line in done.stdout.splitlines())
            assert meta["meta"]["client"] == key
            got = result["memory"]
            assert got["connections"] == 40 and got["baseline_rss"] > 1 << 20
            # 40 connections cost something; bounds wide enough for any allocator
            for name in ("inflight_bytes", "idle_bytes"):
                assert -64 * 1024 < got[name] < 4 << 20, (key, got)
            assert got["inflight_bytes"] + got["idle_bytes"] > 0, (key, got)
        # every held request was answered: nothing left held on the server
        assert _request(srv.port, "GET", "/held")[2] == b"0"


def test_memory_client_reports_a_server_that_never_holds() -> None:
    """Against a server without ``/hold`` (a 404 each time) the client says so, in time."""
    argv = [PY, "-m", "benchmarks.http_server", "--loop", "asyncio"]
    with procs.server("http", argv, None) as srv:
        done = procs.run(
            [
                *[PY, "-m", "benchmarks.client_memory", "--client", "aiohttp"],
                *["--http-url", f"http://127.0.0.1:{srv.port}/nowhere", "--connections", "3"],
            ],
            None,
            timeout=60,
        )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert "error" in lines[-1], lines


def test_whole_run_over_https(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--only", "https_small_seq,aiohttp,floor,asyncio", "--quick", "--rounds", "1"]
    assert bench_main.main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    document = json.loads((tmp_path / "latest.json").read_text())
    rows = {r["impl"]: r for r in document["rows"]}
    assert set(rows) == {clients.BASELINE, "aiohttp", clients.FLOOR}
    for r in rows.values():
        assert r["bench"] == "HTTPS GET small, keep-alive, sequential"
        assert r["error"] is None and r["value"] > 0 and r["cpu_us_per_op"] > 0, r
    # the HTTPS rows are no target against aiohttp, only against the field
    assert "TLS 1.3" in out and [t["kind"] for t in document["targets"]] == ["field"]


def test_memory_rows_in_a_whole_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--only", "memory,aiohttp,asyncio", "--quick", "--rounds", "1"]
    assert bench_main.main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    document = json.loads((tmp_path / "latest.json").read_text())
    rows = [(r["bench"], r["impl"]) for r in document["rows"]]
    assert rows == [
        (workloads.MEMORY_INFLIGHT, clients.BASELINE),
        (workloads.MEMORY_INFLIGHT, "aiohttp"),
        (workloads.MEMORY_IDLE, clients.BASELINE),
        (workloads.MEMORY_IDLE, "aiohttp"),
    ]
    for r in document["rows"]:
        assert r["group"] == "memory" and r["unit"] == "KiB" and r["error"] is None, r
        assert r["cpu_us_per_op"] is None
    assert workloads.MEMORY_IDLE in out and "RSS rows:" in out
    assert (tmp_path / "latest.png").read_bytes()[:4] == b"\x89PNG"


def test_memory_speed_is_inverse_and_failures_become_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    res = runner.Results()
    res.units[workloads.MEMORY_IDLE] = workloads.MEMORY_UNIT
    res.groups[workloads.MEMORY_IDLE] = "memory"
    res.samples[(workloads.MEMORY_IDLE, clients.BASELINE, "asyncio")] += [10.0]
    res.samples[(workloads.MEMORY_IDLE, "wreq", "asyncio")] += [40.0]
    rows = {r["impl"]: r for r in report.build_rows(res)}
    assert rows["wreq"]["speed"] == pytest.approx(0.25)  # four times the memory
    # a memory process that fails leaves an error on both rows, no sample
    monkeypatch.setattr(
        runner.procs,
        "run",
        lambda *args: procs.Finished(0, json.dumps({"error": "RuntimeError: boom"}) + "\n", ""),
    )
    results = runner.Results()
    plan = machine.CpuPlan(None, None, None, "t")
    runner._memory_round(clients.BY_KEY["wreq"], "asyncio", "http://x", 5, plan, results)
    assert not results.samples
    assert results.errors == {
        (workloads.MEMORY_INFLIGHT, "wreq", "asyncio"): ["RuntimeError: boom"],
        (workloads.MEMORY_IDLE, "wreq", "asyncio"): ["RuntimeError: boom"],
    }


# --- cyhttp on aiofastnet's transports beside cyhttp on the loop's -----------------------


def test_fastnet_variant_runs_beside_the_unchanged_rows(tls_server: Any) -> None:
    """``cyhttp-afn`` measures every HTTP/1.1 workload over HTTP and HTTPS on aiofastnet;
    the cyhttp rows without it turn it off, so they measure what they always did."""
    spec = clients.BY_KEY["cyhttp-afn"]
    _need("cyhttp-afn")
    assert spec.name == clients.FASTNET
    assert "get_small_c50" in spec.only and {"https_small_c50", "https_1m"} <= set(spec.only)
    assert spec.runs("get_json_gzip", "http") and spec.runs("post_64k", "http")
    assert spec.runs("h2_small_c100", "h2") and spec.runs("h2_1m_c10", "h2")
    assert not spec.runs("ws_echo_64", "ws")
    for key in ("cyhttp-c", "cyhttp-py"):
        assert clients.BY_KEY[key].env["CYHTTP_NO_AIOFASTNET"] == "1"
    srv, tls, _ = tls_server
    # the HTTP/1.1 ones here (the HTTP/2 rows need nginx: see the HTTP/2 tests below)
    http1 = [key for key in spec.only if not key.startswith("h2_")]
    todo = ",".join(http1)
    seen = {}
    for key in ("cyhttp-afn", "cyhttp-c"):
        argv = _client_main_argv(key, srv, tls.ca, todo)
        done = procs.run(argv, None, 120, clients.BY_KEY[key].env)
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in done.stdout.splitlines()]
        meta = lines[0]["meta"]
        assert "error" not in meta, meta
        seen[key] = meta["implementation"]
        results = {line["workload"]: line for line in lines[1:]}
        assert list(results) == http1
        for work, line in results.items():
            assert "error" not in line, (work, line)
            assert line["ops"] > 0 and line["seconds"] > 0, line
    assert seen == {"cyhttp-afn": "compiled+aiofastnet", "cyhttp-c": "compiled"}


def test_fastnet_variant_refuses_to_run_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row named cyhttp+aiofastnet that ran on the loop's transports would mislead."""
    _need("cyhttp-afn")
    import cyhttp

    if cyhttp.IMPLEMENTATION != "compiled":
        pytest.skip("the variant is cyhttp compiled's")
    monkeypatch.setenv("CYHTTP_NO_AIOFASTNET", "1")
    with pytest.raises(RuntimeError, match="CYHTTP_NO_AIOFASTNET"):
        clients.load("cyhttp-afn")


# --- HTTP/2: nginx's http2 port, every HTTP/2 client on one connection --------------------

H2_CLIENTS = ["cyhttp", "cyhttp-afn", "httpx", "wreq", "pyreqwest", "niquests", "floor"]
H2_KEYS = [w.key for w in workloads.H2_WORKLOADS]


def test_h2_clients_are_the_ones_that_speak_it() -> None:
    offered = [c.key for c in clients.CLIENTS if c.runs("h2_small_c100", "h2")]
    assert offered == [
        "cyhttp-c",
        "cyhttp-afn",
        "cyhttp-py",
        "httpx",
        "wreq",
        "pyreqwest",
        "niquests",
        "floor",
    ]
    assert not clients.BY_KEY["aiohttp"].runs("h2_small_c100", "h2")
    for w in workloads.H2_WORKLOADS:
        assert w.kind == "h2" and w.tls and w.parallel and w.name.startswith(report.H2_PREFIX)
    assert [w.workers for w in workloads.H2_WORKLOADS] == [100, 10]


class _Written:
    """A transport that keeps what is written to it."""

    def __init__(self) -> None:
        self.out: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.out.append(data)

    def close(self) -> None:
        self.out.append(b"closed")


async def test_floor_h2_walks_frames_split_anywhere() -> None:
    """The HTTP/2 floor's frame walk: two interleaved answers, a SETTINGS and a PING,
    fed in every cut of 1 to 10 bytes, give the two bodies and the acks."""
    f = client_floor_h2.frame
    wire = b"".join(
        (
            f(client_floor_h2.SETTINGS, 0, 0, b"\x00\x03\x00\x00\x00\x80"),
            f(client_floor_h2.HEADERS, client_floor_h2.END_HEADERS, 1, b"\x88"),
            f(client_floor_h2.HEADERS, client_floor_h2.END_HEADERS, 3, b"\x88\x0f"),
            f(client_floor_h2.DATA, 0, 1, b"one "),
            f(client_floor_h2.PING, 0, 0, b"12345678"),
            f(client_floor_h2.DATA, client_floor_h2.END_STREAM, 3, b"three"),
            f(client_floor_h2.DATA, 0, 1, b""),
            f(client_floor_h2.DATA, client_floor_h2.END_STREAM, 1, b"and more"),
        )
    )
    loop = asyncio.get_running_loop()
    for cut in range(1, 11):
        conn = client_floor_h2._H2Connection(loop)
        written = _Written()
        conn.transport = written  # type: ignore[assignment]
        one, three = conn.request(b"\x82"), conn.request(b"\x82")
        for start in range(0, len(wire), cut):
            conn.data_received(wire[start : start + cut])
        assert (await one, await three) == (b"one and more", b"three"), cut
        acks = written.out[2:]
        assert acks == [
            f(client_floor_h2.SETTINGS, 1, 0),
            f(client_floor_h2.PING, 1, 0, b"12345678"),
        ]
    conn = client_floor_h2._H2Connection(loop)
    conn.transport = _Written()  # type: ignore[assignment]
    waiter = conn.request(b"\x82")
    conn.data_received(f(client_floor_h2.HEADERS, client_floor_h2.END_HEADERS, 1, b"\x8d"))
    with pytest.raises(client_floor.FloorError, match="not a 200"):
        await waiter


def test_nginx_config_has_an_http2_server_given_its_port(tmp_path: Path) -> None:
    files = certs.Files(tmp_path / "ca.pem", tmp_path / "s.pem", tmp_path / "s.key")
    text = nginx.config(tmp_path, 8080, files, 8443, 9443)
    assert "listen 127.0.0.1:9443 ssl http2" in text
    assert text.count("location = /1m ") == 2 and text.count("location = /small ") == 2
    assert "http2_max_concurrent_streams 128;" in text
    assert " http2 " not in nginx.config(tmp_path, 8080, files, 8443)
    assert "stub_status" not in text and "stub_status" in nginx.config(tmp_path, 8, status=True)


@pytest.fixture(scope="module")
def h2_server() -> Any:
    binary = nginx.find()
    if binary is None:
        pytest.skip("nginx is not installed: no HTTP/2 server")
    with certs.made_for_run() as tls, nginx.server(binary, None, tls, h2=True, status=True) as srv:
        yield srv, tls


def _h2_key(key: str) -> str:
    import cyhttp

    if key == "cyhttp":
        return "cyhttp-c" if cyhttp.IMPLEMENTATION == "compiled" else "cyhttp-py"
    if key == "cyhttp-afn" and cyhttp.IMPLEMENTATION != "compiled":
        pytest.skip("the aiofastnet variant is cyhttp compiled's; this run tests the pure twins")
    return key


def _accepted(port: int) -> int:
    """Connections nginx has accepted so far (stub_status), this question's own included."""
    text = _request(port, "GET", "/nginx-status")[2].decode()
    return int(text.splitlines()[2].split()[0])


@pytest.mark.parametrize("key", H2_CLIENTS)
async def test_h2_client_speaks_http2_to_nginx(key: str, h2_server: Any) -> None:
    """The adapter started with ``http2=True`` really negotiates h2 with the run's CA."""
    key = _h2_key(key)
    _need(key)
    srv, tls = h2_server
    loaded = clients.load(key)
    assert loaded.http is not None
    client = loaded.http()
    await client.start(f"https://127.0.0.1:{srv.more_ports[1]}", str(tls.ca), http2=True)
    try:
        assert bytes(await asyncio.wait_for(client.get("/protocol"), 10)) == b"HTTP/2.0"
    finally:
        await asyncio.wait_for(client.close(), 10)


@pytest.mark.parametrize("key", H2_CLIENTS)
def test_h2_workloads_run_on_one_connection(key: str, h2_server: Any) -> None:
    """A tiny run of both HTTP/2 workloads (answers checked in the warm-up): each takes
    one connection, however many requests it has in flight."""
    key = _h2_key(key)
    _need(key)
    srv, tls = h2_server
    argv = [
        *[PY, "-m", "benchmarks.client_main", "--client", key, "--loop", "asyncio"],
        *["--h2-url", f"https://127.0.0.1:{srv.more_ports[1]}", "--ca-file", str(tls.ca)],
        *["--workloads", ",".join(H2_KEYS), "--duration", "0.05", "--warmup", "0.01"],
    ]
    before = _accepted(srv.port)
    done = procs.run(argv, None, timeout=120, env=clients.BY_KEY[key].env)
    after = _accepted(srv.port)
    if done.returncode != 0:  # pyreqwest may abort at interpreter exit (see above)
        assert "finalizing" in done.stderr, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert "error" not in lines[0]["meta"], lines[0]
    results = {line["workload"]: line for line in lines[1:]}
    assert list(results) == H2_KEYS
    for line in results.values():
        assert "error" not in line, line
        assert line["ops"] > 0 and line["seconds"] > 0 and line["cpu"] > 0, line
    # one connection per workload (a fresh client each), plus the second status question
    assert after - before == len(H2_KEYS) + 1


def _h2_results(cy: float, cy_cpu: float) -> runner.Results:
    res = runner.Results()
    name = workloads.H2_WORKLOADS[0].name
    res.units[name] = "req/s"
    res.groups[name] = "h2"
    for impl, value, cpu in (
        (clients.BASELINE, cy, cy_cpu),
        ("cyhttp pure", 99999.0, 1.0),  # never a peer, however fast
        ("wreq", 20000.0, 30.0),
        ("httpx", 500.0, 1000.0),
        (clients.FLOOR, 50000.0, 12.0),  # nor the floor: it only shows the transport's cost
    ):
        res.samples[(name, impl, "uvloop")] += [value]
        res.cpu_us[(name, impl, "uvloop")] += [cpu]
    for impl, value in (("cyhttp compiled", 2.0), ("hpack", 20.0)):
        res.micro_rows.append({"bench": "decode first", "impl": impl, "value": value, "unit": "us"})
    return res


def test_h2_targets_name_the_fastest_peer_and_both_halves() -> None:
    name = workloads.H2_WORKLOADS[0].name
    found = report.targets(report.build_rows(_h2_results(8000.0, 70.0)))
    (h2,) = [t for t in found if t.get("kind") == "h2"]
    assert h2["versus"] == "wreq" and h2["ratio"] == pytest.approx(0.4)
    assert not h2["speed_met"] and not h2["cpu_met"] and not h2["met"]
    lines = report.targets_lines(found)
    assert (
        f"  {name} (uvloop): cyhttp req/s >= the fastest peer's (wreq): 8,000 vs 20,000 "
        "MISSED; CPU per request <= theirs: 70 us vs 30 us MISSED; the raw protocol on the "
        "same TLS transport: 50,000 req/s, 12 us"
    ) in lines
    hpack = next(t for t in found if t["versus"] == "the hpack package")
    assert hpack["ratio"] == pytest.approx(10.0) and hpack["met"]
    assert any("9-header response block" in x and "10.00x the hpack package" in x for x in lines)
    (h2,) = [
        t for t in report.targets(report.build_rows(_h2_results(21000.0, 25.0))) if "kind" in t
    ]
    assert h2["speed_met"] and h2["cpu_met"] and h2["met"]
    (h2,) = [
        t for t in report.targets(report.build_rows(_h2_results(21000.0, 31.0))) if "kind" in t
    ]
    assert h2["speed_met"] and not h2["cpu_met"] and not h2["met"]


def test_whole_run_over_http2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if nginx.find() is None:
        pytest.skip("nginx is not installed: no HTTP/2 server")
    argv = ["--only", "h2_small,httpx,asyncio", "--quick", "--rounds", "1", "--duration", "0.05"]
    assert bench_main.main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    document = json.loads((tmp_path / "latest.json").read_text())
    rows = {r["impl"]: r for r in document["rows"]}
    assert set(rows) == {clients.BASELINE, "httpx"}
    for r in rows.values():
        assert r["bench"] == workloads.H2_WORKLOADS[0].name and r["group"] == "h2"
        assert r["error"] is None and r["value"] > 0 and r["cpu_us_per_op"] > 0, r
    (target,) = document["targets"]
    assert target["versus"] == "httpx" and target["kind"] == "h2"
    assert "HTTP/2 rows: nginx" in out and "cyhttp req/s >= the fastest peer's (httpx)" in out


def test_h2_rows_are_skipped_with_a_reason_without_nginx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner.nginx, "find", lambda: None)
    results = runner.Results()
    sel = runner.select(["h2", "get_small_seq", "aiohttp"], ["asyncio"])
    kept = runner._runnable(sel, results)
    assert [w.key for w in kept.workloads] == ["get_small_seq"]
    assert any("no HTTP/2 rows" in note for note in results.notes)


def test_the_h2_connection_micro_benchmark_runs() -> None:
    """bench_h2conn measures every twin of the HTTP/2 connection beside h2, checks their
    answers first, and is one of the micro-benchmarks that ``benchmarks`` runs."""
    from benchmarks import bench_h2conn, micro
    from cyhttp import _compat

    assert "bench_h2conn" in micro.MODULES and micro.available("bench_h2conn")
    rows = bench_h2conn.run(quick=True)
    assert {r["bench"] for r in rows} == set(bench_h2conn.BENCHES)
    wanted = (
        {"cyhttp pure", "h2"} if _compat.NO_EXTENSIONS else {"cyhttp compiled", "cyhttp pure", "h2"}
    )
    measured = {r["impl"] for r in rows if r["value"] is not None}
    assert wanted <= measured, rows
    for r in rows:
        if r["impl"] in wanted:
            assert r["unit"] == "us" and r["value"] > 0 and r["spread"] >= 0, r
