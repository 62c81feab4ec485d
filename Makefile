# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= langchain,llama-index,server,dev

.PHONY: install test lint unit integration demo test-reliability bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-$(EXTRAS): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

install: $(VENV)/.installed-$(EXTRAS)

lint: install
	$(BIN)/ruff check conftest.py src tests integration_tests examples benchmarks
	$(BIN)/ruff format --check conftest.py src tests integration_tests examples benchmarks
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q tests

integration: install
	$(BIN)/pytest -q integration_tests -m "not reliability"

# Everything, the reliability tests (faults, cluster, 20 s soak: about a minute) included, so that
# .ci/run, which runs only `make test`, runs them too.
test: lint
	$(BIN)/pytest -q tests integration_tests

test-reliability: install
	$(BIN)/pytest -q integration_tests -m reliability

# The demo needs torch: install a CPU-only build first, or pip pulls a multi-GB CUDA build.
# torch==2.13.0 is found locally here; elsewhere use the PyTorch CPU index:
#   make demo TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu"
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
DEMO_ARGS ?=

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH_INDEX) '$(TORCH)'
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/python examples/support_bot.py $(DEMO_ARGS)

# Side by side with raw redis-py and the official integrations (benchmarks/RESULTS.md). Creates
# benchmarks/.venvs on first use (needs the package registry); BENCH_ARGS=--quick: a smoke test.
BENCH_ARGS ?=
bench:
	$(PYTHON) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
