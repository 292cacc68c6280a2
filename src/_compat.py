"""The one place that decides between the compiled modules and their pure-Python twins.

``CYHTTP_NO_EXTENSIONS`` (any non-empty value) in the environment, or an interpreter other
than CPython, selects the twins. Otherwise the compiled modules are imported, and if one
cannot be (a pure build, a broken wheel, or a module built against a multidict whose C API
this multidict does not export: its initialisation then fails with AttributeError or
another error, not ImportError) its twin is used and the reason is kept in
:data:`IMPORT_ERRORS`, so the choice is never silent: :func:`implementation` and
``cyhttp.IMPLEMENTATION`` say what is in use.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

NO_EXTENSIONS: bool = bool(os.environ.get("CYHTTP_NO_EXTENSIONS")) or (
    sys.implementation.name != "cpython"
)

#: compiled module name → the exception that made us fall back to its twin.
IMPORT_ERRORS: dict[str, Exception] = {}
#: compiled module name → True when the compiled module is in use.
COMPILED: dict[str, bool] = {}


def load(compiled: str, pure: str) -> ModuleType:
    """Import ``cyhttp.<compiled>`` unless extensions are off or missing, else ``cyhttp.<pure>``."""
    if not NO_EXTENSIONS:
        try:
            module = importlib.import_module(f"{__package__}.{compiled}")
        except Exception as exc:  # any failure of a compiled module: the twin still works
            IMPORT_ERRORS[compiled] = exc
        else:
            COMPILED[compiled] = True
            return module
    COMPILED[compiled] = False
    return importlib.import_module(f"{__package__}.{pure}")


def import_twin(name: str) -> ModuleType | None:
    """``cyhttp.<name>`` whatever the switch says, or None when it cannot be imported (a
    compiled module that is not built, or one whose initialisation fails). Lets tests and
    benchmarks drive each twin."""
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except Exception:
        return None


def implementation() -> str:
    """``"compiled"`` when every compiled module is in use, ``"python"`` when none is,
    ``"mixed"`` otherwise."""
    used = set(COMPILED.values())
    if used == {True}:
        return "compiled"
    if used == {False} or not used:
        return "python"
    return "mixed"
