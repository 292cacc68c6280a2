"""A certificate authority made for one run, and the server certificate it signs.

The HTTPS rows must measure what users run: certificate verification on, against a CA
the client was told to trust (never "verify=False", which skips work real programs do).
trustme makes a throwaway CA per run; its files live in a temporary directory removed at
the end, so nothing is installed in the system's trust store.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: the name the server certificate is issued for (an IP address SAN): the URLs use it
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Files:
    """PEM files: the CA clients trust, the server's chain and its private key."""

    ca: Path
    cert: Path
    key: Path


def available() -> str | None:
    """None when a CA can be made here, else why not (one line for the report)."""
    try:
        import trustme  # noqa: F401
    except ImportError:
        return "trustme is not installed (it comes with the bench extra): no HTTPS rows"
    return None


@contextlib.contextmanager
def made_for_run() -> Iterator[Files]:
    """Write a new CA and a certificate for :data:`HOST`; remove them afterwards."""
    import trustme

    authority = trustme.CA()
    issued = authority.issue_cert(HOST)
    with tempfile.TemporaryDirectory(prefix="cyhttp-bench-tls-") as tmp:
        files = Files(Path(tmp, "ca.pem"), Path(tmp, "server.pem"), Path(tmp, "server.key"))
        authority.cert_pem.write_to_path(str(files.ca))
        for pem in issued.cert_chain_pems:
            pem.write_to_path(str(files.cert), append=True)
        issued.private_key_pem.write_to_path(str(files.key))
        yield files
