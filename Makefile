# FinOps Pack. `make demo` runs the product on a local emulated AWS; `make test` installs
# everything and runs the whole suite (CI runs exactly that).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: demo test serve worker lint bench bench-report bench-org load system-deps vendor-htmx clean

$(PY):
	$(PYTHON) -m venv $(VENV)

demo: $(PY)
	$(PIP) -e '.[demo]'
	$(VENV)/bin/finops-pack demo

# Two test processes (pytest-xdist): each has its own Redis, local AWS and temporary files.
PYTEST_WORKERS ?= 2

test: system-deps $(PY)
	$(PIP) -e '.[test]'
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

serve: $(PY)
	$(PIP) -e .
	$(VENV)/bin/finops-pack serve

worker: $(PY)
	$(VENV)/bin/finops-pack worker --store

lint: $(PY)
	$(PIP) -e '.[dev]'
	$(VENV)/bin/ruff check finops jobs tests bench app.py

bench: $(PY)
	$(PIP) -e '.[test]'
	$(PY) bench/run.py

# How long a report of 200 and of 2,000 findings takes to serve (first view and next views).
bench-report: $(PY)
	$(PIP) -e '.[test]'
	$(PY) bench/report.py

# An organization of 50 replayed accounts at 100 ms per call: 1 scan worker, then 4.
bench-org: $(PY) system-deps
	$(PIP) -e '.[test]'
	$(PY) bench/org.py

# The production shape under load: gunicorn x4, 2 workers, real Redis, 5 reviews, 50 readers.
load: $(PY) system-deps
	$(PIP) -e '.[test,prod]'
	$(PY) bench/load.py

# Debian packages the tests use: a real Redis server and Chromium for the browser tests.
system-deps:
	@if [ -x /usr/bin/redis-server ] && [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server chromium >/dev/null; \
	else \
	  echo "The tests need Debian's redis-server and chromium: sudo apt-get install redis-server chromium"; exit 1; \
	fi

# htmx is vendored from the npm package (never a CDN). Bump the version here and commit the file.
HTMX_VERSION ?= 2.0.11
vendor-htmx:
	cd /tmp && npm pack htmx.org@$(HTMX_VERSION) >/dev/null && tar xzf htmx.org-$(HTMX_VERSION).tgz
	cp /tmp/package/dist/htmx.min.js static/vendor/htmx.min.js

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
