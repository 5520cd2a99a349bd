"""A page break before every row of the applications table, in generated PDFs: the row at the
break broken across the pages (its label cut in two — （四）无 / 法提供 — and its values on the
upper or the lower half), or merged labels cut by the break; every cell is read back.
(The full sweep, five ways of printing the cut × header repeated or not: ``make pdf-breaks``.)"""

from __future__ import annotations

import random

import pytest

from pipeline.devtools.render import break_positions, generate_document
from pipeline.process import process_bytes

WAYS = (("top", "cut"), ("bottom", "cut"), ("", "cut"), ("top", "bottom"))


@pytest.mark.parametrize("form", ["2019", "2021"])
def test_every_break_position_reads_every_cell(form):
    failures = []
    for n, at in enumerate(break_positions(form)):
        split_row, cut_label = WAYS[n % len(WAYS)]
        g = generate_document(random.Random(at), at, "pdf", form, at, split_row, cut_label, repeat_header=bool(n % 3))
        cells = {(c["table_name"], c["row_key"], c["column_key"]): c for c in process_bytes(g.data, g.name).cells}
        bad = [k for k, v in g.truth.items() if cells[k]["how"] != "read" or cells[k]["value"] != v]
        if bad:
            failures.append((at, split_row, cut_label, len(bad), bad[:2]))
    assert not failures
