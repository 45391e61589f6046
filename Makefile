# The two commands of the README: `make demo` and `make test`.
# Each creates .venv with the machine's Python (3.11 or newer) if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck pytest browser fuzz bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "nkt-motion needs Python >= 3.11, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	NKT_MOTION_INDEX=demo-output/index.sqlite $(BIN)/nkt-motion retest \
		--protocol hip_flexion_gmed_adl --side L --emulate --auto --out demo-output --overwrite

lint: $(VENV)/.installed-test
	$(BIN)/ruff check --no-cache src tests benchmarks data/samples conftest.py
	$(BIN)/ruff format --no-cache --check src tests benchmarks data/samples conftest.py

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy --strict src/

# Property tests run with a fixed seed here, so CI is reproducible; plain `pytest`
# explores new random examples on every run.
pytest: $(VENV)/.installed-test browser
	$(BIN)/pytest -q --hypothesis-seed=0

# The dashboard's browser tests drive Debian's chromium (a test tool's own browser
# download does not work offline). Install it when missing and this machine can;
# otherwise those tests skip and say why.
browser:
	@if [ -n "$$NKT_CHROMIUM" ] || [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "no apt-get: the dashboard browser tests will skip"; exit 0; fi; \
	SUDO=""; if [ "$$(id -u)" != 0 ]; then \
		if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
		echo "not root and no sudo: cannot install chromium, browser tests will skip"; exit 0; fi; fi; \
	echo "installing Debian's chromium for the dashboard browser tests"; \
	$$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	{ $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q chromium >/dev/null 2>&1; } || \
	echo "chromium could not be installed: the dashboard browser tests will skip"

test: lint typecheck pytest

fuzz: $(VENV)/.installed-test
	NKT_FUZZ_EXAMPLES=1000000 $(BIN)/pytest -q tests -k fuzz

# The peer libraries pin older packages (NeuroKit2 needs pandas < 3), so the
# benchmarks get a venv of their own and never change the test environment.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[bench]'
	@touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/bench_emg.py
	$(BENCH_VENV)/bin/python benchmarks/bench_stream_dsp.py
	$(BENCH_VENV)/bin/python benchmarks/bench_stream.py
	$(BENCH_VENV)/bin/python benchmarks/bench_imu.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
