"""Which domains are public suffixes, so that no cookie can be set for all of ``co.uk``.

RFC 6265 §5.3 step 5 lets a user agent refuse a ``Domain`` attribute naming a public
suffix (``com``, ``co.uk``, ``github.io``): otherwise ``evil.co.uk`` could plant a cookie on
every ``*.co.uk`` site. The list of such suffixes is Mozilla's Public Suffix List.

Source, in order:

1. the optional ``publicsuffixlist`` package (``pip install cyhttp[psl]``), which ships the
   list inside the package; it is read once, on first use, from that file, never fetched;
2. otherwise a built-in fallback rule: **every single-label name** (``com``, ``org``,
   ``uk``, ``localhost``) is a public suffix. This stops the classic ``Domain=.com`` attack
   but not ``Domain=co.uk``; install the package for that.

The same source answers :func:`registrable_domain` ("eTLD+1"), which the jar uses to group
cookies for its per-site cap: with the fallback it is the last two labels.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

__all__ = ("is_public_suffix", "registrable_domain", "source")


@functools.cache
def _package_list() -> Any | None:
    """The package's parsed list, or ``None`` when the package is not installed."""
    try:
        package = importlib.import_module("publicsuffixlist")
    except ImportError:
        return None
    # accept_unknown: a TLD missing from the list (a new one) still counts as public.
    return package.PublicSuffixList(accept_unknown=True)


def source() -> str:
    """``"publicsuffixlist"`` or ``"builtin"``: which rule is in force (for tests and logs)."""
    return "builtin" if _package_list() is None else "publicsuffixlist"


def is_public_suffix(domain: str) -> bool:
    """True when ``domain`` (lower-case, ASCII/IDNA, no leading dot) is a public suffix."""
    if not domain:
        return True
    psl = _package_list()
    if psl is None:
        return "." not in domain
    try:
        return bool(psl.is_public(domain))
    except (UnicodeError, ValueError):
        return "." not in domain


def registrable_domain(host: str) -> str:
    """The public suffix of ``host`` plus one label ("site"), or ``host`` itself if none."""
    if not host:
        return host
    psl = _package_list()
    if psl is not None:
        try:
            site = psl.privatesuffix(host)
        except (UnicodeError, ValueError):
            site = None
        return site if site else host
    labels = host.split(".")
    return ".".join(labels[-2:]) if len(labels) > 2 else host
