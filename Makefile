# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing and installs what it needs; nothing else is required.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench models clean

# The llm extra builds llama-cpp-python from source: minutes the first time, then pip's wheel cache.
# editable_mode=compat puts the checkout on sys.path with a .pth line: setuptools' default editable
# finder is imported by every Python start and cost each `mm` about 20 ms before mindmem loaded.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "mindmem needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat -e '.[dev,mcp,llm]'
	@touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/load.py

# Real GGUF models for the opt-in model tests and benchmarks (never needed by mindmem itself):
# Qwen2.5-Coder 0.5B and 1.5B Instruct, about 1.5 GB, into ~/.cache/mindmem/models (or $$MM_MODEL_CACHE).
models: $(STAMP)
	$(BIN)/python benchmarks/models.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
