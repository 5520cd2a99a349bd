"""Rows stored stay identical: a store built now must equal the one built before the speed work.

`tests/golden/store_digests.json` holds, per corpus and table, the row count and a sha256 of
the sorted rows (every column except the run's own: `ingested_at`, `pipeline_version`, the
file index's `mtime_ns`). It was captured with the code of commit e240c7d, before issue 10's
per-report speed work, over two corpora:

* `fixtures`: every real fixture except PDF files (PDF input is being added separately and
  changes those rows on purpose);
* `generated`: 400 reports from `pipeline.devtools.generate.write_corpus(seed=10, broken_share=0)`,
  every layout, encoding and script (no broken files: their error wording is another
  module's to change).

A difference names the tables that changed. Rewrite with ``pytest --update`` only when a
change of stored rows is intended, and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.devtools.generate import write_corpus
from pipeline.store.ingest import run_ingest

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = Path(__file__).parent / "golden" / "store_digests.json"
GENERATED_REPORTS, GENERATED_SEED = 400, 10
EXCLUDED_SUFFIXES = (".pdf", ".docx", ".doc")

# table → columns compared (the run's own timestamps and version marker are left out)
COLUMNS = {
    "documents": "document_id, source_path, size_bytes, encoding, raw_text, normalized_text, repairs, error",
    "file_index": "source_path, size_bytes, document_id",
    "reports": "report_id, document_id, organ, year, form, form_basis, source_script, status, title, source_path",
    "report_cells": "report_id, table_name, row_key, column_key, value, raw, source_line, how, candidates, note, row_label, column_label",
    "prose_metrics": "report_id, metric, value, unit, source_line, sentence, origin, note",
    "report_sections": "report_id, section_no, title, start_line, end_line",
    "check_results": "report_id, check_name, severity, passed, expected, actual, location, message, details",
}


def store_digests(db: Path) -> dict[str, dict[str, object]]:
    """{table: {"rows": n, "sha256": digest of the sorted row reprs}} for the columns above."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for table, cols in COLUMNS.items():
            rows = sorted(repr(r) for r in con.execute(f"SELECT {cols} FROM {table}").fetchall())  # noqa: S608 - constants
            h = hashlib.sha256()
            for r in rows:
                h.update(r.encode("utf-8"))
                h.update(b"\n")
            out[table] = {"rows": len(rows), "sha256": h.hexdigest()}
        return out
    finally:
        con.close()


def build(corpus: str, root: Path) -> Path:
    """Ingest one reference corpus into a fresh store under root; returns the store's path."""
    drop = root / "drop"
    if corpus == "fixtures":
        drop.mkdir(parents=True)
        for p in sorted(FIXTURES.iterdir()):
            if p.is_file() and p.suffix.lower() not in EXCLUDED_SUFFIXES:
                shutil.copy(p, drop / p.name)
    else:
        write_corpus(drop, GENERATED_REPORTS, seed=GENERATED_SEED, broken_share=0.0)
    db = root / "store.duckdb"
    run_ingest(drop, db, workers=2)
    return db


@pytest.mark.parametrize("corpus", ["fixtures", "generated"])
def test_rows_stored_stay_identical(corpus, tmp_path, request):
    got = store_digests(build(corpus, tmp_path))
    reference = json.loads(REFERENCE.read_text(encoding="utf-8")) if REFERENCE.exists() else {}
    if request.config.getoption("--update"):
        reference[corpus] = got
        REFERENCE.write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert corpus in reference, "no reference digests: run pytest --update with the reference code"
    changed = {t: (reference[corpus].get(t), d) for t, d in got.items() if reference[corpus].get(t) != d}
    assert not changed, f"stored rows changed in {sorted(changed)}: {changed}"
