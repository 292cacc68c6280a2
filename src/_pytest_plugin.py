"""The ``cyhttp`` pytest plugin (registered under the ``pytest11`` entry point): the
``cyhttp_mock`` fixture, an active :class:`cyhttp.testing.aioresponses` for one test.

Only the fixture is defined here: the plugin adds no option, hook or import-time side
effect, so a suite that never asks for the fixture runs exactly as without it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .testing import aioresponses

__all__ = ("cyhttp_mock",)


@pytest.fixture
def cyhttp_mock() -> Iterator[aioresponses]:
    """An active mock of every cyhttp session: register answers with ``cyhttp_mock.get(...)``
    and friends; it stops (and forgets its routes) when the test ends."""
    with aioresponses() as mock:
        yield mock
