# Task runner. `make` lists the targets; `make run` and `make test` are the two
# commands a new developer needs.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# PostgreSQL used by `make test`; pytest-django creates and drops a throwaway
# test_<name> database next to it.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/postgres
# PostgreSQL that `make bench` creates its throwaway databases next to.
BENCH_PG_URL ?= $(PG_TEST_URL)
# Likewise for `make soak`, whose length is SOAK_SECONDS (default 600).
SOAK_PG_URL ?= $(PG_TEST_URL)

# `make test-pgbouncer`: again, through a loopback PgBouncer in transaction
# pooling mode (e2e/pgbouncer/) in front of that PostgreSQL, the tests whose
# outcome depends on how connections and transactions reach the database:
# pooling, row locks and transactions under concurrency, the migrations, and
# the live service's writes. (The rest pass or fail the same way on either
# path, and running them twice cost CI seven minutes.) Its own database name,
# so pytest-django's test_pgb_todo never collides with the test_postgres of
# `make test-postgres`.
PGBOUNCER_UNIT_TESTS ?= api/tests/test_connection_pooling.py api/tests/test_database_timeouts.py \
	tasks/tests/test_tasks_api.py tasks/tests/test_query_counts.py tasks/tests/test_toggle.py \
	tasks/tests/test_move.py tasks/tests/test_quota.py tasks/tests/test_list_pages.py \
	tasks/tests/test_list_concurrent_walk.py tasks/tests/test_migrations.py \
	tasks/tests/test_sync_concurrency.py tasks/tests/test_conditional_requests.py \
	api/tests/test_idempotency.py
PGBOUNCER_E2E_TESTS ?= e2e/test_concurrency.py e2e/test_planning.py e2e/test_graceful_shutdown.py \
	e2e/test_scale_out.py e2e/test_database_outage.py e2e/test_idempotency.py \
	e2e/test_retries_after_a_cut.py e2e/test_sync_through_nginx.py
PGBOUNCER_PORT ?= 6432
PGBOUNCER_URL ?= postgres://postgres@127.0.0.1:$(PGBOUNCER_PORT)/pgb_todo
PGBOUNCER_ADMIN_URL ?= postgres://postgres@127.0.0.1:$(PGBOUNCER_PORT)/postgres
PGBOUNCER_LOG = $${PGBOUNCER_RUN_DIR:-/tmp/todo-pgbouncer-$(PGBOUNCER_PORT)}/pgbouncer.log
# The pinned Better Auth that the interop tests run (Node.js + npm).
INTEROP := interop/better-auth
# The TypeScript client generated from /openapi.json (e2e/test_typescript_client.py).
TS_CLIENT := clients/typescript

.DEFAULT_GOAL := help

# The commands that read the settings for development ask for development
# mode explicitly: unset, DJANGO_DEBUG means production, which refuses to
# start without real secrets. A value already in the environment is kept.
run typecheck check-migrations schema: export DJANGO_DEBUG ?= true
.PHONY: help venv interop typescript-client run test test-sqlite test-postgres test-e2e test-pgbouncer pgbouncer-up pgbouncer-down bench bench-pgbouncer soak lint format check-migrations schema clean

help: ## List the commands
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## Create the virtualenv and install the pinned requirements

# Both pin sets, each package checked against the hashes recorded by `make lock`.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt -r requirements-dev.txt
	touch $@

interop: ## Install the pinned Better Auth for the interop tests (npm ci; skipped without npm)
	@if command -v npm >/dev/null; then \
		$(MAKE) --no-print-directory $(INTEROP)/node_modules/.package-lock.json; \
	else \
		echo "make interop: npm not found: the Better Auth interop tests will be skipped"; \
	fi

$(INTEROP)/node_modules/.package-lock.json: $(INTEROP)/package.json $(INTEROP)/package-lock.json
	npm ci --prefix $(INTEROP) --no-audit --no-fund

typescript-client: ## Install the pinned openapi-typescript, openapi-fetch and tsc for the client test (npm ci; skipped without npm)
	@if command -v npm >/dev/null; then \
		$(MAKE) --no-print-directory $(TS_CLIENT)/node_modules/.package-lock.json; \
	else \
		echo "make typescript-client: npm not found: the TypeScript client test will be skipped"; \
	fi

$(TS_CLIENT)/node_modules/.package-lock.json: $(TS_CLIENT)/package.json $(TS_CLIENT)/package-lock.json
	npm ci --prefix $(TS_CLIENT) --no-audit --no-fund

run: venv ## Serve the API on http://127.0.0.1:8000 in development mode (SQLite and dev secrets unless configured)
	$(PY) manage.py migrate --noinput
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT)

test: venv ## Run the whole suite: SQLite, then PostgreSQL and the end-to-end tests when PostgreSQL is reachable
	$(MAKE) --no-print-directory test-sqlite
	@if $(PY) -c "import psycopg, sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(PG_TEST_URL)" 2>/dev/null; then \
		$(MAKE) --no-print-directory test-postgres && $(MAKE) --no-print-directory test-e2e; \
	elif [ -n "$$CI" ]; then \
		echo "make test: PostgreSQL is not reachable at $(PG_TEST_URL) and CI requires it"; exit 1; \
	else \
		echo "make test: PostgreSQL is not reachable at $(PG_TEST_URL): skipped the PostgreSQL run"; \
	fi

test-sqlite: venv ## Run the suite on SQLite
	@echo "== tests on SQLite"
	env -u DATABASE_URL $(PY) -m pytest

test-postgres: venv ## Run the suite on PostgreSQL (PG_TEST_URL)
	@echo "== tests on PostgreSQL ($(PG_TEST_URL))"
	DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest

test-e2e: venv interop typescript-client ## End-to-end tests: gunicorn in production mode on a throwaway PostgreSQL database
	@echo "== end-to-end tests (gunicorn + PostgreSQL at $(PG_TEST_URL))"
	E2E_PG_URL=$(PG_TEST_URL) $(PY) -m pytest e2e

bench: venv ## Benchmark the service under wrk on PostgreSQL against a bare-WSGI baseline (a few minutes)
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	BENCH_PG_URL=$(BENCH_PG_URL) $(PY) -m bench.run

soak: venv ## Mixed traffic through nginx to two instances for SOAK_SECONDS (600); fails on 5xx, p99 drift, growing memory
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	SOAK_PG_URL=$(SOAK_PG_URL) $(PY) -m bench.soak

# pytest-django would drop its test database at the end through PgBouncer,
# which still holds server connections to it, so PostgreSQL refuses. Instead
# --reuse-db keeps pytest-django from dropping it, --create-db still makes it
# afresh, and the database is dropped on PostgreSQL directly (WITH (FORCE)),
# before the run (a leftover) and after it, once PgBouncer is stopped.
DROP_PGBOUNCER_TEST_DB = $(PY) -c "import psycopg, sys; psycopg.connect(sys.argv[1], autocommit=True).execute('DROP DATABASE IF EXISTS test_pgb_todo WITH (FORCE)')" "$(PG_TEST_URL)"

# The one warning expected in PgBouncer's log: the end-to-end run drops its
# todo_e2e_* database WITH (FORCE) at the end, which ends PgBouncer's idle
# server connections to it; PgBouncer notes each one so.
E2E_DROP_WARNING = todo_e2e_[0-9a-f]*/[a-z]*@127.0.0.1:[0-9]* got packet 'E' from server when not linked

test-pgbouncer: venv ## The database-sensitive unit and end-to-end tests again, through PgBouncer in transaction pooling mode
	@echo "== tests through PgBouncer in transaction pooling mode ($(PGBOUNCER_URL) -> $(PG_TEST_URL))"
	@$(DROP_PGBOUNCER_TEST_DB)
	@PGBOUNCER_PORT=$(PGBOUNCER_PORT) e2e/pgbouncer/run up
	@status=0; \
	DATABASE_URL=$(PGBOUNCER_URL) EXPECT_TRANSACTION_POOLER=1 $(PY) -m pytest --reuse-db --create-db $(PGBOUNCER_UNIT_TESTS) || status=$$?; \
	if [ $$status -eq 0 ]; then \
		echo "== end-to-end tests through PgBouncer ($(PGBOUNCER_ADMIN_URL))"; \
		E2E_PG_URL=$(PGBOUNCER_ADMIN_URL) $(PY) -m pytest $(PGBOUNCER_E2E_TESTS) || status=$$?; \
	fi; \
	PGBOUNCER_PORT=$(PGBOUNCER_PORT) e2e/pgbouncer/run down || status=1; \
	$(DROP_PGBOUNCER_TEST_DB) || status=1; \
	if grep -E ' (WARNING|ERROR|FATAL) ' "$(PGBOUNCER_LOG)" | grep -v "$(E2E_DROP_WARNING)"; then \
		echo "make test-pgbouncer: PgBouncer logged the errors above ($(PGBOUNCER_LOG))"; status=1; \
	fi; \
	exit $$status

bench-pgbouncer: venv ## make bench with the service and the baseline reaching PostgreSQL through the loopback PgBouncer
	@PGBOUNCER_PORT=$(PGBOUNCER_PORT) e2e/pgbouncer/run up
	@status=0; \
	$(MAKE) --no-print-directory bench BENCH_PG_URL=$(PGBOUNCER_ADMIN_URL) || status=$$?; \
	PGBOUNCER_PORT=$(PGBOUNCER_PORT) e2e/pgbouncer/run down || status=1; \
	exit $$status

pgbouncer-up: ## Start the loopback PgBouncer (transaction pooling) on 127.0.0.1:$PGBOUNCER_PORT (6432)
	@PGBOUNCER_PORT=$(PGBOUNCER_PORT) e2e/pgbouncer/run up

pgbouncer-down: ## Stop the loopback PgBouncer
	@PGBOUNCER_PORT=$(PGBOUNCER_PORT) e2e/pgbouncer/run down

lint: venv ## ruff: lint and formatting
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: typecheck lock

# The django-stubs plugin imports the settings, which refuse to load in
# production mode without secrets: mypy runs them in debug mode.
typecheck: venv ## mypy with the Django and DRF plugins ([tool.mypy] in pyproject.toml)
	$(VENV)/bin/mypy .

# requirements.txt and requirements-dev.txt, pinned with hashes, from the direct
# dependencies in requirements.in and requirements-dev.in (Python 3.11, as
# deployed). Existing pins are kept; move one on purpose with, for example,
# make lock LOCK_ARGS="--upgrade-package django". The dev set is compiled
# against requirements.txt, so the packages both share have the same pins.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

lock: venv ## Recompile the pinned, hashed requirements*.txt from requirements*.in
	@$(PY) -c 'import sys; sys.exit(None if sys.version_info[:2] == (3, 11) else "make lock: needs Python 3.11")'
	@$(PY) -c 'import sys, tomllib; from packaging.requirements import Requirement as R; from packaging.utils import canonicalize_name as name; \
	key = lambda r: (name(r.name), frozenset(r.extras), r.specifier); \
	reqs = lambda lines: {key(R(line)) for line in lines}; \
	infile = lambda f: reqs(x for x in (l.split("#")[0].strip() for l in open(f)) if x and not x.startswith("-")); \
	p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	same = reqs(p["dependencies"]) == infile("requirements.in") \
	and reqs(p["optional-dependencies"]["dev"]) == infile("requirements-dev.in"); \
	same or sys.exit("make lock: pyproject.toml [project] lists other dependencies than requirements*.in")'
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

format: venv ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-migrations: venv ## Fail when a model change has no migration
	$(PY) manage.py makemigrations --check --dry-run

schema: venv ## Validate the OpenAPI schema (warnings are errors)
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

clean: ## Remove the virtualenv, the SQLite database and caches
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache .ruff_cache $(INTEROP)/node_modules \
		$(TS_CLIENT)/node_modules $(TS_CLIENT)/dist $(TS_CLIENT)/src/generated e2e/artifacts
