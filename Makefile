# Everything sets itself up: the first target that needs the virtual environment creates it.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHARE ?= .local/share
PORT ?= 7071
STATE_DIR ?= .devhost

.PHONY: install system-deps demo demo-azure test test-fast lint serve tiny-model bench bench-redeploy stop clean

$(STAMP): requirements.txt devtools/requirements.txt inference_container/requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r devtools/requirements.txt
	$(PY) -m pip install --quiet --quiet --no-deps -e .  # the ftdeploy command (pyproject.toml)
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash devtools/scripts/install-system-deps.sh

demo: install
	$(PY) -m devtools.demo

# The same flow on the azure target, against the simulators (tests/simulators), with a table of requests.
demo-azure: install
	$(PY) -m devtools.demo_azure

test: install system-deps lint
	$(PY) -m pytest

# Unit tests only: no server or host process (tests/conftest.py fails a fast test that starts one).
test-fast: install
	$(PY) -m pytest -m "not slow"

lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy .

# The function key: FUNCTION_KEY from the environment, else a new one, printed once here (never logged).
serve: install
	@key="$${FUNCTION_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(24))')}"; \
	[ -n "$${FUNCTION_KEY:-}" ] || echo "function key for this host (header x-functions-key, or ?code=): $$key"; \
	DEVHOST_FUNCTION_KEY="$$key" exec $(PY) -m devtools.devhost --app-dir . --port $(PORT) --state-dir $(STATE_DIR)

tiny-model: install
	$(PY) -m devtools.tiny_model --share $(SHARE)

bench: install
	$(PY) -m devtools.benchmarks

bench-redeploy: install
	$(PY) -m devtools.bench_redeploy

stop: install
	$(PY) -m targets.local stop

clean: stop
	rm -rf .local .devhost
