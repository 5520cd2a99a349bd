"""store — processed reports in; the DuckDB store out.

Schemas and the ``sql/`` loader (``db``), batch loads and continuity (``load``), the single
writer (``writer``), two sources of one report (``sources``), refused entries, waivers, the
ingest run that drives read → process → store in worker processes (``ingest``), the summary and
the review commands. The only package that writes the store.
"""
