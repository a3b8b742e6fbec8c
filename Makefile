# Two commands for a fresh machine: `make run` (the app with demo data at http://localhost:8501)
# and `make test` (the whole test suite). Both set up everything they need first.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run test venv chromium demo worker bench clean cluster

$(STAMP): requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium drives the browser tests (Playwright cannot download a browser here).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

demo: venv
	$(PY) -m core migrate up
	$(PY) -m core demo --if-empty

run: demo
	@mkdir -p .data
	@echo "worker log: .data/worker.log; simulator log: .data/simulator.log"
	@trap 'kill 0' EXIT INT TERM; \
	$(PY) -m core worker > .data/worker.log 2>&1 & \
	if $(PY) -m core --help | grep -q simulate; then $(PY) -m core simulate > .data/simulator.log 2>&1 & fi; \
	$(VENV)/bin/streamlit run app.py --server.port 8501

test: venv chromium
	$(PY) -m pytest

bench: venv
	$(PY) -m core bench

# A local Citus cluster (coordinator and two workers on ports 9700-9702; docs/scale-out.md).
cluster: venv
	$(PY) -m core cluster up

clean:
	rm -rf .data test-output .pytest_cache
