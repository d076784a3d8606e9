# nmfedu — every target sets itself up; see README.md.
#   make lab            set up, then open JupyterLab on the series' index (NO_BROWSER=1: print the URL only)
#   make test           set up, then unit/property tests, nbval on every notebook, browser test
#   make notebooks      re-execute notebooks in place on a fresh kernel (NB=notebooks/02_*.ipynb for one)
#   make html           export the executed notebooks to a static site in build/html
#   make data           rebuild data/ from the music21 corpus and the FluidR3_GM soundfont
#   make bench          run the benchmarks in benchmarks/ (prints ratios; not part of make test)
#   make evalset        render the separation evaluation set into build/evalset (3 Debian soundfonts)

PYTHON ?= python3.11
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.nmfedu-installed
LOCK    = requirements/lock.txt
NB     ?= notebooks/[0-9]*.ipynb
SANITIZE = tests/nbval_sanitize.cfg
NO_BROWSER ?=
LAB_ARGS ?= $(if $(NO_BROWSER),--no-browser,) $(if $(filter 0,$(shell id -u)),--allow-root,)

# The notebooks' matrices are small: one BLAS thread per process is as fast, gives the same
# numbers on every machine, and avoids a >10x slowdown when the kernel, JupyterLab, a browser
# and pytest share two cores. Benchmarks (make bench) keep the library defaults and print them.
test test-unit test-notebooks test-browser test-browser-selftest notebooks html: export OPENBLAS_NUM_THREADS = 1
test test-unit test-notebooks test-browser test-browser-selftest notebooks html: export OMP_NUM_THREADS = 1
test test-unit test-notebooks test-browser test-browser-selftest notebooks html: export MKL_NUM_THREADS = 1

.PHONY: setup lab test test-unit test-notebooks test-browser test-browser-selftest chromium notebooks html data evalset bench lock clean check-python

PYTHON_VERSION = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)

# $(error) prints exactly one line saying what is missing, and stops.
check-python:
	$(if $(shell command -v $(PYTHON) 2>/dev/null),,$(error nmfedu needs Python 3.11, but '$(PYTHON)' was not found: install Python 3.11 or run make PYTHON=/path/to/python3.11))
	$(if $(filter 3.11,$(PYTHON_VERSION)),,$(error nmfedu needs Python 3.11, but '$(PYTHON)' is Python $(PYTHON_VERSION): run make PYTHON=/path/to/python3.11))
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "nmfedu needs Python 3.11 with venv and ensurepip (Debian/Ubuntu: apt-get install python3.11-venv)"; exit 1; }

# The environment is rebuilt only when pyproject.toml or the lock file change: a second run reuses it.
$(STAMP): pyproject.toml $(LOCK) | check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name nmfedu --display-name "Python 3 (nmfedu)" >/dev/null
	@touch $(STAMP)
	@echo "nmfedu environment ready in $(VENV)"

setup: check-python $(STAMP)

lab: setup
	@$(if $(NO_BROWSER),echo "Open the URL printed below; the series starts at .../lab/tree/notebooks/00_index.ipynb (same token).",true)
	$(VENV)/bin/jupyter lab $(LAB_ARGS) notebooks/00_index.ipynb

test: setup
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-notebooks
	$(MAKE) --no-print-directory test-browser

test-unit: setup
	$(PY) -m pytest -q tests nmfedu

test-notebooks: setup
	$(PY) -m pytest -q -p no:cacheprovider --nbval --nbval-current-env --nbval-sanitize-with $(SANITIZE) $(NB)

# Debian's chromium (Playwright's own browser download does not work offline).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; \
	  else echo "make test-browser needs Debian's chromium: run 'sudo apt-get install chromium'"; exit 1; fi; }

test-browser: setup chromium
	$(PY) tests/browser/run_browser_test.py

# Proves the browser test can fail: a good fixture must pass, five broken ones must each fail.
test-browser-selftest: setup chromium
	$(PY) tests/browser/run_browser_test.py --self-test

notebooks: setup
	$(PY) scripts/execute_notebooks.py $(NB)

html: setup
	$(PY) scripts/build_html.py --out build/html

data: setup
	@command -v fluidsynth >/dev/null 2>&1 && test -f /usr/share/sounds/sf2/FluidR3_GM.sf2 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fluidsynth fluid-soundfont-gm >/dev/null) ; \
	  else echo "make data needs Debian's fluidsynth and fluid-soundfont-gm: run 'sudo apt-get install fluidsynth fluid-soundfont-gm'"; exit 1; fi; }
	$(PY) scripts/make_data.py

# The evaluation set of the separation protocol (issue 13): rendered, not committed.
EVALSET_PACKAGES = fluidsynth fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont
evalset: setup
	@command -v fluidsynth >/dev/null 2>&1 && test -f /usr/share/sounds/sf2/FluidR3_GM.sf2 \
	  && test -f /usr/share/sounds/sf2/TimGM6mb.sf2 && test -f /usr/share/sounds/sf3/MuseScore_General.sf3 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(EVALSET_PACKAGES) >/dev/null) ; \
	  else echo "make evalset needs Debian's $(EVALSET_PACKAGES): run 'sudo apt-get install $(EVALSET_PACKAGES)'"; exit 1; fi; }
	@test -f build/evalset/catalog.json || $(PY) scripts/make_eval_set.py --out build/evalset

bench: setup evalset
	$(PY) benchmarks/run_all.py

lock: check-python
	rm -rf build/lockenv && $(PYTHON) -m venv build/lockenv
	build/lockenv/bin/pip install --quiet --upgrade pip && build/lockenv/bin/pip install --quiet '.[dev]'
	build/lockenv/bin/pip freeze --exclude nmfedu | sort -f > build/lock.new
	@echo "review build/lock.new, then copy it over $(LOCK) (keep the header) and update environment.yml and binder/environment.yml"

clean:
	rm -rf build .pytest_cache
