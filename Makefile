PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench samples clean

# editable_mode=compat: the working tree as a plain path entry; the default editable
# mode installs an import hook that costs every start of hydra about 9 ms
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hydra sample_snapshots/default.hsnap

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python tests/bench/capture_bench.py $(BENCH_ARGS)

samples: $(STAMP)
	$(BIN)/python sample_snapshots/regenerate.py

clean:
	rm -rf $(VENV) build *.egg-info
