# PosGen course package. Every target creates or refreshes .venv itself.
#   make demo   train PosGen on the synthetic streets (CPU) and write outputs/demo/
#   make test   unit tests, then every notebook through nbval
#   make lab    JupyterLab for students on their own copies (build/student: no solutions, no hidden tests)
#   make lab-instructor  JupyterLab on the instructor notebooks, with nbgrader's tools
#   make test-browser  JupyterLab in a real headless Chromium: run notebooks, move widgets
#   make assign-release | assign-collect | assign-autograde | assign-feedback   nbgrader's grading loop
#               on the course folder COURSE (default course/; docs/teaching.md, "Grading")
#   make bench  side-by-side speed and memory ratios (docs/benchmarks.md)
#   make pretrained  release: retrain the models shipped in the package (about 1.5 hours on 2 CPU cores; resumable)
#   make pretrained-camvid CAMVID=DIR  release: retrain the CamVid models from your CamVid folder (about 75 min)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
# pip byte-compiles what it installs one file at a time; installing with --no-compile and compiling the
# environment with compileall on every core is 91 s instead of about 130 s for a fresh `.[dev]` (2 cores). The
# .pyc files must exist: where PYTHONDONTWRITEBYTECODE is set, Python never writes them later, and every
# process would compile torch again. compileall's status is ignored: some packages ship template .py files
# that are not meant to compile (pip skips those too).
PIP_INSTALL := $(PY) -m pip --quiet install --no-compile
COMPILE_ENV := $(PY) -m compileall -qq -j 0 $(VENV)/lib >/dev/null || true

# One stamp per dependency set: `make demo` needs only the core package,
# `make test` and `make lab` need the notebook, test and instructor extras too.
CORE_STAMP := $(VENV)/.stamp-core
DEV_STAMP  := $(VENV)/.stamp-dev
BROWSER_STAMP := $(VENV)/.stamp-browser
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-browser lab lab-instructor bench pretrained pretrained-camvid clean-notebooks distclean \
        assign-release assign-collect assign-autograde assign-feedback

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(CORE_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP_INSTALL) -e .
	$(COMPILE_ENV)
	touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP_INSTALL) -e ".[dev]"
	$(COMPILE_ENV)
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@ $(CORE_STAMP)

$(BROWSER_STAMP): $(DEV_STAMP)
	$(PIP_INSTALL) -e ".[dev,browser]"
	$(COMPILE_ENV)
	touch $@

demo: $(CORE_STAMP)
	$(VENV)/bin/posgen demo

# Two pytest workers (pytest-xdist), one thread each: most tests are too small to use two threads, so two
# processes finish the suite about 1.4x sooner on 2 cores. A notebook's cells stay in order in one worker
# (--dist loadfile). TEST_WORKERS=0 runs everything in this process; more workers need about 2 GB each.
TEST_WORKERS ?= 2
test: $(DEV_STAMP)
	$(VENV)/bin/posgen nbclean --check notebooks
	POSGEN_FAST=1 $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider \
	  -n $(TEST_WORKERS) --dist loadfile

# Chromium and its driver come from the operating system's packages (no browser download).
test-browser: $(BROWSER_STAMP)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "installing Chromium and ChromeDriver (Debian packages chromium, chromium-driver)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; }
	POSGEN_FAST=1 $(PY) -m pytest browser_tests -p no:cacheprovider -v

lab: $(DEV_STAMP)
	$(VENV)/bin/posgen lab

lab-instructor: $(DEV_STAMP)
	$(VENV)/bin/posgen lab --instructor

# The grading loop (posgen assign ...): one notebook is one assignment, named like the notebook.
COURSE    ?= course
NOTEBOOKS ?= notebooks
need_assignment = $(if $(ASSIGNMENT),,$(error set ASSIGNMENT, e.g. make $@ ASSIGNMENT=06_resolution_upscaling))

assign-release: $(DEV_STAMP)
	$(VENV)/bin/posgen assign release $(NOTEBOOKS) --course $(COURSE)

assign-collect: $(DEV_STAMP)
	$(need_assignment)
	$(VENV)/bin/posgen assign collect $(ASSIGNMENT) $(or $(SUBMISSIONS),$(error set SUBMISSIONS=FOLDER of <student>.ipynb or <student>/)) --course $(COURSE)

assign-autograde: $(DEV_STAMP)
	$(need_assignment)
	$(VENV)/bin/posgen assign autograde $(ASSIGNMENT) --course $(COURSE)

assign-feedback: $(DEV_STAMP)
	$(need_assignment)
	$(VENV)/bin/posgen assign feedback $(ASSIGNMENT) --course $(COURSE)

bench: $(CORE_STAMP)
	$(VENV)/bin/posgen bench --out docs/benchmarks.md

pretrained: $(CORE_STAMP)
	$(VENV)/bin/posgen pretrained build --release

CAMVID ?= ../shared/camvid
pretrained-camvid: $(CORE_STAMP)
	$(VENV)/bin/posgen pretrained build --release camvid camvid_anyres --data $(CAMVID)

clean-notebooks: $(CORE_STAMP)
	$(VENV)/bin/posgen nbclean notebooks

distclean:
	rm -rf $(VENV) outputs build
