"""How the store's fourteen checks are grouped for review.

The UI shows one verdict per report and group — the five questions the product asks of every
report — rather than one per check: a reviewer filters by question ("which reports break the
form's own arithmetic?"), and each group's finding lists its checks with their numbers. It also
keeps the Dagster event log to two events per report (one materialization and one verdict
evaluation), which is what lets the UI keep up with thousands of reports (see README,
"Reviewing"). The fourteen checks stay one row each in ``check_results``.
"""

from __future__ import annotations

from pipeline.check.report_checks import CHECK_NAMES
from pipeline.form import IDENTITY_NAMES

REVIEW_GROUPS: dict[str, tuple[str, ...]] = {
    "form_identities": tuple(IDENTITY_NAMES),
    "completeness": ("document_readable", "metadata_complete", "tables_complete", "split_resolution", "blank_cells"),
    "prose_vs_tables": ("prose_consistency", "prose_sums"),
    "year_to_year": ("carry_over_continuity", "normative_documents_stock"),
    "sources": ("sources_agree",),
}

GROUP_DESCRIPTIONS = {
    "form_identities": "The form's printed arithmetic (勾稽关系): applications balance, row totals, results total, review/litigation totals.",
    "completeness": "The file was read, organ and year found, every cell of the form located, run-together numbers cut one way only, blanks listed.",
    "prose_vs_tables": "Counts stated in the text (新收/办结/结转, totals and their 其中 parts) agree with the tables and with each other.",
    "year_to_year": "Carried-over applications and the normative-documents stock continue from the same body's report of the year before.",
    "sources": "Two files of the same report (same body and year, e.g. a PDF and a text dump of it) agree cell by cell.",
}

GROUP_OF = {check: group for group, checks in REVIEW_GROUPS.items() for check in checks}
assert set(GROUP_OF) == set(CHECK_NAMES), "every check belongs to exactly one review group"
