"""Shared fixtures: the real corpus files (copied into tests/fixtures) and a store built from
them once per session in a temporary folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.store.ingest import run_ingest

# The verdict assets follow GOVREPORT_VERDICT_REGIONS (assets/shards.py); the tests expect one per
# year unless a test sets it, whatever the developer's shell has.
os.environ.pop("GOVREPORT_VERDICT_REGIONS", None)

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = sorted(p.name for p in FIXTURES.glob("00*.txt"))


def pytest_addoption(parser):
    parser.addoption("--update", action="store_true", help="rewrite golden files (review the diff!)")


@pytest.fixture(scope="session")
def corpus_store(tmp_path_factory) -> tuple[Path, Path]:
    """(drop folder, db path): every fixture file ingested into a real DuckDB file."""
    root = tmp_path_factory.mktemp("corpus")
    drop = root / "drop"
    shutil.copytree(FIXTURES, drop)
    db = root / "store.duckdb"
    run_ingest(drop, db, workers=2)
    return drop, db


@pytest.fixture
def con(corpus_store):
    c = duckdb.connect(str(corpus_store[1]), read_only=True)
    yield c
    c.close()
