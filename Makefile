# The two commands of the README: `make run` (the whole local stack) and `make test` (every test).
# Only Python 3.11+, make and git are needed: everything else goes into .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EBCLI  := .venv-ebcli

.PHONY: run test lint typecheck imports pytest bench bundle clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.local-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[local]'
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.local-installed

# The EB CLI, for tests/infra/test_cli_commands.py (the docs' eb commands against its parser), in
# a virtualenv of its own: awsebcli pins pathspec 0.12, the dev tools' mypy needs pathspec 1.x.
$(EBCLI)/.installed: tests/support/ebcli-requirements.txt | $(BIN)/python
	$(BIN)/python -m venv --clear $(EBCLI)
	$(EBCLI)/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	@touch $@

run: $(VENV)/.local-installed
	$(BIN)/xray-signup up

test: lint typecheck imports pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# The dependency rules of DESIGN.md (pyproject.toml [tool.importlinter]).
imports: $(VENV)/.dev-installed
	$(BIN)/lint-imports

# Both cores by default (pytest-xdist; a test file stays on one worker, so a module's stack is
# started once): `make test PYTEST_WORKERS=0` runs everything in one process.
PYTEST_WORKERS ?= 2
pytest: $(VENV)/.dev-installed $(EBCLI)/.installed
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench

bundle: $(VENV)/.local-installed
	$(BIN)/xray-signup bundle

clean:
	rm -rf $(VENV) $(EBCLI) dist build .mypy_cache .ruff_cache .pytest_cache .data
