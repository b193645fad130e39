# Two commands: `make demo` and `make test`. Both set up a virtual environment on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup tools demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Java and the Nu HTML checker, nginx: what the tests need beyond Python (.ci/tools installs what is missing).
tools:
	bash .ci/tools

# The demo city on the embedded defaults, in ./var (nothing outside the checkout is touched): the demo export
# (dates moved to yesterday so the city is current), the deadline report, the e-mail officials would get as .eml
# files in var/mail (a local SMTP catcher: no mail server needed), then the site at http://127.0.0.1:5000.
demo: export OUTAGES_SECRET_KEY ?= demo-only-not-secret
demo: setup
	mkdir -p var
	$(BIN)/python -m outages.demo.build --today --out var/demo.csv
	cd var && ../$(BIN)/outages init
	cd var && ../$(BIN)/outages sync --source demo.csv
	cd var && ../$(BIN)/outages report deadlines
	cd var && ../$(BIN)/outages send --catch mail
	cd var && ../$(BIN)/outages serve

test: setup tools
	$(BIN)/pytest -q

bench: setup tools
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python bench/web_bench.py
	$(BIN)/python bench/sync_bench.py
	$(BIN)/python bench/sheets_bench.py

clean:
	rm -rf $(VENV) var .tools
