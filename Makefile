# Two commands on a fresh machine: `make run` and `make test`.
# Each (re)creates .venv from pyproject.toml when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run simulate test lint typecheck unit browser fonts bench clean demo-committee

# The pages' npm dependencies (pdf.js, idb; axe-core for the browser tests) from package-lock.json, served by
# the server from node_modules/ (server/app.py) as the ES modules they ship: no bundler, nothing copied into git.
# --omit=optional skips pdf.js's @napi-rs/canvas, a native module only its Node.js rendering needs.
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	npm ci --omit=optional --no-audit --no-fund
	touch $(NODE_STAMP)

$(STAMP): pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) $(NODE_STAMP) fonts
	$(BIN)/kyhop serve --demo

simulate: $(STAMP)
	$(BIN)/kyhop simulate

# The demo's counting committee has 7 members (daibieu30–36); a person trying it has one tablet. In a second
# terminal beside `make run`, this runs the other six members' devices (clients/committee_device.py): they join the
# chair's key ceremony, keep their shares in var/committee-keys (demo passphrase) and decrypt each verifiable round
# or poll at once — but only 3 of them (DEMO_DECRYPT), t − 1 for the default 4 of 7, so the result waits for the
# tablet's partial decryption and the person sees theirs certify the count. DEMO_DECRYPT=6: the tablet is not needed.
DEMO_SERVER  ?= http://127.0.0.1:8000
DEMO_DECRYPT ?= 3
demo-committee: $(STAMP)
	$(BIN)/kyhop committee-device --demo --auto-decrypt --decrypt-only $(DEMO_DECRYPT) --server $(DEMO_SERVER) \
	  $(foreach i,31 32 33 34 35 36,--user daibieu$(i))

test: lint typecheck browser fonts $(NODE_STAMP) unit

# tests/test_web.py drives Debian's chromium (through the `playwright` package, which downloads no browser of its
# own). Installed here only when missing; without it the browser test is skipped, and under CI=true it fails.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-dejavu-core; \
	  else \
	    echo "chromium is not installed: run 'sudo apt-get install -y chromium fonts-dejavu-core' for the browser test"; \
	  fi; }

# The record's PDFs (record/pdf.py) are set in Tinos, a Times New Roman-metric font with every Vietnamese letter,
# from Debian's fonts-croscore (Apache-2.0). No PyPI package ships a Times-metric font with Vietnamese for
# Python 3.11, and Debian's fonts-liberation 1.07 lacks 92 of the 102 precomposed Vietnamese letters.
# Installed here only when missing; without it the record raises a clear error naming this package.
fonts:
	@[ -f /usr/share/fonts/truetype/croscore/Tinos-Regular.ttf ] || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-croscore; \
	  else \
	    echo "fonts-croscore is not installed: run 'sudo apt-get install -y fonts-croscore' for the record's PDFs"; \
	  fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

# The benchmarks T1–T6 of issue 4 (docs/PERFORMANCE.md): ~10 min on 2 cores, results in bench/results/.
# `make bench BENCH_ARGS=--quick` for a short run, `BENCH_ARGS="--only t1 t4"`, `BENCH_ARGS=--profile` for py-spy.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) browser $(NODE_STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .mypy_cache .pytest_cache .ruff_cache .hypothesis
