# chargewatch: the two commands a newcomer types are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv run test test-docker lint bench bench-quick train clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .

test: venv lint
	$(PY) -m pytest

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
	rm -rf $(VENV) artifacts .pytest_cache .ruff_cache
