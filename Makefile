# Young carer consultation platform — the two commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python ≥ 3.11 for the gateway: PY311 overrides the search.
PY311 ?= $(shell for p in python3.13 python3.12 python3.11 $(HOME)/.pyenv/versions/3.1[1-3].*/bin/python3.1[1-3] python3; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; \
	done)
VENV := .venv
GW := $(VENV)/bin

include mk/bot.mk

.PHONY: help run run-prod test test-gateway test-e2e lint migrate bench install clean safety-eval

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/gateway.lock pyproject.toml
	@test -n "$(PY311)" || { echo "Python 3.11 or newer is needed for the gateway (set PY311=/path/to/python3.11)"; exit 1; }
	@test -x $(GW)/python || $(PY311) -m venv $(VENV)
	$(GW)/pip install -q --upgrade pip
	$(GW)/pip install -q -r requirements/gateway.lock
	$(GW)/pip install -q --no-deps -e .
	@touch $@

install: $(VENV)/.installed $(BOT_VENV)/.installed ## create both virtual environments from the lock files

migrate: $(VENV)/.installed ## bring the database schema up to date
	$(GW)/ycc migrate

run: install $(MODEL) ## install what is missing, train if bot data changed, migrate, start everything
	$(GW)/ycc migrate
	$(GW)/python -m handoff.run_all

run-prod: install $(MODEL) ## like run, with two web processes, a worker, PostgreSQL and Redis (as deploy/ runs it)
	$(GW)/python -m handoff.run_all --prod

lint: $(VENV)/.installed ## ruff over all Python (the bot and its actions as py310), then the import contracts
	$(GW)/ruff check handoff console actions bot tests bench
	$(GW)/lint-imports --no-cache --no-logo

# Two pytest workers, one test file each at a time (--dist loadfile): the suites mostly wait on the servers they
# start, so two files at once halve the wall time on 2 cores (31 -> 15 min measured). Every test has its own
# database, ports and temp dir; the few that share a session gateway tolerate what other files left in it.
# PYTEST_WORKERS=0 runs them in one process.
PYTEST_WORKERS ?= 2
test-gateway: $(VENV)/.installed ## gateway, console and deploy/ tests (SQLite and PostgreSQL, real browser, nginx)
	$(GW)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile tests/handoff tests/console tests/deploy

test-e2e: install $(MODEL) ## the running stack: gateway + trained Rasa + action server
	$(GW)/python -m pytest -q tests/e2e

test: lint test-gateway test-bot test-e2e ## everything CI runs
	@echo "all test suites passed"

SAFETY_SETS ?= $(sort $(wildcard tests/safety/data/dev*.yml))
safety-eval: $(VENV)/.installed ## safety screen recall/false alarms per level and category on the dev set (SAFETY_SETS adds more)
	$(GW)/python -m tests.safety.evaluate $(SAFETY_SETS)

bench: $(VENV)/.installed ## print pipeline figures (webhook ack latency, throughput, overhead vs bare Rasa)
	$(GW)/python -m bench.bench_pipeline

clean: ## remove the virtual environments, models and local data
	rm -rf $(VENV) $(BOT_VENV) models var results
