# Two commands set everything up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := python3 -m uv
LAKE ?= $(CURDIR)/lake
DEMO_VEHICLES ?= 40
# from the 1st of last month to yesterday (at most 35 days): one complete assessed month, its
# bulletin's rectification items, and the current month so far
DEMO_START ?= $(shell date -d "$$(date +%Y-%m-01) -1 month" +%F)
DEMO_DAYS ?= $(shell s=$$(( ($$(date +%s) - $$(date -d $(DEMO_START) +%s)) / 86400 )); [ $$s -gt 35 ] && s=35; echo $$s)
DAGSTER_PORT ?= 3000
SUPERSET_PORT ?= 8088
DATA_DOCS_PORT ?= 8089
# the GX Data Docs as served by `make demo`: the Dagster checks' links point there
DATA_DOCS_URL := http://127.0.0.1:$(DATA_DOCS_PORT)
BENCH_SIZES ?= 1M,10M,30M
BENCH_WORK ?= $(CURDIR)/.bench
BENCH_ARGS ?=
STATE := $(CURDIR)/.state
export LAKEHOUSE_LAKE := $(LAKE)
export SUPERSET_PORT
export DATA_DOCS_PORT

.PHONY: help install system-packages test lint bench demo timings stop clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

system-packages: ## Debian packages: Chromium and a CJK font (browser tests), Java 17 (JVM Spark)
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi wenquanyi \
	    || ! command -v java >/dev/null; then \
	  echo "installing chromium, fonts-wqy-microhei and a Java 17 runtime (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-wqy-microhei curl openjdk-17-jre-headless >/dev/null; \
	fi

# bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on CI) every process
# would otherwise recompile every module it imports (≈ 2 s per `lakehouse` start, 3× slower)
.venv/.installed: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install -q uv
	$(UV) sync --frozen --compile-bytecode
	@touch $@

.venv-superset/.installed: infra/superset/requirements.txt
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install -q uv
	$(UV) venv -q --allow-existing --python 3.11 .venv-superset
	$(UV) pip install -q --compile-bytecode --python .venv-superset/bin/python \
	  -r infra/superset/requirements.txt
	@touch $@

install: system-packages .venv/.installed .venv-superset/.installed ## both environments and system packages

test: install ## install everything, lint, and run every test (unit, dbt, end-to-end, notebook, browser)
	$(UV) run --frozen ruff check . && $(UV) run --frozen ruff format --check .
	$(UV) run --frozen pytest -q

bench: .venv/.installed ## benchmark: stages at BENCH_SIZES points, ratios to JVM Spark / DuckDB / raw scan, end to end
	$(UV) run --frozen lakehouse bench --sizes $(BENCH_SIZES) --work $(BENCH_WORK) $(BENCH_ARGS)

lint: .venv/.installed ## ruff check and format check
	$(UV) run --frozen ruff check . && $(UV) run --frozen ruff format --check .

demo: install ## sample lake, whole pipeline, Dagster UI, Superset and the GX Data Docs on 127.0.0.1
	@mkdir -p $(STATE)
	$(UV) run --frozen lakehouse keys init
	@if [ ! -d "$(LAKE)/landing" ]; then \
	  $(UV) run --frozen lakehouse generate --lake "$(LAKE)" --vehicles $(DEMO_VEHICLES) \
	    --start $(DEMO_START) --days $(DEMO_DAYS); \
	fi
	LAKEHOUSE_DATA_DOCS_URL=$(DATA_DOCS_URL) $(UV) run --frozen lakehouse run --lake "$(LAKE)"
	$(UV) run --frozen lakehouse status --lake "$(LAKE)"
	@LAKEHOUSE_DATA_DOCS_URL=$(DATA_DOCS_URL) bash infra/dagster/run.sh start
	@bash infra/data_docs/run.sh start
	@bash infra/superset/bootstrap.sh
	@bash infra/superset/run.sh start
	@echo
	@echo "================================================================"
	@echo " Dagster UI : http://127.0.0.1:$(DAGSTER_PORT)"
	@echo " Superset   : http://127.0.0.1:$(SUPERSET_PORT)  (login: $${SUPERSET_ADMIN_USER:-admin} / $${SUPERSET_ADMIN_PASSWORD:-lakehouse-demo})"
	@echo " Data Docs  : $(DATA_DOCS_URL)/index.html  (every GX validation; quality_1 also has 数据质量, 审计日志)"
	@echo " Lake       : $(LAKE)   (try: uv run lakehouse query \"SELECT * FROM gold.telematics__county_days\")"
	@echo " Freight    : uv run lakehouse report freight --lake $(LAKE) --period $$(date +%Y-%m) --format table"
	@echo " 网约车     : uv run lakehouse report ridehailing --lake $(LAKE) --period $$(date -d 'last month' +%Y-%m) --format table"
	@echo " Notebook   : notebooks/01_explore_positions.ipynb"
	@echo " Timings    : make timings   (each dashboard's seconds to all charts drawn)"
	@echo " Stop       : make stop"
	@echo "================================================================"

timings: ## after `make demo`: each dashboard's seconds to all charts drawn, cold and warm
	$(UV) run --frozen python infra/superset/dashboard_timings.py $(TIMINGS_ARGS)

stop: ## stop the Dagster UI, Superset and the Data Docs server
	-@bash infra/dagster/run.sh stop
	-@bash infra/superset/run.sh stop
	-@bash infra/data_docs/run.sh stop

clean: stop ## remove the demo lake and local state (not the environments)
	rm -rf "$(LAKE)" .superset $(STATE)
