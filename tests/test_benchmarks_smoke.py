"""Smoke test of the ``make bench`` harness: servers start, answer and stop; the client
process reports results; the table, JSON and chart writers work on made-up rows.

No timing is asserted here (speed is what ``benchmarks`` measures, not what tests check).
The harness needs the ``bench`` extra (httptools, picows, matplotlib); without it these
tests are skipped with that reason.
"""

from __future__ import annotations

import gzip
import http.client
import json
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httptools", reason="the bench extra is not installed (make bench does it)")
pytest.importorskip("picows", reason="the bench extra is not installed (make bench does it)")

from benchmarks import __main__ as bench_main
from benchmarks import procs, report, runner, workloads

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
    found = {t["what"]: t for t in report.targets(rows)}
    assert found[f"{small} (uvloop)"]["met"] is True  # exactly 2.0x aiohttp
    assert found["parser 9-header"]["ratio"] == pytest.approx(3.0)
    assert found["import time (ms, absolute)"]["met"] is True


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
    assert [w.key for w in sel.workloads] == ["get_1m", "ws_echo_1m"]
    assert len(sel.clients) == 7 and sel.loops == loops
    everything = runner.select([], loops)
    assert everything.import_time and everything.micro and len(everything.workloads) == 7
    with pytest.raises(runner.SelectionError, match="nonsense"):
        runner.select(["nonsense"], loops)


def test_nginx_missing_is_said(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_main.nginx, "find", lambda: None)
    assert bench_main.main(["--server", "nginx", "--only", "small"]) == 2
    assert "nginx is not installed" in capsys.readouterr().err


def test_whole_run_on_a_tiny_selection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--only", "get_small_seq,aiohttp,asyncio", "--rounds", "2", "--duration", "0.05"]
    assert bench_main.main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Machine:" in out and "GET small, keep-alive, sequential" in out
    document = json.loads((tmp_path / "latest.json").read_text())
    assert {(r["impl"], r["loop"]) for r in document["rows"]} == {
        ("cyhttp compiled", "asyncio"),
        ("aiohttp", "asyncio"),
    }
    aiohttp_row = next(r for r in document["rows"] if r["impl"] == "aiohttp")
    assert len(aiohttp_row["runs"]) == 2 and aiohttp_row["value"] > 0
    assert (tmp_path / "latest.png").read_bytes()[:4] == b"\x89PNG"
