# PosGen course package. Every target creates or refreshes .venv itself.
#   make demo   train PosGen on the synthetic streets (CPU) and write outputs/demo/
#   make test   unit tests, then every notebook through nbval
#   make lab    JupyterLab in the project's environment
#   make bench  side-by-side speed and memory ratios (docs/benchmarks.md)
#   make pretrained  retrain the shipped models (about an hour on 2 CPU cores; resumable)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --quiet

# One stamp per dependency set: `make demo` needs only the core package,
# `make test` and `make lab` need the notebook, test and instructor extras too.
CORE_STAMP := $(VENV)/.stamp-core
DEV_STAMP  := $(VENV)/.stamp-dev

.PHONY: demo test lab bench pretrained clean-notebooks distclean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(CORE_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@ $(CORE_STAMP)

demo: $(CORE_STAMP)
	$(VENV)/bin/posgen demo

test: $(DEV_STAMP)
	$(VENV)/bin/posgen nbclean --check notebooks
	POSGEN_FAST=1 $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

lab: $(DEV_STAMP)
	$(VENV)/bin/posgen lab

bench: $(CORE_STAMP)
	$(VENV)/bin/posgen bench --out docs/benchmarks.md

pretrained: $(CORE_STAMP)
	$(VENV)/bin/posgen pretrained build

clean-notebooks: $(CORE_STAMP)
	$(VENV)/bin/posgen nbclean notebooks

distclean:
	rm -rf $(VENV) outputs build
