# quizengine — the README's two commands are `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint translations migration-reset bench-spike clean

$(STAMP): setup.cfg pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip wheel
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/quizengine demo
	$(BIN)/quizengine run --host 127.0.0.1 --port 5000

test: $(STAMP)
	$(BIN)/ruff check quizengine tests bench
	$(BIN)/ruff format --check quizengine tests bench
	$(BIN)/mypy
	$(BIN)/pytest

translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -o quizengine/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i quizengine/translations/messages.pot -d quizengine/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d quizengine/translations

# Pre-release only: regenerate the single initial migration from the models.
migration-reset: $(STAMP)
	rm -f quizengine/migrations/versions/*_0001_initial_schema.py
	tmp=$$(mktemp -d) && $(BIN)/python -c "import sys; from alembic import command; from quizengine.migrations import alembic_config; command.revision(alembic_config('sqlite:///' + sys.argv[1] + '/m.sqlite3'), message='initial schema', autogenerate=True, rev_id='0001')" $$tmp && rm -rf $$tmp
	$(BIN)/ruff format quizengine/migrations/versions

bench-spike: $(STAMP)
	$(BIN)/python bench/spike

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
