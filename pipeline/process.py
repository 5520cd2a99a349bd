"""One dropped file → every row it contributes to the store. Pure: bytes in, rows out.

This is the unit of parallel work: it never touches the database, so workers can run it on
both cores and the single writer loads the results in batches.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath
from time import perf_counter

from pipeline.check.report_checks import (
    CHECK_NAMES,
    IDENTITY_NAMES,
    CheckResult,
    completeness_checks,
    identity_checks,
    prose_consistency,
    prose_sums,
)
from pipeline.read.budget import DEFAULT, Budget
from pipeline.read.decode import DecodeError, decode_bytes, html_to_text
from pipeline.read.formats import ocr_cell_index, page_index, read_binary
from pipeline.extract.cells import is_read
from pipeline.extract.ocr_digits import decide_ocr
from pipeline.extract.tables import extract_tables
from pipeline.form import canonical_label
from pipeline.keys import partition_key
from pipeline.extract.meta import read_meta
from pipeline.text.normalize import normalize
from pipeline.extract.organs import resolve_in_text as resolve_organ
from pipeline.extract.prose import prose_metrics, stat_table_metrics

PIPELINE_VERSION = "2"  # bump to re-extract unchanged files after an extraction change


def report_id_for(document_id: str) -> str:
    """A report is its document's content: 16 hex characters are unique enough and readable
    as a Dagster partition key. A renamed file keeps its report."""
    return document_id[:16]


@dataclass
class Processed:
    document: dict
    report: dict
    cells: list[dict] = field(default_factory=list)
    prose: list[dict] = field(default_factory=list)
    sections: list[dict] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, for the benchmark


class LineIndex:
    """Character offset → 1-based line number in the normalized text."""

    def __init__(self, text: str):
        self._starts = [0]
        pos = text.find("\n")
        while pos >= 0:
            self._starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    def __call__(self, offset: int | None) -> int | None:
        return None if offset is None else bisect_right(self._starts, offset)


def cells_digest(cells: list[dict]) -> str:
    """A digest of every field of every cell ('' for none): the sorted cell lines, so it
    depends on the set of cells, not their order. Copies of a report that read alike share
    it, so the two-source comparison reads and compares one of them (sources.py); computed
    here, once per report, instead of over the store at every batch. Strings are repr'd, so
    None and the text 'None' differ."""
    if not cells:
        return ""
    lines = sorted(
        f"{c['table_name']}\x1f{c['row_key']}\x1f{c['column_key']}\x1f{c['value']}\x1f{c['raw']!r}\x1f"
        f"{c['source_line']}\x1f{c['page']}\x1f{c['how']}\x1f{c['candidates']!r}"
        for c in cells
    )
    return hashlib.blake2b("\x1e".join(lines).encode("utf-8"), digest_size=16).hexdigest()


def _check_rows(report_id: str, results: list[CheckResult]) -> list[dict]:
    return [
        {
            "report_id": report_id,
            "check_name": r.check_name,
            "severity": r.severity,
            "passed": r.passed,
            "expected": r.expected,
            "actual": r.actual,
            "location": r.location,
            "message": r.message,
            "details": json.dumps(r.details, ensure_ascii=False, default=str) if r.details else "[]",  # most checks pass bare
        }
        for r in results
    ]


def process_bytes(data: bytes, source_path: str, budget: Budget = DEFAULT, images: dict[str, bytes] | None = None) -> Processed:
    """Decode, normalize, understand, extract and check one file. Never raises for bad
    input: an unreadable file becomes a document row with its error and a failed check. The
    readers consult `budget` before inflating or interpreting (read/budget.py); its hard limits
    are held by the run's watchdog, which calls ``unreadable_file`` for a file over them.
    `images`: the pictures a saved web page shows from beside it (src → bytes, read by the
    ingest inside the drop folder only); its pictured tables are OCR'd in place."""
    document_id = hashlib.sha256(data).hexdigest()
    report_id = report_id_for(document_id)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    doc = {
        "document_id": document_id, "source_path": source_path, "size_bytes": len(data), "encoding": None,
        "raw_text": None, "normalized_text": None, "repairs": "[]", "ingested_at": now, "error": None,
        "pipeline_version": PIPELINE_VERSION,
    }
    report = {
        "report_id": report_id, "document_id": document_id, "organ": None, "year": None, "form": None,
        "form_basis": None, "source_script": None, "status": "error", "title": None, "source_path": source_path,
        "partition_key": partition_key(None, None, document_id, source_path), "cells_digest": "",
    }
    t0 = perf_counter()
    try:
        binary = read_binary(data, PurePosixPath(source_path).suffix, budget.start())  # PDF, DOCX; refused formats raise
        decoded = binary.decoded if binary else decode_bytes(data, PurePosixPath(source_path).suffix)
        ocr_cells = binary.ocr_cells if binary else None
        if images and decoded.is_html:
            decoded, ocr_cells = _pictured_tables(decoded, images)
    except DecodeError as exc:
        doc["error"] = str(exc)
        return Processed(doc, report, checks=_check_rows(report_id, _unreadable(CheckResult("document_readable", False, "error", "text or HTML", "unreadable", source_path, str(exc)))))
    except Exception as exc:  # noqa: BLE001 - a reader bug on one file must not stop the run (make fuzz found a zlib.error)
        doc["error"] = f"not read: the reader failed ({type(exc).__name__}: {exc})"[:500]
        return Processed(doc, report, checks=_check_rows(report_id, _unreadable(CheckResult("document_readable", False, "error", "a readable file", "reader failed", source_path, doc["error"]))))
    doc["encoding"] = decoded.encoding
    doc["raw_text"] = decoded.text
    try:
        return _process_text(decoded, doc, report, t0, binary.places if binary else None, ocr_cells)
    except Exception as exc:  # noqa: BLE001 - a bug on one file must not stop the run; it is recorded
        doc["error"] = f"extraction failed: {type(exc).__name__}: {exc}"
        report["status"] = "error"
        return Processed(doc, report, checks=_check_rows(report_id, _unreadable(CheckResult("document_readable", False, "error", "parsed", "exception", source_path, doc["error"]))))


def _pictured_tables(decoded, images: dict[str, bytes]):
    """A saved page whose tables are pictures: its text with the OCR'd tables in place."""
    from pipeline.read.decode import Decoded
    from pipeline.read.webpage import with_image_tables

    try:
        text, cells, repairs = with_image_tables(decoded.text, images)
    except Exception as exc:  # noqa: BLE001 - a picture must not make the page unreadable
        return Decoded(decoded.text, decoded.encoding, True, (*decoded.repairs, {"kind": "image_table", "note": f"pictures not read: {type(exc).__name__}: {exc}"})), None
    n = sum(1 for r in repairs if r.get("kind") == "image_table" and "table(s)" in r.get("note", ""))
    return Decoded(text, f"{decoded.encoding}; html with {n} picture(s) OCR'd", False, (*decoded.repairs, *repairs)), cells


def _process_text(decoded, doc: dict, report: dict, t0: float, places: list | None = None, ocr_cells: list | None = None) -> Processed:
    report_id = report["report_id"]
    text = html_to_text(decoded.text) if decoded.is_html else decoded.text
    t1 = perf_counter()
    norm = normalize(text)
    t2 = perf_counter()
    doc["normalized_text"] = norm.text
    doc["repairs"] = json.dumps([*getattr(decoded, "repairs", ()), *norm.repairs], ensure_ascii=False)  # decoding's mends first
    line_of = LineIndex(norm.text)
    page_of = page_index(places, text, norm.repairs, norm.text)
    meta = read_meta(norm.text, norm.header)
    report.update(organ=meta.organ, year=meta.year, form=meta.form, form_basis=meta.form_basis,
                  source_script=norm.source_script, title=meta.title,
                  partition_key=partition_key(meta.organ, meta.year, doc["document_id"], doc["source_path"]))
    organ = resolve_organ(meta.organ, norm.text)  # one identity per body whatever name it printed (organs.py)
    report.update(organ_key=organ.key, division_code=organ.division_code)
    out = Processed(doc, report, timings={"decode": t1 - t0, "normalize": t2 - t1})
    out.sections = [
        {"report_id": report_id, "section_no": s.number, "title": s.title, "start_line": line_of(s.start), "end_line": line_of(max(s.start, s.end - 1))}
        for s in meta.sections
    ]
    metrics = prose_metrics(norm.text)
    metrics += stat_table_metrics(norm.text, {m.metric: m.value for m in metrics if m.value is not None})
    out.prose = [
        {"report_id": report_id, "metric": m.metric, "value": m.value, "unit": m.unit, "source_line": line_of(m.offset),
         "sentence": m.sentence[:500], "origin": m.origin, "note": m.note}
        for m in metrics
    ]
    results: list[CheckResult] = [CheckResult("document_readable", True, "error", None, None, None, f"decoded as {decoded.encoding}")]
    missing_meta = [k for k in ("organ", "year") if report[k] is None]
    results.append(CheckResult("metadata_complete", not missing_meta, "warn", "organ and year", ", ".join(missing_meta) + " not found" if missing_meta else None, None,
                               f"organ={meta.organ}, year={meta.year}, form={meta.form} ({meta.form_basis}); {len(meta.sections)} of 6 sections" + (f"; {', '.join(missing_meta)} not found" if missing_meta else "")
                               + (f"; organ_key {organ.key}: {organ.how}" if organ.how else "")))
    tables = None
    if meta.form in ("2019", "2021"):
        spec, tables = extract_tables(norm.text, meta.sections, meta.form)
        if ocr_cells:  # every OCR'd digit confirmed by the identities or flagged (ocr_digits.py)
            ocr_of = ocr_cell_index(ocr_cells, text, norm.repairs, norm.text)
            decide_ocr(spec, tables, lambda c: ocr_of(c.offset))
        for t in tables.values():
            for c in t.cells:
                row_label, col_label = canonical_label(spec.form_id, c.table, c.row_key, c.column_key)
                out.cells.append({
                    "report_id": report_id, "table_name": c.table, "row_key": c.row_key, "column_key": c.column_key,
                    "value": c.value, "raw": c.raw, "source_line": line_of(c.offset), "page": page_of(line_of(c.offset)), "how": c.how,
                    "candidates": " | ".join(c.candidates) if c.candidates else None, "note": c.note or None,
                    "row_label": row_label, "column_label": col_label,
                    "confidence": round(c.ocr.confidence, 4) if c.ocr is not None else None,
                    "box": ",".join(map(str, c.ocr.box)) if c.ocr is not None else None,
                })
        report["cells_digest"] = cells_digest(out.cells)
        t3 = perf_counter()
        out.timings["extract"] = t3 - t2
        results += identity_checks(spec, tables, line_of)
        results += completeness_checks(tables, line_of)
        cells_ok = all(is_read(c.how) for t in tables.values() for c in t.cells)
        report["status"] = "extracted" if cells_ok else ("no_tables" if not any(t.found for t in tables.values()) else "partial")
    elif meta.not_report:
        report["status"] = "not_report"
        results[-1] = CheckResult("metadata_complete", True, "warn", "organ and year", None, None, meta.not_report)
        results += _not_applicable(meta.form, meta.not_report)
    else:
        report["status"] = "legacy" if meta.form == "legacy" else "unknown"
        results += _not_applicable(meta.form)
    results.append(prose_consistency(metrics, tables, line_of))
    results.append(prose_sums(metrics, line_of))
    out.checks = _check_rows(report_id, results)
    t4 = perf_counter()
    out.timings.setdefault("extract", 0.0)
    out.timings["checks"] = t4 - t2 - out.timings["extract"] if tables is None else t4 - t3
    return out


def _unreadable(failure: CheckResult) -> list[CheckResult]:
    """The failed readability check, and every per-document check marked not evaluated, so
    each report shows every check in the UI."""
    skip = {"document_readable", "carry_over_continuity", "normative_documents_stock", "sources_agree"}
    return [failure] + [CheckResult(n, True, "warn", None, None, None, "not evaluated: the file could not be read") for n in CHECK_NAMES if n not in skip]


def _not_applicable(form: str, not_report: str | None = None) -> list[CheckResult]:
    why = f"not applicable: {not_report}" if not_report else f"not applicable: {form} report has no standard tables (statistics go to prose_metrics)"
    return [CheckResult(n, True, "warn", None, None, None, why) for n in (*IDENTITY_NAMES, "tables_complete", "split_resolution", "blank_cells")]


def unreadable_file(document_id: str, source_path: str, size_bytes: int, error: str,
                    expected: str = "a regular file within the size limit") -> Processed:
    """A file the drop-folder rules kept from being read (over the size limit, vanished or no
    longer a regular file after the scan): a document row with its error and the failed
    readability check, like an undecodable file, so no entry is lost from the store."""
    report_id = report_id_for(document_id)
    doc = {
        "document_id": document_id, "source_path": source_path, "size_bytes": size_bytes, "encoding": None,
        "raw_text": None, "normalized_text": None, "repairs": "[]", "ingested_at": datetime.now(timezone.utc).replace(tzinfo=None),
        "error": error, "pipeline_version": PIPELINE_VERSION,
    }
    report = {
        "report_id": report_id, "document_id": document_id, "organ": None, "year": None, "form": None,
        "form_basis": None, "source_script": None, "status": "error", "title": None, "source_path": source_path,
        "partition_key": partition_key(None, None, document_id, source_path), "cells_digest": "",
    }
    failure = CheckResult("document_readable", False, "error", expected, "not read", source_path, error)
    return Processed(doc, report, checks=_check_rows(report_id, _unreadable(failure)))
