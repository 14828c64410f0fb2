# OpsLedger: `make run` (embedded default, no servers) and `make test` (whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run demo test test-unit lint infra-up infra-down compose-plugin browser bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: install  ## install, then serve the API + follower on the embedded default
	$(BIN)/opsledger serve

demo: install  ## load a month of demo data into a running `make run`
	$(BIN)/opsledger demo

test: install compose-plugin browser lint  ## lint, start real Kafka + FerretDB, run the whole suite, stop them (even on failure)
	bash infra/local/with-infra.sh $(BIN)/python -m pytest

compose-plugin:  ## build the Docker Compose CLI plugin once (cached) so the compose checks run for real
	bash infra/local/compose/install.sh

test-unit: install
	$(BIN)/python -m pytest -m "not integration"

browser:  ## apt-get install chromium + chromium-driver for tests/browser (a no-op when present)
	bash infra/local/browser/install.sh

lint: install  ## ruff, and mypy (strict on domain/ and projections/; config in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install  ## the API against its baselines in one run (wrk if installed; see README)
	$(BIN)/python -m benchmarks.api_bench

infra-up:
	bash infra/local/up.sh

infra-down:
	bash infra/local/down.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
