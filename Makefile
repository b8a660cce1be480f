# The two commands the README promises: `make demo` and `make test`.
# Each creates .venv and installs the project the first time.

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= python3
MYSQL_TEST_URL ?= mysql+aiomysql://questline:questline@127.0.0.1:3306/questline_test

.PHONY: demo test lint test-sqlite test-mysql

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/questline demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-sqlite: $(STAMP)
	env -u DATABASE_URL $(BIN)/pytest

test-mysql: $(STAMP)
	scripts/test-databases.sh
	DATABASE_URL=$(MYSQL_TEST_URL) $(BIN)/pytest

test: lint test-sqlite test-mysql
