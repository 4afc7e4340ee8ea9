# Two commands on a fresh machine with Python 3.11+:  make run   and   make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run console test lint migrate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/walkbot run

console: $(STAMP)
	$(BIN)/walkbot console

migrate: $(STAMP)
	$(BIN)/walkbot migrate

test: $(STAMP)
	$(BIN)/ruff check walkbot tests bench
	$(BIN)/ruff format --check walkbot tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	# The end-to-end tests mostly wait on real time (walk cues), so six workers fit on two cores.
	$(BIN)/pytest -q -n 6 --dist worksteal || [ $$? -eq 5 ]

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
