"""PDF pages per second through the whole per-file path (``process_bytes``: read the PDF, find
its tables, normalize, extract, check), on the corpus PDF and on generated PDF reports.

    python -m pipeline.devtools.bench_pdf [--generated N] [--repeat R] [--corpus-pdf PATH]

One process, one core: multiply by the worker count for a machine's ingest rate. Rendering
the generated PDFs (reportlab) is done before the clock starts.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from time import perf_counter

from pipeline.read.pdf import read_pdf
from pipeline.process import process_bytes

CORPUS_PDF = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "hongze_2024.pdf"


def measure(files: list[tuple[str, bytes]], repeat: int) -> dict[str, float]:
    pages = sum(read_pdf(data).pages for _, data in files) * repeat
    t = perf_counter()
    for _ in range(repeat):
        for name, data in files:
            read_pdf(data)
    read_s = perf_counter() - t
    t = perf_counter()
    cells = 0
    for _ in range(repeat):
        for name, data in files:
            p = process_bytes(data, name)
            assert p.document["error"] is None, (name, p.document["error"])
            cells += len(p.cells)
    total_s = perf_counter() - t
    return {"files": len(files) * repeat, "pages": pages, "cells": cells, "read_s": read_s, "total_s": total_s,
            "pages_per_s_read": pages / read_s, "pages_per_s_total": pages / total_s}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generated", type=int, default=20, help="generated PDF reports (both forms)")
    ap.add_argument("--repeat", type=int, default=5, help="passes over the corpus PDF")
    ap.add_argument("--corpus-pdf", type=Path, default=CORPUS_PDF)
    args = ap.parse_args(argv)
    rows = []
    if args.corpus_pdf.exists():
        rows.append((args.corpus_pdf.name, measure([(args.corpus_pdf.name, args.corpus_pdf.read_bytes())], args.repeat)))
    if args.generated:
        from pipeline.devtools.render import generate_document

        rng = random.Random(0)
        docs = [generate_document(rng, i, "pdf", ("2019", "2021")[i % 2]) for i in range(args.generated)]
        rows.append((f"{args.generated} generated PDFs", measure([(g.name, g.data) for g in docs], 1)))
    print("| input | files | pages | cells | read PDF (pages/s) | whole path (pages/s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, m in rows:
        print(f"| {name} | {m['files']} | {m['pages']} | {m['cells']} | {m['pages_per_s_read']:.1f} | {m['pages_per_s_total']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
