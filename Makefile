# Isthmus: the front door. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= python3 -m uv
RUN := $(UV) run --locked
PYTEST := $(RUN) pytest

.PHONY: help setup lint format test test-unit test-integration test-e2e test-faults soak run up down topics schemas-check clean bench bench-runtime bench-transformer bench-connectors bench-ingress bench-sinks bench-latency

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

setup: ## Install uv, sync the locked workspace, fetch the Kafka jars with mvn
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet 'uv>=0.13,<0.14'
	@$(UV) sync --locked --quiet
	@$(RUN) isthmus-dev setup

lint: setup ## ruff lint + format check, mypy strict
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs services tests

format: setup ## Apply ruff fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

test: lint schemas-check ## Lint, schema compatibility, then every test tier with the summary line
	$(PYTEST)

test-unit: setup ## Only the pure unit tests
	$(PYTEST) tests/unit

test-integration: setup ## Only the integration tests (real broker)
	$(PYTEST) tests/integration

test-e2e: setup ## End to end: every service a process, orders through the whole chain, figures printed
	$(PYTEST) tests/e2e -m e2e -s

test-faults: setup ## The whole fault matrix under load (longer windows); table printed and written to docs/reliability.md
	ISTHMUS_FAULTS=full ISTHMUS_FAULTS_REPORT=docs/reliability.md $(PYTEST) tests/faults -m faults

soak: setup ## One hour of demo traffic through the whole system, every process's RSS each minute: steady RSS and growth vs targets; ARGS="--minutes 3 --interval-s 20" etc.
	$(RUN) python tests/bench/soak/soak.py $(ARGS)

run: setup ## The whole system locally with demo orders flowing; Ctrl-C stops it
	$(RUN) isthmus-dev run

up: setup ## Start the local broker and provision topics in the background
	$(RUN) isthmus-dev kafka up
	$(RUN) isthmus-dev topics apply --replication-factor 1

down: ## Stop the local broker (data stays in .local/)
	-$(RUN) isthmus-dev kafka down

topics: setup ## Show drift between deploy/topics.yaml and the local broker
	$(RUN) isthmus-dev topics diff --replication-factor 1

schemas-check: setup ## Fail on BACKWARD-incompatible schemas/ changes since main's previous commit
	$(RUN) python -m isthmus.schemas.compat

bench: bench-runtime bench-transformer bench-connectors bench-ingress bench-sinks bench-latency ## Every benchmark, each with its same-run baseline; figures in docs/benchmarks.md

bench-runtime: setup ## Runtime throughput beside bare confluent-kafka (B1, B1s), own broker
	$(RUN) python libs/kafka-runtime/bench/run_bench.py

bench-connectors: setup ## Connectors: Dataverse upserts one-by-one vs batched, and under throttling
	$(RUN) python tests/bench/connectors/bench_connectors.py

bench-sinks: setup ## Sinks: commands/s single vs batched+concurrent, 2 replicas vs 1, 20 ms latency
	$(RUN) python libs/sink-runtime/bench/bench_sinks.py

bench-latency: setup ## Open-loop latency per hop at 25/50/80 % of capacity, every service a process, bare Kafka beside it; ARGS="--quick"
	$(RUN) python tests/bench/latency/bench_latency.py $(ARGS)

clean: down ## Remove .local/ (broker data, jars, logs)
	rm -rf .local

bench-ingress: setup ## Ingress: webhooks/s accepted with Kafka acks vs a bare 204 ASGI endpoint, same run
	$(RUN) python services/ingress/bench/bench_ingress.py

bench-transformer: setup ## Transformer (sales-order flow, exactly-once) vs B1s and a Faust agent (both guarantees), own broker; ARGS="--profile 30" etc.
	$(RUN) python services/transformer/bench/run.py $(ARGS)
