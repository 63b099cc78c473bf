# Two entry points: `make run` (install, index the bundled corpus if needed, open the web chat)
# and `make test` (install what tests need, run the suite). Everything goes into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# `make run PORT=8080` serves on another port; `HOST=0.0.0.0` opens it to the network (no authentication!).
PORT ?= 7860
HOST ?= 127.0.0.1

.PHONY: run test install system-deps lint bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the CPU build of torch first: an unpinned torch pulls gigabytes of CUDA
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# Ingest's exit code 3 (some files failed, listed) still opens the chat; 4 (all failed) or 1 (error) stops.
run: $(STAMP)
	$(BIN)/ess-assistant ingest || [ $$? -eq 3 ]
	$(BIN)/ess-assistant serve --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),7860)

# Debian's Chromium for the browser tests (Playwright must not download its own browser) and
# LibreOffice to check that exported notes convert to PDF. Without root/apt those tests are skipped.
system-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v soffice >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium libreoffice-writer-nogui >/dev/null; \
	else echo "chromium/libreoffice absent: browser and PDF conversion tests will be skipped"; fi

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -ra

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_retrieval.py
