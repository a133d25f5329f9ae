# Every target builds/refreshes the local virtual environment first (idempotent).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv demo test bench figures clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml requirements/lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c requirements/lock.txt -e ".[test]"
	touch $(STAMP)

demo: venv
	$(PY) -m otgan demo

test: venv
	$(PY) -m pytest -q -n 2

bench: venv
	$(PY) -m pip install -q -c requirements/lock.txt -e ".[test,bench]" || true
	$(PY) benchmarks/run_all.py

figures: venv
	$(PY) -m otgan.theory.figures docs/figures

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
