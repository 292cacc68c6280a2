"""How long ``import cyhttp`` takes in a fresh interpreter, beside its peers.

Each sample is a new interpreter that times its own ``import <library>`` with
``time.perf_counter`` (interpreter start-up itself is not counted, the library's imports
of asyncio, ssl and so on are). Libraries alternate sample by sample, like the clients.

cyhttp is imported as users get it from a wheel, not from the development checkout: the
peers come from site-packages with their bytecode compiled at install time, while the
checkout is an editable install whose modules are compiled from source on every import
when bytecode writing is off (``PYTHONDONTWRITEBYTECODE``, common in containers and CI),
which doubled the measured time. :func:`installed_copy` lays the package out once per run
in a temporary directory, extension modules included, byte-compiled like a wheel install.
"""

from __future__ import annotations

import atexit
import compileall
import importlib.util
import os
import shutil
import sys
import tempfile

from benchmarks import procs

#: table name → (module to import, extra environment)
LIBRARIES: dict[str, tuple[str, dict[str, str]]] = {
    "cyhttp compiled": ("cyhttp", {}),
    "cyhttp pure": ("cyhttp", {"CYHTTP_NO_EXTENSIONS": "1"}),
    "aiohttp": ("aiohttp", {}),
    "httpx": ("httpx", {}),
    "aiosonic": ("aiosonic", {}),
    "wreq": ("wreq", {}),
    "pyreqwest": ("pyreqwest.client", {}),
    "curl_cffi": ("curl_cffi", {}),
    "niquests": ("niquests", {}),
}
TARGET_MS = 60.0

_CODE = (
    "import time\n"
    "t = time.perf_counter()\n"
    "import {module}\n"
    "print((time.perf_counter() - t) * 1000.0)\n"
)


#: what a wheel of cyhttp installs: the sources and the built extension modules
_INSTALLED_SUFFIXES = (".py", ".so", ".pyd", ".typed")
_copy_dir: str | None = None


def installed_copy() -> str:
    """A directory holding ``cyhttp/`` as a wheel install would (sources, extension
    modules, compiled bytecode); made once per run, removed at exit."""
    global _copy_dir
    if _copy_dir is None:
        spec = importlib.util.find_spec("cyhttp")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("cyhttp is not installed")
        source = next(iter(spec.submodule_search_locations))
        root = tempfile.mkdtemp(prefix="cyhttp-import-")
        atexit.register(shutil.rmtree, root, True)
        target = os.path.join(root, "cyhttp")
        os.mkdir(target)
        for name in os.listdir(source):
            if name.endswith(_INSTALLED_SUFFIXES):
                shutil.copy2(os.path.join(source, name), target)
        if not compileall.compile_dir(target, quiet=1):
            raise RuntimeError("could not byte-compile the copy of cyhttp")
        _copy_dir = root
    return _copy_dir


def sample(module: str, env: dict[str, str], cpus: frozenset[int] | None) -> float:
    """One fresh-interpreter import of ``module``, in milliseconds."""
    if module == "cyhttp":
        env = {**env, "PYTHONPATH": installed_copy()}
    done = procs.run([sys.executable, "-c", _CODE.format(module=module)], cpus, 60.0, env)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["killed at the time limit"])[-1]
        raise RuntimeError(last[:200])
    return float(done.stdout.strip().splitlines()[-1])
