# The one entry point. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv/bin
# The e2e tier's two lanes (tests/e2e/conftest.py), one xdist worker each, side by side.
E2E_FLAGS := -n 2 --dist loadgroup

.PHONY: help bootstrap up down status drill test test-unit test-rules test-e2e test-compose lint typecheck bench clean

help: ## Show this help.
	@grep -hE '^[a-z][a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

bootstrap: ## Install Debian packages (when root) and the Python venv in .venv.
	@./scripts/bootstrap.sh

up: bootstrap ## Start the native stack on 127.0.0.1 and print its URLs.
	$(VENV)/python -m stack up

down: ## Stop every process the native stack started.
	$(VENV)/python -m stack down

status: ## Show the health of every component of the running stack.
	$(VENV)/python -m stack status

drill: bootstrap ## Run every alert drill against a time-compressed native stack.
	$(VENV)/python -m stack drill --all

test: bootstrap lint typecheck ## Run the whole test suite (installs what it needs first).
	$(VENV)/pytest -m "not e2e and not compose"
	$(VENV)/pytest -m e2e $(E2E_FLAGS)
	./scripts/test-compose.sh

test-unit: bootstrap ## Run the tests that need no external binary.
	$(VENV)/pytest -m "not e2e and not compose and not rules"

test-rules: bootstrap ## Run promtool / amtool checks of the alert rules and routing.
	$(VENV)/pytest -m rules

test-e2e: bootstrap ## Run the end-to-end drills against the native stack.
	$(VENV)/pytest -m e2e $(E2E_FLAGS)

test-compose: bootstrap ## Run the compose bundle live: a Docker engine, its images, every drill against it.
	./scripts/test-compose.sh

lint: bootstrap ## Lint with ruff.
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck: bootstrap ## Type-check with mypy.
	$(VENV)/mypy

bench: bootstrap ## Run the benchmarks and print their figures.
	$(VENV)/python -m benchmarks.backend

clean: ## Remove what the engine built (images, volumes, its data), .tools and .venv.
	-./scripts/standin-images.sh clean
	./scripts/docker-engine.sh purge
	rm -rf .tools .venv .stack
