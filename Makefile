# Works on a fresh machine that has only python3: each target creates .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= demo

.PHONY: demo test check-paper lint docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@ $(VENV)/.installed

# Every experiment's quick preset into $(OUT)/<name>/, then one self-contained report
# (written even when a claim fails; the exit status is then reproduce's, 3).
demo: $(VENV)/.installed
	@status=0; $(BIN)/descentlab reproduce all --preset quick --out $(OUT) || status=$$?; \
	if [ $$status -ne 0 ] && [ $$status -ne 3 ]; then exit $$status; fi; \
	$(BIN)/descentlab report $(OUT) -o $(OUT)/report.html || exit $$?; \
	exit $$status

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check descentlab tests benchmarks examples

# The test suite (paper-scale checks deselected), with the 15 slowest tests.
test: lint
	$(BIN)/python -m pytest -q --durations=15

# The paper-scale checks: the quick presets of the slow experiments (pytest marker `paper`).
check-paper: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m paper --durations=15

# The documentation site, offline: every experiment's quick preset first (figures and measured
# claims of the "Reproducing the papers" pages; resumable, so a second build reuses the tasks),
# then Sphinx with warnings as errors and the gallery scripts executed.
DOCS_RESULTS := docs/_build/reproduce
docs: $(VENV)/.installed-docs
	@status=0; OPENBLAS_NUM_THREADS=1 $(BIN)/descentlab reproduce all --preset quick \
		--out $(DOCS_RESULTS) --quiet || status=$$?; \
	if [ $$status -ne 0 ] && [ $$status -ne 3 ]; then exit $$status; fi
	DESCENTLAB_DOCS_RESULTS=$(DOCS_RESULTS) OPENBLAS_NUM_THREADS=1 MPLBACKEND=Agg \
		$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html
	@echo "wrote docs/_build/html/index.html"

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache docs/_build docs/generated docs/auto_examples
