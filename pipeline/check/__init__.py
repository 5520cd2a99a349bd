"""check — one report's extraction in; its check rows out.

The form's identities, completeness, prose against tables (``report_checks``) and the review
groups the UI lists them under (``review_groups``). Checks judge, they never change a cell;
cross-report checks (continuity, two sources) need the store and live in ``store/``.
"""
