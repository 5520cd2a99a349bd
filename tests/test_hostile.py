"""Issue 8: whatever lands in the drop folder, the run neither crashes, hangs nor leaks, and
every entry is accounted for. One test per finding, named after it, through the real command
line where a hang or crash of the whole run is the failure."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.read.dropfolder import Unreadable, read_regular
from pipeline.store.ingest import run_ingest
from pipeline.devtools.killtest import differences, integrity_problems, store_rows

FIXTURES = Path(__file__).parent / "fixtures"
REPORT = "000_9fd4f163df564d66.txt"
OTHER = "001_a940ca4a84d42417.txt"


def cli(drop: Path, db: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "ingest", str(drop), "--db", str(db), "--quiet", "--workers", "1", *extra],
                          capture_output=True, text=True, timeout=timeout)


def q(db: Path, sql: str, *params):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture
def drop(tmp_path) -> Path:
    d = tmp_path / "drop"
    d.mkdir()
    shutil.copy(FIXTURES / REPORT, d / REPORT)
    return d


def accounted(db: Path) -> tuple[int, int]:
    """(file_index rows, refused_entries rows)."""
    return q(db, "SELECT count(*) FROM file_index")[0][0], q(db, "SELECT count(*) FROM refused_entries")[0][0]


def test_dangling_symlink_is_refused_and_the_rest_ingested(drop, tmp_path):
    os.symlink("no/such/file.txt", drop / "dangling.txt")
    out = cli(drop, tmp_path / "s.duckdb")
    assert out.returncode == 0, out.stderr
    assert q(tmp_path / "s.duckdb", "SELECT count(*) FROM reports")[0][0] == 1
    (reason,), = q(tmp_path / "s.duckdb", "SELECT reason FROM refused_entries WHERE source_path = 'dangling.txt'")
    assert "dangling" in reason and "never followed" in reason


def test_symlink_loop_is_refused_not_fatal(drop, tmp_path):
    os.symlink("loop", drop / "loop")
    os.symlink("b", drop / "a")
    os.symlink("a", drop / "b")
    out = cli(drop, tmp_path / "s.duckdb")
    assert out.returncode == 0, out.stderr
    reasons = dict(q(tmp_path / "s.duckdb", "SELECT source_path, reason FROM refused_entries"))
    assert set(reasons) == {"loop", "a", "b"} and all("a loop" in r for r in reasons.values())
    assert accounted(tmp_path / "s.duckdb") == (1, 3)


def test_fifo_socket_and_device_links_never_block_or_stream(drop, tmp_path):
    os.mkfifo(drop / "x.txt")
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(drop / "sock.txt"))
    os.symlink("/dev/zero", drop / "zero.txt")
    os.symlink("/dev/urandom", drop / "urandom.txt")
    t = time.perf_counter()
    out = cli(drop, tmp_path / "s.duckdb", timeout=60)  # a blocked open or a /dev/zero read would time out
    s.close()
    assert out.returncode == 0, out.stderr
    assert time.perf_counter() - t < 60
    kinds = dict(q(tmp_path / "s.duckdb", "SELECT source_path, kind FROM refused_entries"))
    assert kinds == {"x.txt": "fifo", "sock.txt": "socket", "zero.txt": "symlink", "urandom.txt": "symlink"}


def test_file_turned_into_fifo_after_the_scan_is_an_error_row_not_a_hang(drop):
    os.mkfifo(drop / "pipe.txt")
    with pytest.raises(Unreadable, match="named pipe"):
        read_regular(drop, "pipe.txt")  # O_NONBLOCK + fstat: returns at once
    os.symlink(drop / REPORT, drop / "link.txt")
    with pytest.raises(Unreadable, match="symbolic link"):
        read_regular(drop, "link.txt")  # O_NOFOLLOW


def test_drop_folder_given_through_a_link_is_read(tmp_path, drop):
    os.symlink(drop, tmp_path / "via_link")
    run_ingest(tmp_path / "via_link", tmp_path / "s.duckdb", workers=1)
    assert q(tmp_path / "s.duckdb", "SELECT source_path, error FROM documents") == [(REPORT, None)]


def test_folder_swapped_for_a_link_after_the_scan_does_not_lead_outside(tmp_path):
    drop = tmp_path / "drop"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0")
    drop.mkdir()
    os.symlink(outside, drop / "sub")  # was a folder at scan time; now a link
    with pytest.raises(Unreadable):
        read_regular(drop, "sub/secret.txt")


def test_non_utf8_file_name_is_stored_readably(drop, tmp_path):
    raw = os.path.join(os.fsencode(drop), b"bad\xff\xfe name.txt")
    shutil.copy(FIXTURES / OTHER, raw)
    out = cli(drop, tmp_path / "s.duckdb")
    assert out.returncode == 0, out.stderr
    paths = {r[0] for r in q(tmp_path / "s.duckdb", "SELECT source_path FROM file_index")}
    assert paths == {REPORT, "bad\\xff\\xfe name.txt"}
    assert q(tmp_path / "s.duckdb", "SELECT error FROM documents WHERE source_path = 'bad\\xff\\xfe name.txt'") == [(None,)]
    again = cli(drop, tmp_path / "s.duckdb")  # incremental: the odd name is known, nothing redone
    assert "0 processed, 2 unchanged" in again.stdout


def test_symlink_to_etc_passwd_is_never_read(drop, tmp_path):
    os.symlink("/etc/passwd", drop / "passwd.txt")
    os.symlink("/proc/self/environ", drop / "environ.txt")
    os.symlink(REPORT, drop / "inside.txt")  # even a link within the folder: links are refused, all of them
    out = cli(drop, tmp_path / "s.duckdb")
    assert out.returncode == 0, out.stderr
    db = tmp_path / "s.duckdb"
    assert q(db, "SELECT count(*) FROM documents WHERE raw_text LIKE '%root:%'")[0][0] == 0
    assert q(db, "SELECT source_path FROM file_index") == [(REPORT,)]
    reasons = dict(q(db, "SELECT source_path, reason FROM refused_entries"))
    assert reasons["passwd.txt"] == "symbolic link (to /etc/passwd): links are never followed"
    assert set(reasons) == {"passwd.txt", "environ.txt", "inside.txt"}
    assert "refused: 3 entries not read" in out.stdout


def test_entity_bomb_gets_a_clear_message(drop, tmp_path):
    lol = '<!ENTITY lol "lol">' + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    (drop / "bomb.html").write_text(f'<?xml version="1.0"?><!DOCTYPE lolz [{lol}]><html><body><p>&lol9;</p></body></html>')
    (drop / "xxe.html").write_text('<!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]><html><body><p>&x;</p><table><tr><td>1</td></tr></table></body></html>')
    run_ingest(drop, tmp_path / "s.duckdb", workers=1)
    errors = dict(q(tmp_path / "s.duckdb", "SELECT source_path, error FROM documents WHERE error IS NOT NULL"))
    assert "entity-expansion bomb" in errors["bomb.html"] and "never expanded" in errors["bomb.html"]
    assert "external entities" in errors["xxe.html"]
    assert q(tmp_path / "s.duckdb", "SELECT count(*) FROM documents WHERE raw_text LIKE '%root:%'")[0][0] == 0


def test_truncated_utf8_and_nul_bytes_are_recovered_and_recorded(drop, tmp_path):
    data = (FIXTURES / REPORT).read_bytes()
    assert data[-3:].decode("utf-8")  # ends in a multi-byte character: cutting a byte breaks it
    (drop / "cut.txt").write_bytes(data[:-1])
    (drop / "nul.txt").write_bytes((FIXTURES / OTHER).read_bytes().replace(b"\n", b"\x00\n"))
    db = tmp_path / "s.duckdb"
    run_ingest(drop, db, workers=1)
    rows = {p: (e, json.loads(r)) for p, e, r in q(db, "SELECT source_path, error, repairs FROM documents")}
    assert rows["cut.txt"][0] is None and rows["cut.txt"][1][0]["kind"] == "truncated_utf8"
    assert rows["nul.txt"][0] is None and rows["nul.txt"][1][0]["kind"] == "nul_bytes"
    cells = dict(q(db, "SELECT d.source_path, count(c.value) FROM documents d JOIN reports r USING (document_id) "
                       "LEFT JOIN report_cells c USING (report_id) GROUP BY 1"))
    assert cells["cut.txt"] == cells[REPORT] and cells["nul.txt"] > 0


def test_empty_file_is_an_error(drop, tmp_path):
    (drop / "empty.txt").write_bytes(b"")
    (drop / "blank.txt").write_bytes(b" \r\n\t\n")
    run_ingest(drop, tmp_path / "s.duckdb", workers=1)
    errors = dict(q(tmp_path / "s.duckdb", "SELECT source_path, error FROM documents WHERE error IS NOT NULL"))
    assert errors == {"empty.txt": "empty file: 0 bytes", "blank.txt": "empty file: 5 bytes, no text"}


def test_huge_file_gets_a_size_limit_error_without_being_read(drop, tmp_path):
    (drop / "big.txt").write_bytes((FIXTURES / OTHER).read_bytes() * 30)  # ~230 KB
    with open(drop / "sparse.txt", "wb") as fh:
        fh.truncate(100 * 10**9)  # 100 GB, sparse: reading it whole would take minutes
    t = time.perf_counter()
    out = cli(drop, tmp_path / "s.duckdb", "--max-bytes", "100000")
    assert out.returncode == 0, out.stderr
    assert time.perf_counter() - t < 60
    errors = dict(q(tmp_path / "s.duckdb", "SELECT source_path, error FROM documents WHERE error IS NOT NULL"))
    assert errors["big.txt"].startswith("too big: 227,580 bytes, over the limit of 100,000 bytes")
    assert errors["sparse.txt"].startswith("too big: 100,000,000,000 bytes")
    assert accounted(tmp_path / "s.duckdb") == (3, 0)


def test_two_ingests_at_once_lose_and_duplicate_nothing(tmp_path):
    drop = tmp_path / "drop"
    shutil.copytree(FIXTURES, drop)
    clean = tmp_path / "clean.duckdb"
    assert cli(drop, clean).returncode == 0
    db = tmp_path / "s.duckdb"
    args = [sys.executable, "-m", "pipeline", "ingest", str(drop), "--db", str(db), "--quiet", "--workers", "1"]
    a = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    b = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=120) for p in (a, b)]
    codes = sorted(p.returncode for p in (a, b))
    assert codes[0] == 0, outs  # one of them wrote the store
    for p, (_, err) in zip((a, b), outs):
        assert "Traceback" not in err  # the other one, if refused, said so in one line
    assert cli(drop, db).returncode == 0  # whatever the other did, a rerun completes the store
    assert differences(store_rows(clean), store_rows(db)) == []
    assert integrity_problems(db) == []


def test_file_changed_between_hashing_and_reading_stores_what_was_read(drop, tmp_path):
    db = tmp_path / "s.duckdb"
    target = drop / REPORT
    new = (FIXTURES / OTHER).read_bytes()

    def change_after_plan(document_id: str) -> bool:  # called after hashing, before the workers read
        target.write_bytes(new)
        return True

    run_ingest(drop, db, workers=1, only_documents=change_after_plan)
    stored = q(db, "SELECT document_id, raw_text FROM documents")
    assert stored == [(hashlib.sha256(new).hexdigest(), new.decode("utf-8"))]  # the bytes actually read
    again = run_ingest(drop, db, workers=1)  # the index kept the scan's stat: the change is seen
    assert again.renamed + again.processed == 1
    assert q(db, "SELECT size_bytes FROM file_index") == [(len(new),)]


def test_file_deleted_between_scan_and_read_is_recorded_then_forgotten(drop, tmp_path):
    db = tmp_path / "s.duckdb"
    shutil.copy(FIXTURES / OTHER, drop / "gone.txt")

    def delete_after_plan(document_id: str) -> bool:
        (drop / "gone.txt").unlink(missing_ok=True)
        return True

    run_ingest(drop, db, workers=1, only_documents=delete_after_plan)
    assert q(db, "SELECT error FROM documents WHERE source_path = 'gone.txt'") == [("vanished between the scan and the read",)]
    run_ingest(drop, db, workers=1)
    assert q(db, "SELECT source_path FROM file_index") == [(REPORT,)]
    assert integrity_problems(db) == []


def test_sigterm_commits_what_finished_and_a_rerun_completes(tmp_path):
    from pipeline.devtools.generate import generate_report
    import random

    drop = tmp_path / "drop"
    drop.mkdir()
    rng = random.Random(3)
    for i in range(120):
        g = generate_report(rng, i)
        (drop / g.name).write_bytes(g.data)
    db = tmp_path / "s.duckdb"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "ingest", str(drop), "--db", str(db), "--batch-size", "10", "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    buf = ""
    while "processed 10/" not in buf:  # the first batch is committed: the run is in its loop
        ch = proc.stderr.read(1)
        assert ch, proc.communicate()
        buf += ch
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM:" in err and "processed and committed" in err and "Traceback" not in err
    done = q(db, "SELECT count(*) FROM reports")[0][0]
    assert 10 <= done < 120
    assert integrity_problems(db) == []
    clean = tmp_path / "clean.duckdb"
    run_ingest(drop, clean, workers=1)
    run_ingest(drop, db, workers=1)
    assert differences(store_rows(clean), store_rows(db)) == []
