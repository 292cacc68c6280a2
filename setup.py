"""Build script: cythonizes the compiled modules, or builds a pure-Python package.

The compiled modules are optional accelerators. The package is built without them when
``CYHTTP_NO_EXTENSIONS`` is set, on interpreters other than CPython, when Cython is not
available, or when the C compiler fails; in each case one warning line says so and the
pure-Python twins are used at import time.
"""

import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

COMPILED_MODULES = (
    "_parser",
    "_websocket",
    "_hpack",
    "_h2frames",
    "_h2_connection",
    "_protocol",
    "_streams",
)


def _warn(message: str) -> None:
    print(f"cyhttp: WARNING: {message}; building the pure-Python package", file=sys.stderr)


def _want_extensions() -> bool:
    if os.environ.get("CYHTTP_NO_EXTENSIONS"):
        return False
    if platform.python_implementation() != "CPython":
        _warn(f"{platform.python_implementation()} is not CPython")
        return False
    return True


def _include_dirs(name: str) -> list[str]:
    """The parser builds its header multidicts through multidict's C API (multidict>=7)."""
    if name != "_parser":
        return []
    try:
        import multidict

        return [multidict.get_include()]
    except (ImportError, AttributeError) as exc:
        _warn(f"multidict>=7 is needed to build {name} ({exc})")
        return []


def _extensions() -> list[Extension]:
    if not _want_extensions():
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _warn("Cython is not installed")
        return []
    if sys.platform == "win32":
        compile_args = ["/O2"]
    else:
        compile_args = ["-O3"]
    # CYHTTP_BUILD_ONLY=_parser builds just that module (for quick rebuilds in development)
    only = set(filter(None, os.environ.get("CYHTTP_BUILD_ONLY", "").split(",")))
    extensions = [
        Extension(
            f"cyhttp.{name}",
            [f"src/{name}.pyx"],
            extra_compile_args=compile_args,
            include_dirs=_include_dirs(name),
        )
        for name in COMPILED_MODULES
        if not only or name in only
    ]
    try:
        return cythonize(
            extensions,
            compiler_directives={
                "language_level": "3",
                "boundscheck": False,
                "wraparound": False,
                "cdivision": True,
                "initializedcheck": False,
                "embedsignature": True,
            },
            annotate=bool(os.environ.get("CYHTTP_ANNOTATE")),
        )
    except Exception as exc:  # a Cython compile error must not break the pure build
        _warn(f"Cython failed ({type(exc).__name__}: {exc})")
        return []


class OptionalBuildExt(build_ext):
    """build_ext that degrades to the pure-Python package when the C compiler fails."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            _warn(f"cannot build extensions ({type(exc).__name__}: {exc})")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(f"cannot compile {ext.name} ({type(exc).__name__}: {exc})")


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
