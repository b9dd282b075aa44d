PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench samples install-check clean

# An editable install for working on Hydra. Its import hook costs each start a few ms:
# start-up is measured on a regular install (tests/bench, .ci/install-check).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hydra sample_snapshots/default.hsnap

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python tests/bench/capture_bench.py $(BENCH_ARGS)

install-check:
	.ci/install-check

samples: $(STAMP)
	$(BIN)/python sample_snapshots/regenerate.py

clean:
	rm -rf $(VENV) build *.egg-info
