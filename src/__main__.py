"""``python -m cyhttp``: a small command line for quick checks.

    python -m cyhttp [-X METHOD] [-H 'Name: value']... [-d DATA | --json JSON] [-i] URL

Prints the body (and with ``-i`` the status line and headers first). Any failure prints
one line, ``cyhttp: error: ...``, on stderr and exits with status 1; an HTTP error status
is not a failure (use ``--fail`` for that, exit status 22 as curl does).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from multidict import CIMultiDict

from .client import ClientSession
from .client_exceptions import ClientError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cyhttp", description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("-X", "--request", dest="method", default=None, help="HTTP method")
    parser.add_argument(
        "-H", "--header", dest="headers", action="append", default=[], help="'Name: value'"
    )
    body = parser.add_mutually_exclusive_group()
    body.add_argument("-d", "--data", default=None, help="request body (text)")
    body.add_argument("--json", dest="json_text", default=None, help="JSON request body")
    parser.add_argument("-i", "--include", action="store_true", help="print status and headers")
    parser.add_argument("--fail", action="store_true", help="exit 22 on HTTP status >= 400")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    return parser


async def _run(args: argparse.Namespace) -> int:
    headers: CIMultiDict[str] = CIMultiDict()
    for item in args.headers:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"bad header {item!r}: expected 'Name: value'")
        headers.add(name.strip(), value.strip())
    json_body = None
    if args.json_text is not None:
        try:
            json_body = json.loads(args.json_text)
        except ValueError as exc:
            raise ValueError(f"--json is not valid JSON: {exc}") from None
    method = args.method or ("POST" if args.data is not None or json_body is not None else "GET")
    out = sys.stdout.buffer
    async with ClientSession(timeout=args.timeout) as session:
        resp = await session.request(
            method,
            args.url,
            headers=headers,
            data=args.data.encode() if args.data is not None else None,
            json=json_body,
        )
        async with resp:
            if args.include:
                version = resp.version or (1, 1)
                out.write(
                    f"HTTP/{version[0]}.{version[1]} {resp.status} {resp.reason}\r\n".encode()
                )
                for name, value in resp.raw_headers:
                    out.write(name + b": " + value + b"\r\n")
                out.write(b"\r\n")
            async for piece in resp.content.iter_any():
                out.write(piece)
            out.flush()
            if args.fail and resp.status >= 400:
                return 22
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except (TimeoutError, ClientError, OSError, ValueError) as exc:
        message = str(exc) or type(exc).__name__
        print(f"cyhttp: error: {type(exc).__name__}: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
