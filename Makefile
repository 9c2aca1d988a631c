# Two set-up commands, each creating or reusing .venv:
#   make book   - the main job (see README)
#   make test   - lint + the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The tested pair; pyproject.toml accepts a range.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1

.PHONY: book test lint format clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PINS)
	$(PY) -m pip install -q -e ".[book,dev]" $(TORCH_PINS)
	touch $@

book: $(STAMP)
	$(PY) -m reid_lib.models.cost_report

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# pytest exits 5 when it collects nothing; that is not a failure.
test: lint
	$(PY) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

clean:
	rm -rf $(VENV) _build .pytest_cache .ruff_cache
