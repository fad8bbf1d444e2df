# Two commands for a newcomer: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest demo check bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: start the service with ./feeds.toml, SQLite under data/, email to ./outbox
run: $(STAMP)
	$(BIN)/alerts run

## demo: the service against built-in example feeds; a digest lands in ./outbox-demo
demo: $(STAMP)
	$(BIN)/alerts demo

## check: validate feeds.toml
check: $(STAMP)
	$(BIN)/alerts check

## test: lint, format check, type check, then the whole test suite
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check alerts tests benchmarks migrations
	$(BIN)/ruff format --check alerts tests benchmarks migrations

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

## bench: print the matching, extraction, clustering and delivery figures (see docs/benchmarks.md)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_matching.py
	$(BIN)/python benchmarks/bench_quality.py
	$(BIN)/python benchmarks/bench_extraction.py
	$(BIN)/python benchmarks/bench_story_quality.py
	$(BIN)/python benchmarks/bench_clustering.py
	$(BIN)/python benchmarks/bench_delivery.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
