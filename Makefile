# Everything a fresh machine needs: `make run` (the built-in example) and `make test`.
PYTHON ?= python3
VENV ?= .venv
SHARED ?= ../shared
export PANGOLIN_WEIGHTS ?= $(abspath $(SHARED))/weights/pangolin-v2
BIN := $(VENV)/bin

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,slurm,serve,remote,triton]'
	touch $@

.PHONY: install run test test-fast bench docs
install: $(BIN)/.installed

run: $(BIN)/.installed  ## precompute the built-in example (GRCh38 chr22 region) into example.zarr
	$(BIN)/pangolin-pipeline run --config conf/example.yaml
	@echo "next: source $(BIN)/activate, then the README's commands (pangolin-pipeline query example.zarr SLC5A1 ...)"

test: $(BIN)/.installed  ## the test suite (real weights and data from ../shared)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: $(BIN)/.installed  ## for development: skips tests marked slow, slurm or gpu
	$(BIN)/python -m pytest -q -m "not slow and not slurm and not gpu" $(PYTEST_ARGS)

bench: $(BIN)/.installed  ## engine benchmark: reference vs fast, float32 and bfloat16
	$(BIN)/pangolin-pipeline bench engine

docs: $(BIN)/.installed  ## the documentation site (docs/ -> site/); broken links and references fail it
	$(BIN)/pip install --quiet -e '.[docs]'
	$(BIN)/mkdocs build --strict --quiet
