# Two commands a newcomer needs: `make serve` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve build test browser bench check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/kb serve -a 127.0.0.1:8000

build: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

check: $(STAMP)
	$(BIN)/kb check

# Debian's chromium for the browser tests (installed once, by name).
browser:
	@command -v chromium >/dev/null 2>&1 || sh scripts/install-browser.sh

test: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python bench/build_speed.py --notes 500 1000 2000 --runs 2 --big-data
	$(BIN)/python bench/check_speed.py

clean:
	rm -rf site $(VENV) .pytest_cache
