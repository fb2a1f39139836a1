# The README's two commands: `make lab` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The Binder pins constrain the venv, so tests run on exactly what a learner on Binder gets,
# today and after PyPI publishes newer releases. `make pins` moves them forward on purpose.
PINS := binder/requirements.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(PINS) | cksum | cut -d' ' -f1)

.PHONY: venv lab test test-under-load bench bench-lite fuzz lint e2e lite e2e-lite exercises pins \
	clean crosscheck-deep

$(STAMP): pyproject.toml $(PINS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(PINS) -e ".[test,bench]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

# As root it passes --allow-root (and says so), with no display it opens no browser; it prints
# the URL to open. LAB_PORT=9000 make lab picks the port (default: the first free from 8888).
lab: $(STAMP)
	@$(PY) tools/lab.py

# pytest-xdist, PYTEST_WORKERS processes (PYTEST_WORKERS=0: one process): the tests go out in
# groups, longest first (tests/conftest.py: each browser suite in two groups, each starting its
# suite's server and Chromium once in the worker that takes it; then module by module). The
# summary's worker timeline shows where the time went. Workers were once off by
# default because on a loaded machine the Lab's figures could stay empty (anywidget gives a model
# 2 s to import and initialise its front end); kafkalab/widgets/live_figure.py now imports plotly's
# bundle outside that window (tests/browser/test_slow_page.py), so three is the default.
PYTEST_WORKERS ?= 3
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder)
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest $(PYTEST_PARALLEL)

# The whole suite on a machine that is not idle: for the whole session one more process spins on a
# core (`while True: pass`), started and stopped by the run itself (tests/conftest.py), bounded by
# HOG_SECONDS so it can never outlive a stuck run by much. No test may depend on an idle machine.
HOG_SECONDS ?= 3600
test-under-load: $(STAMP)
	$(PY) -m ruff check .
	KAFKALAB_CPU_HOG=$(HOG_SECONDS) $(PY) -m pytest $(PYTEST_PARALLEL)

# Only the browser tests (JupyterLab in headless Chromium); needs /usr/bin/chromium.
e2e: $(STAMP)
	$(PY) -m pytest tests/browser

# The JupyterLite site (Pyodide kernel, no server, nothing fetched from outside the site) in build/lite/.
lite: $(STAMP)
	$(PY) lite/build.py

# Only the JupyterLite tests: serve build/lite/ on loopback, run every notebook in headless Chromium.
e2e-lite: $(STAMP) lite
	$(PY) -m pytest tests/lite

# Regenerate exercises/ from solutions/ (cells tagged "solution" become stubs).
exercises: $(STAMP)
	$(PY) tools/make_exercises.py

# Upgrade the runtime to the newest releases binder/holds.txt allows (each hold says why) and
# rewrite the Binder pins from it; review the diff and run `make test` before committing.
pins: $(STAMP)
	$(PY) -m pip install --quiet --upgrade --upgrade-strategy eager -c binder/holds.txt -e ".[test,bench]"
	$(PY) tests/test_binder.py --write

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) -m benchmarks

# The model's property tests at 2,000 examples each (CI runs a few dozen): the taught
# guarantees with 1-3 consumers, conservation, termination, the fault-plan JSON fuzz. A failing
# property leaves its minimal counterexample in build/fuzz/<property>.json.
fuzz: $(STAMP)
	mkdir -p build/fuzz
	KAFKALAB_FUZZ_EXAMPLES=2000 KAFKALAB_FUZZ_OUT=build/fuzz $(PY) -m pytest -p no:cacheprovider \
		tests/model/test_properties.py tests/model/test_conservation.py \
		tests/model/test_fault_plan_fuzz.py tests/model/test_termination.py \
		tests/model/test_random_broker_faults.py

# The browser kernel: notebook 00's first figure after the page opens, and the Lab's control change
# and step in Pyodide (headless Chromium, the JupyterLite site); writes build/bench-lite.json, which
# `make bench` then shows too. Needs /usr/bin/chromium.
bench-lite: $(STAMP) lite
	$(PY) -m benchmarks.lite

# The randomised differential test at depth: 200 seeded random workloads, each run in the
# simulation and with real librdkafka clients, compared message by message; failures are shrunk
# and printed as reproductions. Report in build/crosscheck.json (CROSSCHECK_SEED picks the seed).
# Then every registered workload and the deeper ones (replication: produce errors and leader
# moves with acks=1/all, idempotence on/off) in build/crosscheck-deep.json, 40 seeded random
# replication workloads in build/crosscheck-replication.json, and the full consumer-group
# matrix (kafkalab.crosscheck_groups; the CI runs its `ci` subset) in build/crosscheck-groups.json.
CROSSCHECK_SEED ?= 1
crosscheck-deep: $(STAMP)
	$(PY) -m kafkalab.crosscheck --random 200 --seed $(CROSSCHECK_SEED) --out build/crosscheck.json
	$(PY) -m kafkalab.crosscheck --deep --out build/crosscheck-deep.json
	$(PY) -m kafkalab.crosscheck --random 40 --replication --seed $(CROSSCHECK_SEED) \
		--out build/crosscheck-replication.json
	# every consumer-group workload (subscribe() members; seconds per rebalance on the mock)
	$(PY) -m kafkalab.crosscheck_groups --out build/crosscheck-groups.json

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
