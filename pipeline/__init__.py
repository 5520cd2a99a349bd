"""govreport's domain library: a report's way from the drop folder to the store.

    drop folder ─▶ read/ ─▶ text/ ─▶ extract/ ─▶ check/ ─▶ process.py ─▶ store/ ─▶ (assets/: Dagster)

Shared by every stage: ``form`` (the standard form as data), ``identities`` (its arithmetic),
``keys`` (partition keys), ``t2s`` (the traditional→simplified map). ``process`` runs one
file through read → check in a worker; ``store`` batches the results into DuckDB.
``devtools/`` (benchmarks, fuzzer, kill test, the synthetic report generator) is not on the
product's import path. Imports only run down this list (``tests/test_layout.py``).
"""
