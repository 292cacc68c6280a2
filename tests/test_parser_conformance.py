"""The 85 response vectors of nodejs/llhttp, against both parser twins.

Each applicable case is fed whole, split in two at every byte boundary, and byte by byte;
every way must give the same events (body pieces merged), the same error (class and
offset) and the same upgrade tail, and that result must match llhttp's expectation.

Not run, with the reason in the skip message: cases that test llhttp's C API (pause,
skipBody, finish) and the RTSP/ICE protocols. Cases where llhttp is more lenient than
RFC 9112 lets us be, or where the brief mandates another behaviour, are run against our
own expectation, listed in ``DEVIATIONS`` with the reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cyhttp.http_exceptions import BadHttpMessage, BadHttpPayload, BadStatusLine

from .conftest import Impl, conformance_file
from .parser_helpers import Outcome, run, splits

pytestmark = pytest.mark.timeout(300)


def _load() -> list[dict[str, Any]]:
    try:
        path = conformance_file("llhttp-responses.json")
    except pytest.skip.Exception:
        return []
    return list(json.loads(path.read_text())["cases"])


CASES = _load()

#: llhttp lenient flag → our ``lenient`` (only what RFC 9112 lets a recipient accept)
LENIENT = {
    None: False,
    "all": True,  # bare LF line endings (RFC 9112 §2.2)
    "optional-cr-before-lf": True,  # bare LF line endings (RFC 9112 §2.2)
    "headers": True,  # obs-fold in a response, replaced by SP (RFC 9112 §5.2)
    "data-after-close": False,  # our default: bytes after a closing message are ignored
}

_AFTER_CLOSE = (
    "bytes after a message on a closing connection are ignored, never parsed (brief; the "
    "client closes the connection after this response, RFC 9112 §9.6); llhttp errors"
)

#: case id → (why we differ from llhttp, what we expect instead: "first-only" = only the
#: first message and no error; an exception class = that error, raised before any event)
DEVIATIONS: dict[str, tuple[str, Any]] = {
    "test/response/connection.md:164": (_AFTER_CLOSE, "first-only"),
    "test/response/connection.md:225": (_AFTER_CLOSE, "first-only"),
    "test/response/connection.md:260": (
        "llhttp's lenient keep-alive parses a second response after `Connection: close`; "
        "we never parse past a closing message",
        "first-only",
    ),
    "test/response/invalid.md:151": (
        "llhttp's optional-lf-after-cr takes a bare CR as a line end; RFC 9112 §2.2 says a "
        "bare CR is invalid (or SP), never a line end: rejected even when lenient",
        BadStatusLine,
    ),
    "test/response/lenient-version.md:4": (
        "HTTP/5.6: we speak only HTTP/1.0 and HTTP/1.1 (issue 3), lenient or not",
        BadStatusLine,
    ),
    "test/response/sample.md:645": (
        "HTTP/0.9 responses have no status line; an `HTTP/0.9 200` line is not a response "
        "we can frame: only HTTP/1.0 and HTTP/1.1 are accepted (issue 3)",
        BadStatusLine,
    ),
}


def _skip_reason(case: dict[str, Any]) -> str | None:
    api = case["llhttp_api_specific"]
    if api:
        return f"tests llhttp's C API ({', '.join(api)}), which this parser does not have"
    if case["finish_called"]:
        return "tests llhttp_finish(), which this parser does not have"
    if case["raw_latin1"].startswith(("RTSP/", "ICE/")):
        return "RTSP/ICE are not HTTP; this parser speaks only HTTP/1.x"
    return None


def _param(case: dict[str, Any]) -> Any:
    reason = _skip_reason(case)
    marks = [pytest.mark.skip(reason=reason)] if reason else []
    return pytest.param(case, id=case["id"].removeprefix("test/response/"), marks=marks)


def _norm(value: bytes) -> bytes:
    # llhttp keeps trailing whitespace of values and the inner whitespace of an obs-fold;
    # we strip OWS (RFC 9112 §5) and replace a fold by one SP (§5.2)
    return b" ".join(value.split())


def _messages(out: Outcome) -> list[dict[str, Any]]:
    """Our events folded into llhttp-like messages (1xx heads included)."""
    msgs: list[dict[str, Any]] = []
    for ev in out.events:
        kind = ev[0]
        if kind in ("info", "headers"):
            msgs.append(
                {
                    "status": ev[2],
                    "reason": ev[3].encode("utf-8", "surrogateescape"),
                    "headers": [(n, _norm(v)) for n, v in ev[4]],
                    "body": b"",
                    "complete": kind == "info",
                    "chunks": 0,
                    "upgrade": ev[6],
                }
            )
        elif kind == "body":
            msgs[-1]["body"] += ev[1]
        elif kind == "chunk_end":
            msgs[-1]["chunks"] += 1
        else:
            msgs[-1]["complete"] = True
    return msgs


def _expected(case: dict[str, Any]) -> list[dict[str, Any]]:
    msgs = []
    for m in case["messages"]:
        if not m.get("headers_complete"):
            continue
        msgs.append(
            {
                "status": m["status"],
                "reason": m["reason"].encode("utf-8", "surrogateescape"),
                "headers": [
                    (n.encode("utf-8"), _norm(v.encode("utf-8", "surrogateescape")))
                    for n, v in m["headers"]
                ],
                "body": m["body"].encode("utf-8", "surrogateescape"),
                "complete": m["message_complete"],
                "chunks": sum(1 for c in m["chunks"] if c["len"]),
            }
        )
    return msgs


def _check_matches_llhttp(case: dict[str, Any], out: Outcome) -> None:
    raw = case["raw_latin1"].encode("latin-1")
    got = _messages(out)
    want = _expected(case)
    deviation = DEVIATIONS.get(case["id"])
    error = case["error"]
    if deviation is not None:
        expect = deviation[1]
        if expect == "first-only":
            want = want[:1]
            error = None
        else:
            assert isinstance(out.error, expect), (deviation[0], out.error)
            assert got == []
            return
    upgrade_tail = None
    if error is not None and error["name"] == "PAUSED_UPGRADE":
        # llhttp pauses after an upgrade head; we return the bytes after the head
        upgrade_tail = raw[error["off"] :]
        error = None
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want, strict=True):
        for key in ("status", "reason", "headers", "body", "complete"):
            assert g[key] == w[key], (key, g, w)
        if w["complete"]:
            assert g["chunks"] == w["chunks"], (g, w)
        else:
            assert g["chunks"] <= w["chunks"], (g, w)
    assert out.tail == upgrade_tail
    if error is None:
        assert out.error is None, out.error
        return
    assert out.error is not None, f"llhttp expects {error['name']}: {error['reason']}"
    # in the head → BadHttpMessage; once the head is through → BadHttpPayload
    last = case["messages"][-1] if case["messages"] else {}
    if last.get("headers_complete") and not last.get("message_complete"):
        assert isinstance(out.error, BadHttpPayload), out.error
    else:
        assert isinstance(out.error, BadHttpMessage), out.error
    assert out.error.offset is not None and 0 <= out.error.offset < len(raw)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_llhttp_vector(impl: Impl, case: dict[str, Any]) -> None:
    raw = case["raw_latin1"].encode("latin-1")
    assert len(raw) == case["raw_len"]
    lenient = LENIENT.get(case["lenient"], False)
    whole = run(impl.HttpResponseParser, [raw], lenient=lenient)
    _check_matches_llhttp(case, whole)
    for pieces in splits(raw):
        out = run(impl.HttpResponseParser, pieces, lenient=lenient)
        assert out.merged == whole.merged, pieces
        assert out.error_key == whole.error_key, (pieces, out.error, whole.error)
        assert out.tail == whole.tail, pieces


def test_vectors_are_all_accounted_for() -> None:
    """Every case is run or skipped for a stated reason; no lenient flag is unknown."""
    if not CASES:
        pytest.skip("the conformance vectors are absent (see conftest.conformance_file)")
    assert len(CASES) == 85
    for case in CASES:
        if _skip_reason(case) is None:
            flag = case["lenient"]
            assert flag in LENIENT or case["id"] in DEVIATIONS, case["id"]
    skipped = [c["id"] for c in CASES if _skip_reason(c)]
    assert len(skipped) == 15, skipped
    assert set(DEVIATIONS) <= {c["id"] for c in CASES}
