# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# Development: a random key in .data/secret_key, the demo's closed webhook port
# allowed. Production sets DEBUG=0 and SECRET_KEY (README, Security).
export DEBUG ?= 1

.PHONY: run test setup browser lint stopdb bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when requirements.txt changed.
$(INSTALLED): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(INSTALLED)

# Starts the database (embedded unless DATABASE_URL is set), migrates, seeds
# the demo and runs the scheduler once so there are traces to look at.
setup: $(INSTALLED)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py metric_sandbox
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_scheduler

run: setup
	@echo
	@echo "  Lineage is at http://127.0.0.1:8000 — sign in as demo / demo"
	@echo
	$(BIN)/python manage.py runserver --insecure 127.0.0.1:8000

# Browser tests drive Debian's Chromium.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "The browser tests need Chromium: sudo apt-get install chromium"; exit 1; \
	  fi; }

# Two workers: the suite spends half its time waiting on PostgreSQL, so two
# processes on two cores finish in about 60 % of the time of one.
TEST_WORKERS ?= 2

test: setup browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: $(INSTALLED)
	$(BIN)/ruff check lineage tests

# Measured as production runs: DEBUG off, with the key setup made.
bench: setup
	DEBUG=0 SECRET_KEY="$$(cat .data/secret_key)" $(BIN)/python manage.py bench

stopdb:
	$(BIN)/python -m lineage.embedded_db stop
