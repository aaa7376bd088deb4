# Two commands do all the set-up on a fresh machine with Python >= 3.11:
#   make run    start MediaLink (reads .env)
#   make test   lint, type-check and run the test suite
# Both create .venv and install the hashed, pinned dependencies on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench lock clean

$(STAMP): requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	@touch $@

run: $(STAMP)
	$(BIN)/medialink serve

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Re-pin after editing dependencies in pyproject.toml (needs uv: pip install uv).
# requirements.lock: what MediaLink runs with (the Dockerfile); -dev adds the tools.
LOCK := uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 --no-header
lock:
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev -o requirements-dev.lock
	$(MAKE) requirements-build.lock

# The image's build stage needs only the build backend: hatchling and what it needs, with
# requirements-dev.lock's pins and hashes (tests/test_container.py checks they agree).
BUILD_PINS := hatchling|packaging|pathspec|pluggy|tomlkit|trove-classifiers
requirements-build.lock: requirements-dev.lock
	{ echo "# The build backend for the Dockerfile's build stage; made by make lock."; \
	  awk '/^[a-z0-9]/ { keep = ($$1 ~ /^($(BUILD_PINS))==/) } keep && !/^ +#/' $<; } > $@

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
