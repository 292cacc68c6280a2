"""Bounded fuzzing of the whole stack over loopback (the harness is ``tests/fuzz.py``).

Fixed seed, fixed count: the same inputs on every run, sized to take well under a minute
per implementation (``make test`` runs the suite once compiled and once pure-Python).
The only outcomes allowed are a parsed response (with exactly the expected status and
body whenever the generator built a well-formed response) or a ClientError; WebSocket
receives end in CLOSE/CLOSED/ERROR messages (and give exactly the expected messages when
the frames were well-formed). No other exception, no hang, no connection
left acquired. ``make fuzz`` runs the same harness with a larger budget.
"""

from __future__ import annotations

import asyncio
import random
import zlib

import pytest

from . import fuzz

#: the CI budget (cases per implementation); ``make fuzz`` goes much further
COUNT = 16_000
SEED = 20261121

#: 1 MiB of zeros, gzip, with a wrong CRC in the trailer
_BAD_CRC = zlib.compress(bytes(1 << 20), wbits=31)[:-8] + bytes(8)

#: inputs that once broke the client (found by fuzzing or by the hostile-input tests),
#: replayed on every run in front of the random cases
REGRESSIONS = [
    # brotli output larger than one decode step was reported as a truncated stream
    fuzz.Case(
        "http",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 14\r\n\r\n"
        b"\xcb\xff\xff?\xf8'\x00\xe2\xb1@ \xf7\xfeo",
        "regression",
        (200, bytes(8 << 20)),
    ),
    # a partial second response in the same packet as a complete one (must never be read
    # as the next request's answer: the connection is closed instead of pooled)
    fuzz.Case(
        "http",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nX-Evil: 1\r\n",
        "regression",
        (200, b"ok"),
    ),
    # a corrupt gzip body read with read(): the error raised while resuming the paused
    # reader used to leave read() waiting forever
    fuzz.Case(
        "http",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%b"
        % (len(_BAD_CRC), _BAD_CRC),
        "regression",
    ),
]


async def test_fuzz_responses_and_frames_through_the_stack() -> None:
    campaign = fuzz.Campaign(seed=SEED, count=COUNT, extra=list(REGRESSIONS))
    report = await fuzz.run_campaign(campaign)
    details = "\n".join(
        f"{f.error}\n  case: {f.case.to_json()[:400]}\n{f.trace}" for f in report.failures[:5]
    )
    assert not report.failures, f"{len(report.failures)} failures, first ones:\n{details}"
    assert report.cases == COUNT + len(REGRESSIONS)
    # the generators must keep reaching every kind of outcome, or the fuzzing is hollow
    outcomes = report.outcomes
    assert report.checked_bodies > COUNT // 10
    assert report.checked_messages > COUNT // 50
    for name in (
        "ok 2xx",
        "ClientResponseError",
        "ClientPayloadError",
        "ServerDisconnectedError",
        "WSServerHandshakeError",
        "ws ERROR",
        "ws CLOSED",
        "ws CLOSE",
    ):
        assert outcomes.get(name, 0) > 0, f"no {name!r} outcome: {outcomes}"
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generators_are_deterministic(seed: int) -> None:
    """A seed fully determines the cases (so a CI failure can be replayed)."""

    def cases(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [
            fuzz.gen_http_case(rng).to_json() + fuzz.gen_ws_case(rng).to_json() for _ in range(50)
        ]

    assert cases(seed) == cases(seed)


def test_case_round_trips_through_json() -> None:
    rng = random.Random(9)
    for _ in range(100):
        case = fuzz.gen_http_case(rng)
        assert fuzz.Case.from_json(case.to_json()) == case
