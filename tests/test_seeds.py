"""The issue's acceptance facts on the five seeds and the wild files, read from a real store."""

from decimal import Decimal

import pytest


def row(con, path, table, row_key):
    got = con.execute(
        """SELECT column_key, value FROM report_cells JOIN reports USING (report_id)
           WHERE source_path = ? AND table_name = ? AND row_key = ? """, [path, table, row_key]).fetchall()
    return dict(got)


APPS = ["natural_person", "commercial_enterprise", "research_institution", "social_welfare_org", "legal_service_org", "other_org", "total"]
REVIEW = ["upheld", "corrected", "other", "pending", "total"]


def vals(d, cols):
    return [None if d.get(c) is None else int(d[c]) if d[c] == d[c].to_integral() else d[c] for c in cols]


def test_seed_000_tables(con):
    p = "000_9fd4f163df564d66.txt"
    assert vals(row(con, p, "applications", "new_received"), APPS) == [1726, 12, 3, 0, 2, 1, 1744]
    assert vals(row(con, p, "applications", "results_total"), APPS) == [1736, 12, 3, 0, 2, 1, 1754]
    assert vals(row(con, p, "active_disclosure", "normative_documents"), ["issued", "repealed", "in_force"]) == [7, 0, 37]


def test_seed_001_partially_granted(con):
    assert vals(row(con, "001_a940ca4a84d42417.txt", "applications", "partially_granted"), APPS) == [11, 1, 0, 0, 0, 0, 12]


def test_seed_002_decimal_fee_and_review(con):
    p = "002_2e123555749eef60.txt"
    assert row(con, p, "active_disclosure", "fees")["amount_10k_yuan"] == Decimal("2.22934")
    assert row(con, p, "active_disclosure", "licensing")["decisions"] == 16103
    assert vals(row(con, p, "review_litigation", "administrative_review"), REVIEW) == [7, 2, 1, 5, 15]
    assert vals(row(con, p, "review_litigation", "litigation_direct"), REVIEW) == [19, 0, 2, 11, 32]
    assert vals(row(con, p, "review_litigation", "litigation_after_review"), REVIEW) == [4, 0, 0, 2, 6]


@pytest.mark.parametrize("path,organ,year,form", [
    ("000_9fd4f163df564d66.txt", "深圳市人民政府办公厅", 2023, "2021"),
    ("001_a940ca4a84d42417.txt", "红谷滩区政府办", 2023, "2021"),
    ("002_2e123555749eef60.txt", "深圳市龙岗区", 2022, "2021"),
    ("003_b373f949265f094e.txt", "深圳市人民政府", 2018, "legacy"),
    ("004_af160c066563daaa.txt", "深圳市司法局", 2023, "2021"),
    ("shanghai_office_2019.html", "上海市人民政府办公厅", 2019, "2019"),
    ("pingtan_2021.txt", "平潭综合实验区", 2021, "2021"),
    ("pingtan_2017.txt", "平潭综合实验区", 2017, "legacy"),
    ("hongze_2024_pdftext.txt", "淮安市洪泽区人民政府", 2024, "2021"),
])
def test_organ_year_form(con, path, organ, year, form):
    assert con.execute("SELECT organ, year, form FROM reports WHERE source_path = ?", [path]).fetchone() == (organ, year, form)


def checks(con, path):
    return dict(con.execute("SELECT check_name, passed FROM check_results JOIN reports USING (report_id) WHERE source_path = ?", [path]).fetchall())


IDENTITIES = ["applications_balance", "applications_row_totals", "applications_results_total", "review_litigation_totals"]


@pytest.mark.parametrize("path", ["000_9fd4f163df564d66.txt", "001_a940ca4a84d42417.txt", "002_2e123555749eef60.txt",
                                  "shanghai_office_2019.html", "hongze_2024_pdftext.txt", "pingtan_2021.txt"])
def test_identities_pass(con, path):
    c = checks(con, path)
    assert all(c[i] for i in IDENTITIES), c


def test_seed_004_fails_completeness_and_prose(con):
    c = checks(con, "004_af160c066563daaa.txt")
    assert c["tables_complete"] is False and c["prose_consistency"] is False
    msg = con.execute("SELECT message FROM check_results JOIN reports USING (report_id) WHERE source_path = ? AND check_name = 'prose_consistency'",
                      ["004_af160c066563daaa.txt"]).fetchone()[0]
    assert "445" in msg and "443" in msg


def test_missing_table_is_missing_not_zero(con):
    got = con.execute("""SELECT count(*), count(value) FROM report_cells JOIN reports USING (report_id)
                         WHERE source_path = ? AND table_name = 'applications'""", ["004_af160c066563daaa.txt"]).fetchone()
    assert got[0] > 0 and got[1] == 0


def test_seed_003_legacy_prose(con):
    m = dict(con.execute("""SELECT metric, value FROM prose_metrics JOIN reports USING (report_id)
                            WHERE source_path = ? AND origin = 'prose'""", ["003_b373f949265f094e.txt"]).fetchall())
    assert m["applications_received"] == 4411
    assert [m[f"applications_received.{k}"] for k in ("online", "letter", "in_person", "fax")] == [3522, 524, 353, 12]
    assert checks(con, "003_b373f949265f094e.txt")["prose_sums"] is True


def test_pingtan_2017_stat_table_split_by_prose(con):
    m = dict(con.execute("""SELECT metric, value FROM prose_metrics JOIN reports USING (report_id)
                            WHERE source_path = ? AND origin = 'stat_table'""", ["pingtan_2017.txt"]).fetchall())
    assert m["active_disclosure_total"] == 2122 and m["active_disclosure_total.cumulative"] == 10037


def test_pingtan_2021_run_together(con):
    p = "pingtan_2021.txt"
    assert vals(row(con, p, "applications", "granted"), APPS) == [27, 0, 0, 2, 0, 1, 30]
    assert vals(row(con, p, "applications", "new_received"), APPS) == [64, 0, 0, 2, 0, 4, 70]
    assert vals(row(con, p, "review_litigation", "litigation_direct"), REVIEW) == [12, 0, 0, 0, 12]
    hows = dict(con.execute("""SELECT table_name, count(*) FILTER (WHERE how = 'split') FROM report_cells JOIN reports USING (report_id)
                               WHERE source_path = ? GROUP BY ALL""", [p]).fetchall())
    assert hows["applications"] == 175
    # 693665 has several cuts and no identity to decide: kept unresolved, with its candidates
    cand = con.execute("""SELECT how, candidates FROM report_cells JOIN reports USING (report_id)
                          WHERE source_path = ? AND row_key = 'normative_documents' LIMIT 1""", [p]).fetchone()
    assert cand[0] == "unresolved" and "69·3·665" in cand[1]
    assert checks(con, p)["split_resolution"] is False


def test_hongze_column_major(con):
    p = "hongze_2024_pdftext.txt"
    assert vals(row(con, p, "active_disclosure", "regulations"), ["issued", "repealed", "in_force"]) == [0, 0, 0]
    assert vals(row(con, p, "active_disclosure", "normative_documents"), ["issued", "repealed", "in_force"]) == [3, 0, 8]
    assert vals(row(con, p, "applications", "new_received"), APPS) == [95, 0, 0, 0, 0, 0, 95]
    assert vals(row(con, p, "applications", "other_handling"), APPS) == [0] * 7
    assert con.execute("""SELECT count(*) FROM report_cells JOIN reports USING (report_id)
                          WHERE source_path = ? AND how NOT IN ('read', 'split')""", [p]).fetchone()[0] == 0


def test_shanghai_2019_form(con):
    p = "shanghai_office_2019.html"
    assert vals(row(con, p, "active_disclosure", "central_procurement"), ["items", "amount"]) == [6, 251000]
    assert vals(row(con, p, "applications", "new_received"), APPS) == [821, 35, None, None, 2, 1, 859]
    assert checks(con, p)["tables_complete"] is True


def test_pdf_reads_like_its_text_twin(con):
    assert con.execute("SELECT error FROM documents WHERE source_path = 'hongze_2024.pdf'").fetchone() == (None,)
    q = """SELECT table_name, row_key, column_key, value, how FROM report_cells JOIN reports USING (report_id)
           WHERE source_path = ? ORDER BY ALL"""
    pdf, twin = con.execute(q, ["hongze_2024.pdf"]).fetchall(), con.execute(q, ["hongze_2024_pdftext.txt"]).fetchall()
    assert len(pdf) == 186 and pdf == twin
    pages = con.execute("""SELECT min(page), max(page), count(page) FROM report_cells JOIN reports USING (report_id)
                           WHERE source_path = 'hongze_2024.pdf'""").fetchone()
    assert pages == (2, 4, 186)


def test_every_file_has_a_document(con, corpus_store):
    files = [p for p in corpus_store[0].iterdir() if p.is_file()]
    assert con.execute("SELECT count(*) FROM file_index").fetchone()[0] == len(files)
