# The README's two commands: `make demo` (audit the bundled leaky example) and `make test`.
# Both create .venv and install patchkit with its test extra on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# mysqlclient needs libmariadb-dev and pkg-config, pylibmc libmemcached-dev, pyodbc unixodbc.
NATIVE_CLIENTS := mysqlclient pylibmc pyodbc

.PHONY: demo test unit compat lint docs docs-check matrix bench clean

$(VENV)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
		|| { echo "patchkit needs Python 3.10 or newer (set PYTHON=...)" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,docs]'
	@# Optional native clients, built against system libraries (tools/ci_services.sh installs
	@# them): each one that does not install only makes its tests skip.
	@for pkg in $(NATIVE_CLIENTS); do \
		$(PY) -m pip install -q $$pkg >/dev/null 2>&1 \
			|| echo "note: $$pkg not installed (missing system library?); its tests will skip"; \
	done
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
	$(PY) -m patchkit run --profile full -m pytest compat_tests
	$(PY) -m patchkit run --profile none -m pytest compat_tests

docs: $(VENV)/.installed
	$(PY) -m mkdocs build --strict

# The built site in headless chromium at 390, 1400 and 1920 px: no sideways scrolling, the
# matrix's sticky header and library column, cells that open on click; screenshots in
# build/docs-shots/. Needs chromium (apt-get install chromium; tools/ci_services.sh tries).
docs-check: $(VENV)/.installed
	$(PY) tools/docs_check.py --shots build/docs-shots

matrix: $(VENV)/.installed
	$(PY) tools/matrix.py

bench: $(VENV)/.installed
	$(PY) tools/bench/apply.py
	$(PY) tools/bench/scan.py
	$(PY) tools/bench/watch.py
	$(PY) tools/bench/audit.py

clean:
	rm -rf $(VENV) build site .tox *.egg-info
