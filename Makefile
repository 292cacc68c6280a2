# The two commands a fresh machine needs: `make test` and `make bench`.
# Everything is installed into .venv by these targets; nothing needs installing by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PIP    := $(BIN)/pip -q --disable-pip-version-check
PYX    := src/_parser.pyx src/_websocket.pyx src/_hpack.pyx src/_h2frames.pyx src/_h2_connection.pyx \
          src/_protocol.pyx src/_streams.pyx

.PHONY: all build nginx test test-compiled test-pure bench bench-quick lint wheel sdist clean fuzz

all: build

$(VENV)/.stamp-venv:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip "setuptools>=77" wheel "Cython>=3.0" "multidict>=7.0"
	touch $@

# every extra (runtime deps come with them): the suite also tests uvloop and the bench
# harness, so `make test` needs the bench extra too; reinstalled when the metadata changes
$(VENV)/.stamp-test: $(VENV)/.stamp-venv pyproject.toml setup.py
	$(PIP) install --no-build-isolation -e '.[test,lint,speedups,bench]'
	touch $@

# compiled modules, built in place next to their twins in src/
$(VENV)/.stamp-build: $(VENV)/.stamp-test $(PYX) setup.py
	$(PY) setup.py -q build_ext --inplace
	touch $@

build: $(VENV)/.stamp-build

# nginx (with its http2 module) for the tests against a real nginx: installed with apt-get
# where missing and possible; without it those tests skip and say so
nginx:
	@command -v nginx >/dev/null 2>&1 || command -v /usr/sbin/nginx >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null 2>&1 && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; } || \
	  echo "nginx could not be installed here: the nginx tests will skip"

test: test-compiled test-pure

test-compiled: build nginx
	$(PY) -m pytest

# the compiled run's connections use aiofastnet (installed by the speedups extra); the pure
# run keeps the loop's own transports (what a user without aiofastnet gets) under every test
test-pure: build nginx
	CYHTTP_NO_EXTENSIONS=1 CYHTTP_NO_AIOFASTNET=1 $(PY) -m pytest --no-c-extensions

bench: build
	$(PY) -m benchmarks $(BENCH_ARGS)

bench-quick: build
	$(PY) -m benchmarks --quick $(BENCH_ARGS)

# coverage-guided with atheris when it installs here (the "fuzz" extra), else the
# built-in harness; crashes land in fuzz-crashes/
fuzz: build
	$(PIP) install 'atheris>=2.3' || echo "atheris does not install here: using the built-in harness"
	$(PY) -m tests.fuzz $(FUZZ_ARGS)

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/mypy

wheel: $(VENV)/.stamp-venv
	$(PIP) install build
	$(PY) -m build --wheel
	CYHTTP_NO_EXTENSIONS=1 $(PY) -m build --wheel   # the pure py3-none-any wheel

sdist: $(VENV)/.stamp-venv
	$(PIP) install build
	$(PY) -m build --sdist

clean:
	rm -rf build dist *.egg-info src/*.egg-info src/*.c src/*.html src/*.so .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -exec rm -rf {} +
	rm -f $(VENV)/.stamp-build
