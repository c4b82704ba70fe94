# The README's two commands: `make demo` (audit the bundled leaky example) and `make test`.
# Both create .venv and install patchkit with its test extra on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The compat suite measures this many libraries at once per profile (pytest-xdist): see
# docs/compat-matrix.md, "How parallel runs are checked". COMPAT_WORKERS=1 measures serially.
COMPAT_WORKERS ?= 4

.PHONY: demo test unit compat lint docs docs-check matrix bench clean

$(VENV)/.installed: setup.cfg setup.py pyproject.toml tools/native_clients.txt patchkit/detect/_switchtimer.c
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
		|| { echo "patchkit needs Python 3.10 or newer (set PYTHON=...)" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,docs]'
	@# Optional native clients, built against system libraries (tools/ci_services.sh installs
	@# them): each one that does not install only makes its tests skip.
	@$(PY) tools/native_clients.py
	@touch $@

demo: $(VENV)/.installed
	@# Exit status 1 means "findings": expected for the leaky example.
	$(PY) -m patchkit audit examples/leaky_app.py || [ $$? -eq 1 ]

test: lint unit compat

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

unit: $(VENV)/.installed
	$(PY) -m pytest tests

compat: $(VENV)/.installed
	@# Unpatched pytest with xdist workers: each probe applies the profile itself (tools/matrix.py).
	PATCHKIT_COMPAT_PROFILE=full $(PY) -m pytest compat_tests -n $(COMPAT_WORKERS)
	PATCHKIT_COMPAT_PROFILE=none $(PY) -m pytest compat_tests -n $(COMPAT_WORKERS)

docs: $(VENV)/.installed
	$(PY) -m mkdocs build --strict

# The built site in headless chromium at 390, 1400 and 1920 px: no sideways scrolling, the
# matrix's sticky header and library column, cells that open on click; screenshots in
# build/docs-shots/. Needs chromium (apt-get install chromium; tools/ci_services.sh tries).
docs-check: $(VENV)/.installed
	$(PY) tools/docs_check.py --shots build/docs-shots

# Every Python 3.10-3.13 found x two gevent releases, each in build/matrix-venvs/ (reused while
# setup.cfg is unchanged); one progress line per profile. PYTHONS=3.12,3.13 GEVENTS=26.9.0 narrow it.
matrix: $(VENV)/.installed
	$(PY) tools/matrix.py $(if $(PYTHONS),--pythons $(PYTHONS)) $(if $(GEVENTS),--gevents $(GEVENTS))

bench: $(VENV)/.installed
	$(PY) tools/bench/apply.py
	$(PY) tools/bench/scan.py
	$(PY) tools/bench/watch.py
	$(PY) tools/bench/audit.py

clean:
	rm -rf $(VENV) build site .tox *.egg-info
