# The two commands the README promises: `make demo` and `make test`.
# Each installs the project from poetry.lock into .venv the first time (and after the lock
# changes). Poetry comes from PATH, or is bootstrapped at a pinned version into .tools/.

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= python3
POETRY_VERSION := 2.5.1
POETRY_HOME := .tools/poetry
POETRY ?= $(shell command -v poetry 2>/dev/null || echo $(POETRY_HOME)/bin/poetry)
MYSQL_TEST_URL ?= mysql+aiomysql://questline:questline@127.0.0.1:3306/questline_test

export POETRY_VIRTUALENVS_IN_PROJECT := true
export POETRY_NO_INTERACTION := 1

PLUGINS := plugins/questline-webhooks

.PHONY: demo pictures test lint lock lock-check test-sqlite test-mysql test-plugins

$(POETRY_HOME)/bin/poetry:
	$(PYTHON) -m venv $(POETRY_HOME)
	$(POETRY_HOME)/bin/python -m pip install --quiet poetry==$(POETRY_VERSION)

$(STAMP): pyproject.toml poetry.lock | $(if $(findstring $(POETRY_HOME),$(POETRY)),$(POETRY_HOME)/bin/poetry)
	$(POETRY) env use --quiet $(PYTHON)
	$(POETRY) sync --quiet
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/questline demo

# docs/img/*.png: the demo's pictures (a heat-map, an achievement card, the leaderboard) from
# twelve simulated weeks ending today, on a throwaway SQLite database.
pictures: $(STAMP)
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	$(BIN)/questline demo --database "$$scratch/demo.db" --weeks 12 --pictures docs/img >/dev/null
	@ls docs/img/*.png

lock: | $(if $(findstring $(POETRY_HOME),$(POETRY)),$(POETRY_HOME)/bin/poetry)
	$(POETRY) lock

lock-check: | $(if $(findstring $(POETRY_HOME),$(POETRY)),$(POETRY_HOME)/bin/poetry)
	$(POETRY) check --lock

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-sqlite: $(STAMP)
	env -u DATABASE_URL $(BIN)/pytest

test-mysql: $(STAMP)
	MYSQL_TEST_URL=$(MYSQL_TEST_URL) scripts/test-mysql.sh $(BIN)/pytest

# The plugin distributions in plugins/, installed into the same venv (their dependencies are
# in poetry.lock through questline's own or the dev group), tested on SQLite and on MariaDB.
test-plugins: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps $(addprefix -e ,$(PLUGINS))
	env -u DATABASE_URL $(BIN)/pytest $(addsuffix /tests,$(PLUGINS))
	MYSQL_TEST_URL=$(MYSQL_TEST_URL) scripts/test-mysql.sh $(BIN)/pytest $(addsuffix /tests,$(PLUGINS))

# The SQLite and MariaDB legs run side by side (they share nothing: a temporary SQLite file,
# the questline_test database, NATS streams named per test); each leg's output is printed
# whole when it ends, with its pytest summary line.
test: lock-check lint
	@echo "make test: the SQLite and MariaDB legs run side by side; each prints its output when it ends"
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-mysql
	@$(MAKE) --no-print-directory test-plugins
