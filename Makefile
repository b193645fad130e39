# Two commands: `make demo` and `make test`. Both set up a virtual environment on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# The demo city on the embedded defaults, in ./var (nothing outside the checkout is touched).
demo: setup
	mkdir -p var
	cd var && ../$(BIN)/outages init
	cd var && ../$(BIN)/outages sync --source ../outages/demo/responses.csv
	cd var && ../$(BIN)/outages report deadlines

test: setup
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python bench/sync_bench.py

clean:
	rm -rf $(VENV) var
