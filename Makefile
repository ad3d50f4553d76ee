# The two set-up commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# -qq and no version check: a quiet start that shows pip's errors only.
PIP := $(BIN)/python -m pip -qq --disable-pip-version-check
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test bench clean rasa-env

$(BIN)/python:
	@echo "creating $(VENV) (first run only)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "installing civic-helpdesk into $(VENV) (after a change to pyproject.toml only)"
	@$(PIP) install -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	@echo "installing civic-helpdesk with its dev extra into $(VENV) (after a change to pyproject.toml only)"
	@$(PIP) install -e '.[dev]'
	@touch $@ $(STAMP)

run: $(STAMP)
	@$(BIN)/helpdesk run

test: $(DEV_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(DEV_STAMP)
	$(BIN)/python bench/nlu_parse.py
	$(BIN)/python bench/shell_startup.py
	$(BIN)/python bench/kb_retrieval.py
	$(BIN)/python bench/teams_turns.py
	$(BIN)/python bench/tickets.py
	$(BIN)/python bench/directory_servers.py
	$(BIN)/python bench/slack_http.py
	$(BIN)/python bench/notice_fanout.py
	$(BIN)/python bench/nlu_benchmark.py
	$(BIN)/python bench/dashboard.py

# Rasa 3.6 (Python 3.10) and a model of today's intents/, cached for the live contract tests.
rasa-env: $(DEV_STAMP)
	$(BIN)/python -m tests.servers.rasa_live build

clean:
	rm -rf $(VENV) helpdesk.db
