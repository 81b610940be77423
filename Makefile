# The two commands of README.md.  Both create .venv on first use, so a fresh clone needs nothing else.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The main job: the dashboard on the demo city (embedded SQLite in ./runze-data) with a replayed day of
# telemetry streaming in through MQTT; prints the address.
demo: $(STAMP)
	$(BIN)/runze demo

# Debian's Chromium (and CJK fonts) for the Playwright browser tests; never a downloaded browser build.
browser:
	@command -v chromium >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; } || \
	  echo "chromium could not be installed: the browser tests will be skipped"

test: $(STAMP) browser
	$(BIN)/ruff check runze tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check runze tests benchmarks
