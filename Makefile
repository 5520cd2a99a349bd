# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench bench-real profile bench-small bench-pdf bench-ocr bench-converter pdf-breaks fuzz killtest ui ui-test bench-dagster postgres postgres-stop ui-postgres clean

EXTRAS ?= test
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $(STAMP)

run: $(STAMP) ## set up, then ingest the bundled sample drop folder into data/govreport.duckdb
	$(PY) -m pipeline ingest examples/drop --db data/govreport.duckdb

test: $(STAMP) ## set up, then run the test suite
	$(PY) -m pytest

bench: $(STAMP) ## the scale benchmark: 3,000 files derived from the real fixtures and 10,000 generated reports (see README)
	$(PY) -m pipeline.devtools.bench --corpus both --real-files 3000 --reports 10000 --out bench_out

bench-real: $(STAMP) ## 3,000 real-derived files only: rate, read+decode floor and ratio, parent/worker CPU
	$(PY) -m pipeline.devtools.bench --corpus real --real-files 3000 --out bench_out

profile: $(STAMP) ## cProfile of process_bytes over 500 real-derived files, one process (bench_out/profile_real.txt)
	$(PY) -m pipeline.devtools.bench --corpus real --real-files 500 --profile --out bench_out

fuzz: $(STAMP) ## hostile drop folder: 10,000+ files through the real CLI; crashes, hangs, lost files, peak memory
	flock /tmp/govreport-heavy.lock $(PY) -m pipeline.devtools.fuzz --files 10000

killtest: $(STAMP) ## SIGKILL the ingest 24 times at random points; the rerun must equal a clean run
	flock /tmp/govreport-heavy.lock $(PY) -m pipeline.devtools.killtest --kills 24

bench-small: $(STAMP)
	$(PY) -m pipeline.devtools.bench --reports 1000 --out bench_out

bench-converter: $(STAMP) ## converter Markdown from the held-back layout rules: cells right, silent errors
	$(PY) -m pipeline.devtools.converter_layouts --docs 3000 --seed 99

pdf-breaks: $(STAMP) ## generated PDFs with a page break before every applications row, 10 ways of printing the cut
	$(PY) -m pipeline.devtools.render

bench-pdf: $(STAMP) ## PDF pages per second (corpus PDF and 20 generated PDFs), one core
	$(PY) -m pipeline.devtools.bench_pdf --generated 20 --repeat 5

UI_PORT      ?= 3000
DAGSTER_HOME ?= $(CURDIR)/.dagster_home

ui: $(STAMP) ## Dagster UI on http://127.0.0.1:$(UI_PORT); Ctrl-C stops it (UI_PORT, DAGSTER_HOME, GOVREPORT_VERDICT_REGIONS may be set)
	$(PY) -m assets.event_log $(DAGSTER_HOME)
	DAGSTER_HOME=$(DAGSTER_HOME) $(VENV)/bin/dagster dev -w workspace.yaml -p $(UI_PORT)

PG_DIR ?= $(CURDIR)/.postgres
postgres: $(STAMP) ## a local PostgreSQL cluster + PgBouncer for Dagster's instance (Debian's postgresql, pgbouncer); writes $(PG_DIR)/dagster.yaml
	$(PY) -m pip install -q -e ".[postgres]"
	$(PY) -m tests_ui.postgres_local start --dir $(PG_DIR)

postgres-stop: ## stop what `make postgres` started
	$(PY) -m tests_ui.postgres_local stop --dir $(PG_DIR)

ui-postgres: postgres ## `make ui` on the PostgreSQL instance (DAGSTER_HOME=.dagster_home_pg)
	mkdir -p $(CURDIR)/.dagster_home_pg && cp $(PG_DIR)/dagster.yaml $(CURDIR)/.dagster_home_pg/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home_pg $(VENV)/bin/dagster dev -w workspace.yaml -p $(UI_PORT)

REPORTS ?= 10000
INSTANCES ?= postgres,sqlite
bench-dagster: $(STAMP) ## command line and the Dagster path side by side at REPORTS reports (a generated province), on INSTANCES, page loads in chromium on each
	$(PY) -m pip install -q -e ".[ui-test,postgres]"
	flock /tmp/govreport-heavy.lock $(PY) -m tests_ui.bench_dagster --reports $(REPORTS) --instances $(INSTANCES) --pg-dir $(PG_DIR) --out bench_out

ui-test: $(STAMP) ## the reviewer's path in a real browser (Debian's chromium + playwright); screenshots in ui_shots/
	@test -x /usr/bin/chromium || { echo "needs Debian's chromium and a CJK font: apt-get install -y chromium fonts-noto-cjk"; exit 1; }
	$(PY) -m pip install -q -e ".[ui-test]"
	$(PY) -m pytest tests_ui -p no:cacheprovider

clean:
	-test -d $(PG_DIR) && $(PY) -m tests_ui.postgres_local stop --dir $(PG_DIR)
	rm -rf $(VENV) data bench_out .dagster_home .dagster_home_pg ui_shots $(PG_DIR)

OCR_REPORTS ?= 12
bench-ocr: $(STAMP) ## OCR: cells right/wrong/flagged and pages/s on 2 workers, generated scans/photos and the corpus PDF degraded (see README)
	flock /tmp/govreport-heavy.lock $(PY) -m pipeline.devtools.bench_ocr --generated $(OCR_REPORTS) --workers 2
