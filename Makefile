# Two commands a newcomer needs: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck unit secrets install dev clean data-dictionary problem-codes golden bench fmt report

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(STAMP)

install: $(STAMP)
dev: $(DEV_STAMP)

# The whole pipeline on the local emulator: sync, publish, refresh, report, then a summary and the paths
demo: $(STAMP)
	$(BIN)/cetk demo --out demo-output

# The offline HTML report of a staging directory (docs/report.md); `make demo` can call it after its sync:
#   make report STAGING=path/to/staging REPORT_DIR=path/to/report
STAGING ?= staging
REPORT_DIR ?= report
report: $(STAMP)
	$(BIN)/cetk report --staging $(STAGING) --out $(REPORT_DIR)

# ruff first (a second, fails fast); then mypy (one core), the secret scan and pytest run side by side, as
# mypy alone would leave the other core idle. --output-sync keeps each one's output together, in one piece.
test: $(DEV_STAMP) lint
	$(MAKE) --no-print-directory -j3 --output-sync=target typecheck secrets unit

fmt: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

# One worker per core (pytest-xdist): the suite spends most of its time in child processes and emulators.
# --dist loadgroup: tests/scheduling.py's order; a module's shared fixtures are built on one worker only.
unit: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadgroup

# S2: every tracked file scanned; a finding not audited in .secrets.baseline fails (docs/security.md).
secrets: $(DEV_STAMP)
	$(BIN)/python .ci/secret_scan.py

data-dictionary: $(STAMP)
	$(BIN)/cetk schema export --format markdown > docs/data-dictionary.md

problem-codes: $(STAMP)
	$(BIN)/python -c "from transforms.problems import problem_codes_markdown as doc; print(doc(), end='')" > docs/problem-codes.md

golden: $(DEV_STAMP)
	$(BIN)/python -m pytest -q --update-golden

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
