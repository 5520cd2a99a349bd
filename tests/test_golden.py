"""Golden files: each real fixture → a readable rendering of what we extract and check.

A difference fails with a unified diff. Regenerate with ``pytest --update`` and review the
diff before committing it."""

import difflib
from pathlib import Path

import pytest

from pipeline.process import process_bytes

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p for p in FIXTURES.iterdir() if p.is_file())


def render(path: Path) -> str:
    p = process_bytes(path.read_bytes(), path.name)
    r = p.report
    out = [f"file: {path.name}", f"organ: {r['organ']}", f"year: {r['year']}", f"form: {r['form']} ({r['form_basis']})",
           f"script: {r['source_script']}", f"status: {r['status']}", f"encoding: {p.document['encoding']}", f"error: {p.document['error']}",
           "sections: " + " / ".join(s["title"] for s in p.sections), ""]
    rows: dict[tuple, list[str]] = {}
    for c in p.cells:
        v = "?" if c["how"] == "unresolved" else "." if c["how"] == "missing" else "_" if c["value"] is None else format(c["value"].normalize(), "f")
        mark = "~" if c["how"] == "split" else ""
        rows.setdefault((c["table_name"], c["row_key"]), []).append(v + mark)
    for (t, k), vals in rows.items():
        out.append(f"{t}.{k}: {' · '.join(vals)}")
    out.append("")
    for m in p.prose:
        out.append(f"prose {m['origin']}: {m['metric']} = {m['value']} {m['unit'] or ''} (line {m['source_line']}) {m['note'] or ''}".rstrip())
    out.append("")
    for c in sorted(p.checks, key=lambda c: c["check_name"]):
        out.append(f"check {c['check_name']}: {'pass' if c['passed'] else 'FAIL'} [{c['severity']}] {c['message']}")
    return "\n".join(out) + "\n"


def test_cases_exist():
    assert len(CASES) >= 10


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_golden(path, request):
    got = render(path)
    golden = GOLDEN / (path.name + ".golden.txt")
    if request.config.getoption("--update"):
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no golden file for {path.name}: run pytest --update and review it"
    want = golden.read_text(encoding="utf-8")
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "golden", "now"))
        pytest.fail("extraction changed:\n" + diff)
