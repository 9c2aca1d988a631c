# Two set-up commands, each creating or reusing .venv:
#   make book   - the main job: run the chapters (PROFILE=smoke|cpu|full) and build the HTML site
#   make test   - lint, the whole test suite, nbval on the chapters, and the browser check
# and one for the results files behind the book's tables (hours under cpu, a GPU under full):
#   make results PROFILE=cpu [DATASET=viper] [ROWS="baseline full"] [SEEDS="0 1 2"] [SHARD=i/n]
PYTHON  ?= python3
PROFILE ?= smoke
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
# The tested pair; pyproject.toml accepts a range.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
# apt-get needs root; elsewhere go through sudo.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: book results test lint format browser nbval clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PINS)
	$(PY) -m pip install -q -e ".[book,dev]" $(TORCH_PINS)
	touch $@

book: $(STAMP)
	$(PY) -m tools.run_book --profile $(PROFILE)
	$(PY) -m tools.build_site

# Trains and evaluates every run behind the book's tables (python -m tools.sweep all): results
# files land in results/<profile>/<dataset>/, runs that have one are skipped, real sets are used when
# $REID_DATA_ROOT holds them. With DATASET or ROWS it trains just those ablation rows (tools.sweep
# run); SHARD=i/n takes a disjoint part of them (a CI matrix; merge with tools.sweep merge).
results: $(STAMP)
ifeq ($(DATASET)$(ROWS)$(SHARD),)
	$(PY) -m tools.sweep all --profile $(PROFILE) $(if $(HOURS),--hours $(HOURS))
else
	$(PY) -m tools.sweep run --profile $(PROFILE) $(if $(SEEDS),--seeds $(SEEDS)) \
	  $(if $(SPLITS),--splits $(SPLITS)) \
	  $(if $(DATASET),--dataset $(DATASET)) $(if $(ROWS),--rows $(ROWS)) \
	  $(if $(SHARD),--shard $(SHARD))
endif

# The workflows in .github/workflows: actionlint (syntax, expressions, runner labels) and zizmor
# (injection, pinning, permissions), offline.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m tools.strip_notebooks --check
	$(PY) -m tools.setup_cell --check
	$(PY) -m tools.committed_runs --check
	$(VENV)/bin/actionlint
	$(VENV)/bin/zizmor --offline --quiet .github/workflows

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .
	$(PY) -m tools.strip_notebooks

# Debian's Chromium for the browser check (Playwright drives it; it downloads no browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    chromium >/dev/null; }

# The chapters under the smoke profile; only cells tagged nbval-check-output are compared.
# REID_BOOK_BATCH: no frontend, so the chapters leave their widgets out (static figures only).
nbval: $(STAMP)
	REID_BOOK_BATCH=1 PYTHONPATH=$(CURDIR) $(PY) -m pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider book

# pytest exits 5 when it collects nothing; that is not a failure.
# BOOK_BROWSER_REQUIRED turns a missing chromium into a failure instead of a skip.
test: lint browser
	BOOK_BROWSER_REQUIRED=1 $(PY) -m pytest; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc
	$(MAKE) --no-print-directory nbval

clean:
	rm -rf $(VENV) _build .pytest_cache .ruff_cache
