"""Every file in sql/ runs against a fresh DuckDB; the README's example queries run."""

import re
from pathlib import Path

import duckdb
import pytest

from pipeline.store.db import connect

SQL = sorted((Path(__file__).parent.parent / "sql").glob("*.sql"))
README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", SQL, ids=lambda p: p.name)
def test_sql_file_runs(tmp_path, path):
    con = connect(tmp_path / "fresh.duckdb")
    con.execute("CREATE TEMP TABLE stage_report_ids (report_id VARCHAR, document_id VARCHAR)")
    con.execute("CREATE TEMP TABLE stage_check_ids (report_id VARCHAR)")
    con.execute("CREATE TEMP TABLE stage_source_ids (report_id VARCHAR)")
    con.execute("CREATE TEMP TABLE source_batch_ids (report_id VARCHAR)")
    con.execute("CREATE TEMP TABLE stage_source_cell_ids (report_id VARCHAR)")
    con.execute("CREATE TEMP TABLE stage_waivers AS SELECT * FROM waivers LIMIT 0")
    con.execute("CREATE TEMP TABLE stage_refused AS SELECT source_path, kind, reason FROM refused_entries LIMIT 0")
    text = path.read_text(encoding="utf-8")
    code = re.sub(r"'[^']*'|--[^\n]*", "", text)  # bound parameters, outside strings and comments
    numbered = max((int(n) for n in re.findall(r"\$(\d+)", code)), default=0)  # $1 … are counts here
    con.execute(text, [1] * numbered if numbered else ["x"] * code.count("?"))


def test_readme_queries_run(con):
    queries = re.findall(r"```sql\n(.*?)```", README, flags=re.S)
    assert len(queries) >= 3
    for q in queries:
        assert con.execute(q).fetchall() is not None


def test_readme_commands_exist():
    assert "make run" in README and "make test" in README and "make bench" in README
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    for target in ("run:", "test:", "bench:", "ui:"):
        assert target in makefile
