# Everything sets itself up: the first target that needs the virtual environment creates it.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHARE ?= .local/share

.PHONY: install system-deps demo test lint serve tiny-model bench stop clean

$(STAMP): requirements.txt devtools/requirements.txt inference_container/requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r devtools/requirements.txt
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash devtools/scripts/install-system-deps.sh

demo: install
	$(PY) -m devtools.demo

test: install system-deps lint
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy .

serve: install
	$(PY) -m devtools.devhost --app-dir . --port 7071 --state-dir .devhost

tiny-model: install
	$(PY) -m devtools.tiny_model --share $(SHARE)

bench: install
	$(PY) -m devtools.benchmarks

stop: install
	$(PY) -m targets.local stop

clean: stop
	rm -rf .local .devhost
