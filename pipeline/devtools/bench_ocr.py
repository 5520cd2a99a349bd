"""OCR measured: cells right / wrong / flagged and pages per second, on scans and photos of
generated reports (truth known) and of the real corpus PDF (truth: its own text layer).

    python -m pipeline.devtools.bench_ocr [--generated N] [--workers 2] [--engine rapidocr|tesseract]

Each generated report is rendered to PDF (reportlab), its pages to pictures (pypdfium2) at
150 or 200 dpi, degraded (``degrade.scan``: tilt ≤ 1°, noise, blur, JPEG 60–80, a red seal;
``degrade.photo``: perspective, uneven light, blur, JPEG) and written as an image-only PDF
(scans) or as one JPEG per page joined into a multi-page TIFF (photos). Each file then goes
through the whole per-file path (``process_bytes``) on ``--workers`` processes, the OCR cache
switched off, so every page is OCR'd. Degrading happens before the clock starts.

A cell is *right* when its value equals the truth (blank = blank); *flagged* when it is
``unresolved``, ``missing`` (not located: no value, ``tables_complete`` fails) or its note says
``unconfirmed``; *wrong* when it holds a value that is not the truth and is not flagged. The target: ≥ 99 % right
on generated scans, 0 wrong.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

CORPUS_PDF = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "hongze_2024.pdf"


@dataclass
class Case:
    name: str
    kind: str  # scan · photo
    data: bytes
    truth: dict
    organ: str | None
    year: int | None
    form: str | None
    pages: int


@dataclass
class Score:
    cells: int = 0
    right: int = 0
    wrong: int = 0
    flagged: int = 0
    flagged_right: int = 0
    meta_right: int = 0
    docs: int = 0
    errors: list[str] = field(default_factory=list)
    wrong_cells: list[str] = field(default_factory=list)


def score(out, case: Case, s: Score) -> None:
    s.docs += 1
    if out.document["error"]:
        s.errors.append(f"{case.name}: {out.document['error']}")
        s.cells += len(case.truth)
        s.wrong += len(case.truth)
        return
    r = out.report
    s.meta_right += (r["organ"] == case.organ and r["year"] == case.year and r["form"] == case.form)
    got = {(c["table_name"], c["row_key"], c["column_key"]): c for c in out.cells}
    for key, truth in case.truth.items():
        s.cells += 1
        c = got.get(key)
        flagged = c is None or c["how"] in ("unresolved", "missing") or "unconfirmed" in (c["note"] or "")
        right = c is not None and c["how"] not in ("missing", "unresolved") and c["value"] == truth
        s.right += right
        s.flagged += flagged
        s.flagged_right += flagged and right
        if not right and not flagged:
            s.wrong += 1
            s.wrong_cells.append(f"{case.name} {'.'.join(key)}: truth {truth}, got {c and c['value']} [{c and c['how']}] raw {c and c['raw']!r}")


def _generated(n: int, seed: int) -> list[Case]:
    from pipeline.devtools import degrade
    from pipeline.devtools.render import generate_document

    rng = random.Random(seed)
    cases = []
    for i in range(n):
        g = generate_document(rng, i, "pdf", ("2019", "2021")[i % 2])
        dpi = (150, 200)[(i // 2) % 2]
        pages = degrade.render_pages(g.data, dpi)
        kind = "photo" if i % 4 == 3 else "scan"
        if kind == "scan":
            pics = [degrade.scan(p, rng, with_seal=(k == len(pages) - 1 or rng.random() < 0.3)) for k, p in enumerate(pages)]
            data, name = degrade.to_pdf(pics, dpi), f"g{i:03d}_{g.form}_{dpi}dpi_scan.pdf"
        else:
            pics = [degrade.photo(p, rng) for p in pages]
            data, name = _tiff(pics), f"g{i:03d}_{g.form}_{dpi}dpi_photo.tif"
        cases.append(Case(name, kind, data, g.truth, g.organ, g.year, g.form, len(pages)))
    return cases


def _tiff(pics) -> bytes:
    from PIL import Image

    ims = [Image.fromarray(p) for p in pics]
    buf = io.BytesIO()
    ims[0].save(buf, "TIFF", save_all=True, append_images=ims[1:], compression="jpeg", quality=75)
    return buf.getvalue()


def _corpus(seed: int) -> list[Case]:
    from pipeline.devtools import degrade
    from pipeline.process import process_bytes

    data = CORPUS_PDF.read_bytes()
    ref = process_bytes(data, CORPUS_PDF.name)
    truth = {(c["table_name"], c["row_key"], c["column_key"]): c["value"] for c in ref.cells}
    rng = random.Random(seed)
    out = []
    for dpi in (150, 200):
        pages = degrade.render_pages(data, dpi)
        scan = [degrade.scan(p, rng, with_seal=(k == len(pages) - 1)) for k, p in enumerate(pages)]
        out.append(Case(f"hongze_2024_{dpi}dpi_scan.pdf", "scan", degrade.to_pdf(scan, dpi), truth, ref.report["organ"], ref.report["year"], ref.report["form"], len(pages)))
    photo = [degrade.photo(p, rng) for p in degrade.render_pages(data, 200)]
    out.append(Case("hongze_2024_200dpi_photo.tif", "photo", _tiff(photo), truth, ref.report["organ"], ref.report["year"], ref.report["form"], len(photo)))
    return out


def _run(args: tuple[str, bytes, str]):
    name, data, engine = args
    os.environ.pop("GOVREPORT_OCR_CACHE", None)  # measure the OCR, not the cache
    if engine == "tesseract":
        from pipeline.devtools import tesseract_engine

        tesseract_engine.install()
    from pipeline.process import process_bytes

    t = perf_counter()
    out = process_bytes(data, name)
    return out, perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(cases: list[Case], workers: int, engine: str) -> dict[str, Score]:
    scores: dict[str, Score] = {}
    t = perf_counter()
    peak = 0
    with ProcessPoolExecutor(workers) as pool:
        for case, (out, secs, rss) in zip(cases, pool.map(_run, [(c.name, c.data, engine) for c in cases])):
            group = ("corpus " if case.name.startswith("hongze") else "generated ") + case.kind
            score(out, case, scores.setdefault(group, Score()))
            peak = max(peak, rss)
            print(f"  {case.name}: {case.pages} pages, {secs:.1f} s, {out.report['status']}", file=sys.stderr)
    wall = perf_counter() - t
    pages = sum(c.pages for c in cases)
    return {"scores": scores, "wall": wall, "pages": pages, "pages_per_s": pages / wall, "peak_rss_mb": peak / 1024}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generated", type=int, default=12, help="generated reports (every 4th photographed)")
    ap.add_argument("--no-corpus", action="store_true", help="leave out the corpus PDF")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engine", choices=("rapidocr", "tesseract"), default="rapidocr")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show-wrong", type=int, default=20)
    args = ap.parse_args(argv)
    cases = _generated(args.generated, args.seed) + ([] if args.no_corpus else _corpus(args.seed))
    m = measure(cases, args.workers, args.engine)
    print(f"engine {args.engine}; {len(cases)} files, {m['pages']} pages in {m['wall']:.1f} s on {args.workers} workers: "
          f"{m['pages_per_s']:.2f} pages/s; peak worker RSS {m['peak_rss_mb']:.0f} MB")
    print("| images | files | cells | right | wrong (unflagged) | flagged (of them right) | organ/year/form right |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for group, s in sorted(m["scores"].items()):
        print(f"| {group} | {s.docs} | {s.cells} | {s.right} ({100 * s.right / max(s.cells, 1):.2f} %) | {s.wrong} | {s.flagged} ({s.flagged_right}) | {s.meta_right}/{s.docs} |")
    for s in m["scores"].values():
        for e in s.errors:
            print("error:", e)
        for w in s.wrong_cells[:args.show_wrong]:
            print("wrong:", w)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
