# nmfedu — every target sets itself up; see README.md.
#   make lab            set up, then open JupyterLab on the series' index (NO_BROWSER=1: print the URL only)
#   make test           set up, then unit/property tests, nbval on every notebook, browser test
#   make notebooks      re-execute notebooks in place on a fresh kernel (NB=notebooks/02_*.ipynb for one)
#   make html           export the executed notebooks to a static site in build/html (works offline,
#                       from file://: open build/html/index.html)
#   make slides         export the notebooks' lecture path as offline reveal.js decks in build/slides
#   make data           rebuild data/ from the music21 corpus and the FluidR3_GM soundfont
#   make performed      render performed versions of the bundled pieces into build/performed (TimGM6mb)
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
test test-unit test-notebooks test-browser test-browser-selftest test-slides notebooks html slides: export OPENBLAS_NUM_THREADS = 1
test test-unit test-notebooks test-browser test-browser-selftest test-slides notebooks html slides: export OMP_NUM_THREADS = 1
test test-unit test-notebooks test-browser test-browser-selftest test-slides notebooks html slides: export MKL_NUM_THREADS = 1

.PHONY: performed test-binder-env setup lab test test-unit test-notebooks test-browser test-browser-selftest test-slides chromium notebooks html slides data render-tools evalset bench lock clean check-python

PYTHON_VERSION = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
# The oldest Python nmfedu supports: the same bound as pyproject.toml's requires-python (checked by
# tests/test_wheel.py). 3.11 is the version CI, the lock file and Binder use.
PYTHON_MIN = 3.11
PYTHON_OK = $(shell $(PYTHON) -c 'import sys; print(int(sys.version_info[:2] >= tuple(map(int, "$(PYTHON_MIN)".split(".")))))' 2>/dev/null)

# $(error) prints exactly one line saying what is missing, and stops.
check-python:
	$(if $(shell command -v $(PYTHON) 2>/dev/null),,$(error nmfedu needs Python $(PYTHON_MIN) or newer, but '$(PYTHON)' was not found: install Python 3.11 or run make PYTHON=/path/to/python3))
	$(if $(filter 1,$(PYTHON_OK)),,$(error nmfedu needs Python $(PYTHON_MIN) or newer, but '$(PYTHON)' is Python $(PYTHON_VERSION): run make PYTHON=/path/to/python3.11))
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "nmfedu needs Python with venv and ensurepip (Debian/Ubuntu: apt-get install python3-venv)"; exit 1; }

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

# tests/test_site.py opens the static site in Debian's chromium; tests/test_data.py renders with fluidsynth
test-unit: setup render-tools chromium
	$(PY) -m pytest -q -rs tests nmfedu

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

# Binder's environment without Docker (slow, not part of make test; run it before every change
# to dependencies): a fresh venv outside the checkout with exactly binder/environment.yml's pip
# list, binder/postBuild run with it, nmfedu reinstalled non-editable from its wheel, and every
# notebook executed there on a fresh kernel (scripts/check_binder_env.py). Prints the install
# size and each notebook's peak kernel memory.
BINDER_VENV ?= $(or $(TMPDIR),/tmp)/nmfedu-binder-env
test-binder-env: export OPENBLAS_NUM_THREADS = 1
test-binder-env: export OMP_NUM_THREADS = 1
test-binder-env: export MKL_NUM_THREADS = 1
test-binder-env: setup
	rm -rf $(BINDER_VENV) && $(PYTHON) -m venv $(BINDER_VENV)
	$(BINDER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PY) scripts/check_binder_env.py requirements $(BINDER_VENV)/binder-requirements.txt
	$(BINDER_VENV)/bin/python -m pip install --quiet -r $(BINDER_VENV)/binder-requirements.txt
	PATH="$(abspath $(BINDER_VENV))/bin:$$PATH" bash binder/postBuild
	$(PY) scripts/check_binder_env.py wheel $(BINDER_VENV)/dist
	$(BINDER_VENV)/bin/python -m pip install --quiet --no-deps --force-reinstall $(BINDER_VENV)/dist/nmfedu-*.whl
	$(BINDER_VENV)/bin/python scripts/check_binder_env.py run $(BINDER_VENV) $(NB)

# reveal.js, MathJax 2, require.js and jQuery for the offline slide decks, from npm (versions
# pinned in scripts/slides/package-lock.json); Debian's npm is installed when missing.
SLIDES_VENDOR = build/slides-vendor
$(SLIDES_VENDOR)/.installed: scripts/slides/package.json scripts/slides/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null) ; \
	  else echo "make slides needs npm: run 'sudo apt-get install npm'"; exit 1; fi; }
	rm -rf $(SLIDES_VENDOR) && mkdir -p $(SLIDES_VENDOR)
	cp scripts/slides/package.json scripts/slides/package-lock.json $(SLIDES_VENDOR)/
	cd $(SLIDES_VENDOR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

slides: setup $(SLIDES_VENDOR)/.installed
	$(PY) scripts/build_slides.py --out build/slides --vendor $(SLIDES_VENDOR)/node_modules $(NB)

# Opens a deck from disk in Chromium with the network blocked, and presents a notebook live in
# JupyterLab with jupyterlab-rise (slides render, math typeset, a widget responds).
test-slides: slides chromium
	$(PY) tests/browser/run_slides_test.py

# FluidSynth and the FluidR3_GM soundfont: make data renders with them, and make test checks
# with them that make data reproduces data/ byte for byte (tests/test_data.py, never skipped).
render-tools:
	@command -v fluidsynth >/dev/null 2>&1 && test -f /usr/share/sounds/sf2/FluidR3_GM.sf2 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fluidsynth fluid-soundfont-gm >/dev/null) ; \
	  else echo "make data and make test need Debian's fluidsynth and fluid-soundfont-gm: run 'sudo apt-get install fluidsynth fluid-soundfont-gm'"; exit 1; fi; }

data: setup render-tools
	$(PY) scripts/make_data.py

# The evaluation set of the separation protocol (issue 13): rendered, not committed.
EVALSET_PACKAGES = fluidsynth fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont
evalset: setup
	@command -v fluidsynth >/dev/null 2>&1 && test -f /usr/share/sounds/sf2/FluidR3_GM.sf2 \
	  && test -f /usr/share/sounds/sf2/TimGM6mb.sf2 && test -f /usr/share/sounds/sf3/MuseScore_General.sf3 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(EVALSET_PACKAGES) >/dev/null) ; \
	  else echo "make evalset needs Debian's $(EVALSET_PACKAGES): run 'sudo apt-get install $(EVALSET_PACKAGES)'"; exit 1; fi; }
	@test -f build/evalset/catalog.json || $(PY) scripts/make_eval_set.py --out build/evalset

# Performed renditions of the bundled pieces (issue 14) into build/performed/, with Debian's
# TimGM6mb soundfont, which data/ does not use; benchmarks/bench_sync.py measures on them.
performed: setup
	@command -v fluidsynth >/dev/null 2>&1 && test -f /usr/share/sounds/sf2/TimGM6mb.sf2 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fluidsynth timgm6mb-soundfont >/dev/null) ; \
	  else echo "make performed needs Debian's fluidsynth and timgm6mb-soundfont: run 'sudo apt-get install fluidsynth timgm6mb-soundfont'"; exit 1; fi; }
	$(PY) scripts/make_performed.py --tile 60 300 600

# bench_applications.py renders a groove with a second GM kit (TimGM6mb) that data/ does not use.
bench: setup evalset
	@command -v fluidsynth >/dev/null 2>&1 && test -f /usr/share/sounds/sf2/FluidR3_GM.sf2 && test -f /usr/share/sounds/sf2/TimGM6mb.sf2 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fluidsynth fluid-soundfont-gm timgm6mb-soundfont >/dev/null) ; \
	  else echo "bench_applications.py needs fluidsynth, fluid-soundfont-gm and timgm6mb-soundfont: run 'sudo apt-get install fluidsynth fluid-soundfont-gm timgm6mb-soundfont' (it skips the unseen-kit case otherwise)"; fi; }
	$(PY) benchmarks/run_all.py

lock: check-python
	rm -rf build/lockenv && $(PYTHON) -m venv build/lockenv
	build/lockenv/bin/pip install --quiet --upgrade pip && build/lockenv/bin/pip install --quiet '.[dev]'
	build/lockenv/bin/pip freeze --all --exclude pip --exclude nmfedu | sort -f > build/lock.new
	@echo "review build/lock.new, then copy it over $(LOCK) (keep the header) and update environment.yml and binder/environment.yml"

clean:
	rm -rf build .pytest_cache
