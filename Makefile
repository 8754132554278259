# Gut Check: every set-up step lives here so a fresh clone needs only `make run` or `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
RUNTIME_DEBS := libharfbuzz-subset0
TEST_DEBS := chromium poppler-utils libatomic1 nginx
BENCH_DEBS := wrk
STAMP := $(VENV)/.installed
# LHC-Forms (NLM's FHIR form renderer, from the npm registry) for tests/browser/test_lforms.py: the
# package's built files only (npm pack, no dependencies to resolve), served to Chromium by the test.
LFORMS_VERSION := 40.1.3
LFORMS_DIR := build/lforms-$(LFORMS_VERSION)

.PHONY: run test check bench load prod-check lint clean deps-runtime deps-test screenshots upgrade

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml or constraints.txt changes, so a second run is fast. The
# constraints pin every package to the version the tests passed with; a dependency not listed there
# yet is installed at its newest allowed version, and a pin that pyproject.toml no longer allows
# stops the install with a pointer to `make upgrade`.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	@$(PY) -m pip install --quiet -c constraints.txt -e '.[test,dev]' || { \
	  echo "pip could not install with constraints.txt; if pyproject.toml changed a bound, run: make upgrade"; \
	  exit 1; }
	touch $@

# Resolve pyproject.toml afresh in a scratch environment (so nothing stale is kept), write the
# result to constraints.txt, then install it here. Run the tests afterwards before committing it.
UPGRADE_VENV := .venv-upgrade
CONSTRAINTS_HEADER1 := \# Exact versions the tests passed with: make installs these; make upgrade refreshes them.
CONSTRAINTS_HEADER2 := \# Written by pip freeze --exclude-editable. A package missing here is installed unpinned.
upgrade: | $(PY)
	rm -rf $(UPGRADE_VENV)
	python3 -m venv $(UPGRADE_VENV)
	$(UPGRADE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(UPGRADE_VENV)/bin/python -m pip install --quiet -e '.[test,dev]'
	{ echo "$(CONSTRAINTS_HEADER1)"; echo "$(CONSTRAINTS_HEADER2)"; \
	  $(UPGRADE_VENV)/bin/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf $(UPGRADE_VENV)
	$(MAKE) $(STAMP)

# Install Debian packages that are missing; as a non-root user, print the one command to run instead.
define ensure_debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages. Please run: sudo apt-get install$$missing"; \
	  fi; \
	fi
endef

deps-runtime: $(STAMP)
	$(call ensure_debs,$(RUNTIME_DEBS))

deps-test: deps-runtime $(LFORMS_DIR)/package.json
	$(call ensure_debs,$(TEST_DEBS))

# npm comes with Node.js (Debian's `nodejs npm`, or a Node.js build that bundles npm): install the
# Debian packages only when there is no npm at all, so a bundled one is never replaced.
$(LFORMS_DIR)/package.json:
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages: nodejs npm"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
	  else \
	    echo "npm is missing. Please run: sudo apt-get install nodejs npm"; exit 1; \
	  fi; }
	rm -rf $(LFORMS_DIR).part && mkdir -p $(LFORMS_DIR).part
	cd $(LFORMS_DIR).part && npm pack --silent lforms@$(LFORMS_VERSION) >/dev/null \
	  && tar xzf lforms-$(LFORMS_VERSION).tgz --strip-components=1 && rm lforms-$(LFORMS_VERSION).tgz
	rm -rf $(LFORMS_DIR) && mv $(LFORMS_DIR).part $(LFORMS_DIR)

run: deps-runtime
	@if [ -z "$$SECRET_KEY" ] && [ -z "$$GUTCHECK_SECRET_KEY" ]; then \
	  echo "No SECRET_KEY set: generated one for this run (sessions end when the server stops)."; \
	  export GUTCHECK_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_hex(32))'); \
	fi; \
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT) wsgi:app

test: deps-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy assessment
	$(VENV)/bin/pytest -n 2 -q

check: deps-runtime
	$(VENV)/bin/flask --app wsgi check

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy assessment

bench: deps-test
	$(call ensure_debs,$(BENCH_DEBS))
	$(PY) -m bench

# The shipped production set-up (deploy/: nginx in front of gunicorn) under load, hostile traffic and a fault.
load: deps-test
	$(call ensure_debs,$(BENCH_DEBS))
	$(PY) -m bench.load

# The same set-up's checks alone (also part of `make test`): gunicorn.conf.py, deploy/ with nginx.
prod-check: deps-test
	$(VENV)/bin/pytest -q tests/test_deploy.py

clean:
	rm -rf $(VENV) $(UPGRADE_VENV) .pytest_cache .mypy_cache .ruff_cache

screenshots: deps-test
	$(PY) -m docs.screenshots
