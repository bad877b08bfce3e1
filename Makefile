# Everyday commands. `make run` and `make test` work on a fresh clone: they create .venv, install the locks,
# write local secrets to var/dev.env once, and migrate. `make run` installs only what serving needs
# (requirements/runtime.lock); `make test`, `lint`, `typecheck`, `bench` and `e2e` add requirements/dev.lock.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Locks are installed with uv (pinned; installed into the venv by pip first): about ten times faster than pip here.
UV_VERSION := 0.13.8
INSTALL := $(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: run test lint typecheck check ci bench e2e setup setup-dev lock clean-venv deploy-check

setup: $(RUNTIME) var/dev.env

setup-dev: setup $(DEV)

$(RUNTIME): requirements/runtime.lock
	@test -x $(PY) || { PYBIN=$$(scripts/find-python.sh) && echo "Creating .venv with $$PYBIN" && $$PYBIN -m venv $(VENV); }
	@$(VENV)/bin/uv --version 2>/dev/null | grep -qF "uv $(UV_VERSION)" || \
	  $(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(INSTALL) -r requirements/runtime.lock
	@touch $@

$(DEV): $(RUNTIME) requirements/dev.lock
	$(INSTALL) -r requirements/dev.lock
	@touch $@

var/dev.env: | $(RUNTIME)
	$(PY) scripts/dev_env.py var/dev.env

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py bootstrap_demo
	PY=$(PY) scripts/serve.sh

test: setup-dev
	scripts/install-test-deps.sh
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup-dev
	$(VENV)/bin/mypy .

ci:
	bash .ci/run

bench: setup-dev
	$(PY) bench/api_bench.py
	$(PY) bench/engine_bench.py
	$(PY) bench/llm_bench.py
	$(PY) bench/web_bench.py

e2e: setup-dev
	scripts/install-test-deps.sh
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) -m pytest -m e2e tests/e2e

lock:
	scripts/lock.sh

# Lints the Dockerfile, validates compose.yaml and the rendered Kubernetes manifests (no container runtime needed).
deploy-check: setup-dev
	VENV=$(VENV) scripts/check-deploy.sh
