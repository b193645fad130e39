# Two commands: `make demo` and `make test`. Both set up a virtual environment on first use: the demo installs
# only what the hub runs, `make test` (and `make setup`) add the test tools (pytest, Playwright, hypothesis…).
PYTHON ?= python3
PORT   ?= 5000
VENV   := .venv
BIN    := $(VENV)/bin
RUN    := $(VENV)/.installed-run
TESTS  := $(VENV)/.installed-test

.PHONY: setup tools demo demo-settings test test-moved-clock lint bench clean

$(RUN): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUN)

$(TESTS): $(RUN)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TESTS)

setup: $(TESTS)

# Java and the Nu HTML checker, nginx: what the tests need beyond Python (.ci/tools installs what is missing).
tools:
	bash .ci/tools

# The demo city on the embedded defaults, its data in ./var (nothing outside the checkout is touched): the demo
# export (dates moved to yesterday so the city is current), the deadline report, the e-mail officials would get
# as .eml files in var/mail (a local SMTP catcher: no mail server needed), then the site at
# http://127.0.0.1:$(PORT) (`make demo PORT=8080` when 5000 is taken).
# It leaves ./outages.toml pointing at var/, so `.venv/bin/outages …` run from here works on the demo's data
# afterwards; a city's own outages.toml is never overwritten.
demo: $(RUN) demo-settings
	$(BIN)/python -m outages.demo.build --today --out var/demo.csv
	$(BIN)/outages init
	$(BIN)/outages sync --source var/demo.csv
	$(BIN)/outages report deadlines
	$(BIN)/outages send --catch var/mail
	$(BIN)/outages serve --port $(PORT)

DEMO_MARK := Written by make demo

demo-settings:
	@if [ -f outages.toml ] && ! head -n 1 outages.toml | grep -q '$(DEMO_MARK)'; then \
	    echo "outages.toml тут не від демо: демо його не змінює — перенесіть його або запустіть демо в іншій копії" \
	         "/ outages.toml here is not the demo's: move it away or run the demo in another checkout" >&2; \
	    exit 1; \
	fi
	mkdir -p var
	printf '%s\n' \
	    '# $(DEMO_MARK): the CLI run from this folder works on the demo in var/. Delete it (or make clean)' \
	    '# before configuring a real city here.' \
	    'database_url = "sqlite:///var/outages.db"' \
	    'source = "var/demo.csv"' \
	    'public_url = "http://127.0.0.1:$(PORT)"' \
	    'secret_key = "demo-only-not-secret"' > outages.toml

test: $(TESTS) tools
	$(BIN)/pytest -q

# Time is an input: the tests marked `clock` (they read the real clock, themselves or through the hub) again with
# the real clock moved (tests/conftest.py: time_machine in the run and in the hub's subprocesses), to a Sunday in
# summer and a minute before the March night's skipped hour (03:00–04:00 in Kyiv), ticking across it. .ci/run runs
# it after `make test` and fails when any moved run fails. The October night, whose 03:00–04:00 happens twice:
# make test-moved-clock MOVED_CLOCKS=2027-10-31T03:59:00+03:00
MOVED_CLOCKS ?= 2027-07-04T11:00:00+03:00 2027-03-28T02:59:00+02:00

test-moved-clock: $(TESTS) tools
	@failed=""; for now in $(MOVED_CLOCKS); do \
	    echo "== the tests marked clock, the clock moved to $$now"; \
	    OUTAGES_TEST_NOW=$$now $(BIN)/pytest -q -m clock || failed="$$failed $$now"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED with the clock moved to:$$failed" >&2; exit 1; fi

# ruff with the project's rules (pyproject.toml); .ci/run runs it before the tests.
lint: $(TESTS)
	$(BIN)/ruff check .

bench: $(TESTS) tools
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python bench/web_bench.py
	$(BIN)/python bench/sync_bench.py
	$(BIN)/python bench/sheets_bench.py

clean:
	rm -rf $(VENV) var .tools
	@if [ -f outages.toml ] && head -n 1 outages.toml | grep -q '$(DEMO_MARK)'; then rm outages.toml; fi
