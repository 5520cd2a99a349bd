"""A hostile drop folder through the real command line: nothing may crash, hang or go missing.

``python -m pipeline.devtools.fuzz --files 10000`` (``make fuzz``) writes a temporary folder of real
reports (tests/fixtures) and generated ones, PDFs and DOCX files mutated structurally
(``mutate.py``: objects, streams, filters, page trees, nesting, xref; parts, XML, tables, ZIP
headers — from the corpus PDF and rendered documents), the costly small files of issue 15
(``crafted.py``: a 2 GB-inflating stream, 16 M glyphs, 200,000-deep nesting, nested forms, a
million-cell DOCX), pictures mutated for the OCR reader (``mutate.mutate_picture``: headers
claiming 60,000 px, white decompression bombs, cut, damaged, misnamed), mixed with everything
a drop folder meets —
binary, empty, huge (sparse and dense) and truncated files, mixed encodings, NUL bytes, entity
bombs and external entities, 100,000-deep nesting, rowspan/colspan 100000, PDFs/zips/images
named .txt, odd names (spaces, quotes, newlines, leading dashes, 250 bytes, non-UTF-8 bytes),
symlinks of every kind (to /etc/passwd, /dev/zero, /proc/self/environ, dangling, loops, into
and out of the folder), FIFOs, sockets, chmod-000 files, and files deleted or rewritten while
the run reads them. It runs ``python -m pipeline ingest`` on it, samples the memory of the
process and its workers, and prints: files in, documents out, crashes, hangs, lost files, one
line per kind of refused entry with a sample, the peak memory of the whole process tree
(resident memory of the writer and its workers, summed; must stay under 1.5 GB) and time.

Files in = file_index rows (one per regular file, each pointing at a document row, with an
``error`` when it could not be read) + refused_entries rows (links and other non-files); the
difference is "lost" and must be 0. We run as root, so chmod 000 does not stop a read: those
files are read like any other (for an ordinary user they would be error rows).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import duckdb
import psutil

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
HANG_SECONDS = 1800  # the whole run; a per-file hang shows up as the run never ending
TREE_LIMIT = 1_500_000_000  # peak resident memory of the run's whole process tree (issue 15)
MB = 1_000_000


def _real_reports() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(FIXTURES.iterdir()) if p.is_file()]


def mutations(rng: random.Random, data: bytes) -> bytes:
    """A real report damaged the way transfers and scrapers damage them."""
    kind = rng.randrange(7)
    if kind == 0:  # truncated anywhere
        return data[: rng.randrange(1, len(data))]
    if kind == 1:  # flipped bytes
        b = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return bytes(b)
    if kind == 2:  # NUL bytes at line ends
        return data.replace(b"\n", b"\x00\n")
    if kind == 3:  # mixed encodings: halves in different codecs
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data[::-1]
        mid = len(text) // 2
        return text[:mid].encode("utf-8") + text[mid:].encode("gb18030", "replace")
    if kind == 4:  # duplicated and deleted lines
        lines = data.split(b"\n")
        for _ in range(rng.randint(1, 10)):
            if len(lines) < 2:
                break
            i = rng.randrange(len(lines))
            if rng.random() < 0.5:
                lines.insert(i, lines[i])
            else:
                del lines[i]
        return b"\n".join(lines)
    if kind == 5:  # digits swapped
        b = bytearray(data)
        digits = [i for i, c in enumerate(b) if 48 <= c <= 57]
        for _ in range(min(20, len(digits) // 2)):
            i, j = rng.sample(digits, 2)
            b[i], b[j] = b[j], b[i]
        return bytes(b)
    return data + b"<table><tr><td rowspan=3>1</td><td>x</td></tr></table>" * rng.randint(1, 5)  # injected HTML


def hostile_payloads(rng: random.Random) -> list[tuple[str, bytes]]:
    """One of each hostile content (names chosen here, content as bytes)."""
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
            + ']><html><body><p>&lol9;</p></body></html>')
    external = '<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY net SYSTEM "http://10.255.255.1/x">]><html><body><p>&xxe;&net;</p></body></html>'
    deep = "<html><body>" + "<div>" * 100_000 + "深" + "</div>" * 100_000 + "</body></html>"
    span = '<html><body><table><tr><td rowspan="100000" colspan="100000">1</td><td colspan="100000">2</td></tr>' + \
        '<tr><td rowspan="100000">3</td></tr></table></body></html>'
    zip_ = b"PK\x03\x04" + rng.randbytes(2000)
    png = b"\x89PNG\r\n\x1a\n" + rng.randbytes(2000)
    jpg = b"\xff\xd8\xff\xe0" + rng.randbytes(2000)
    pdf = (FIXTURES / "hongze_2024.pdf").read_bytes()
    from pipeline.devtools import crafted

    return [
        ("crafted_inflate_2g.pdf", crafted.pdf_inflating(2 << 30)), ("crafted_glyphs_16m.pdf", crafted.pdf_shared_glyphs(400, 40_000)),
        ("crafted_nested_200k.pdf", crafted.pdf_nested(200_000)), ("crafted_forms_64m.pdf", crafted.pdf_nested_forms(6, 20)),
        ("crafted_cells_1m.docx", crafted.docx_cells(1_000_000)),
        ("bomb.html", bomb.encode()), ("bomb.txt", bomb.encode()), ("xxe.html", external.encode()),
        ("deep.html", deep.encode()), ("span.html", span.encode()),
        ("pdf_named.txt", pdf), ("zip_named.txt", zip_), ("png_named.txt", png), ("jpg_named.txt", jpg),
        ("broken_pdf.txt", b"%PDF-1.7\n" + rng.randbytes(3000)),
        ("random.txt", rng.randbytes(5000)), ("zeros.txt", bytes(5000)), ("ff.txt", b"\xff" * 5000),
        ("empty.txt", b""), ("spaces.txt", b"   \n\t\n"), ("nul_only.txt", b"\x00" * 100),
        ("utf16_nobom.txt", FIXTURES.joinpath("000_9fd4f163df564d66.txt").read_text("utf-8").encode("utf-16-le")),
        ("one_line_digits.txt", ("1" * 200_000).encode()), ("one_long_line.txt", ("政府信息公开" * 300_000).encode()),
        ("many_pipes.txt", ("|" * 100_000 + "\n") .encode() * 20),
        ("crlf_only.txt", b"\r\n" * 100_000), ("cr_only.txt", FIXTURES.joinpath("001_a940ca4a84d42417.txt").read_bytes().replace(b"\n", b"\r")),
    ]


def odd_names(rng: random.Random) -> list[bytes]:
    return [
        b"with space.txt", b"quote's \"double\".txt", b"new\nline.txt", b"-leading-dash.txt", b"--help.txt",
        b"a" * 246 + b".txt", b"bad\xff\xfe name.txt", b"latin1 \xe9t\xe9.txt", b"tab\tname.txt",
        b"back\\slash.txt", b"\xe4\xb8\xad\xe6\x96\x87\xe5\x90\x8d.txt", b"star*?.txt", b"emoji \xf0\x9f\x98\x80.txt",
        b"bad\\xff name.txt",  # the readable form of a non-UTF-8 name, spelled literally
    ]


def build(folder: Path, files: int, seed: int, huge_mb: int) -> dict[str, int]:
    """Write the hostile folder. Returns counts by kind of what was written."""
    from pipeline.devtools.generate import generate_report

    rng = random.Random(seed)
    folder.mkdir(parents=True)
    counts: Counter = Counter()
    real = _real_reports()
    root = os.fsencode(folder)

    def put(name: bytes, data: bytes, kind: str, sub: bytes = b"") -> None:
        d = os.path.join(root, sub) if sub else root
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as fh:
            fh.write(data)
        counts[kind] += 1

    for name, data in real:
        put(name.encode(), data, "real report")
    for name, data in hostile_payloads(rng):
        put(name.encode(), data, "hostile content")
    for i, name in enumerate(odd_names(rng)):
        put(name, real[i % len(real)][1], "odd name")
    # huge: dense files just over and under the limit, a sparse 100 GB file, a huge single line
    put(b"huge_dense.txt", rng.randbytes(huge_mb * MB), "huge")
    put(b"huge_report_repeated.txt", (real[0][1] * (huge_mb * MB // len(real[0][1]) + 1))[: huge_mb * MB], "huge")
    put(b"under_limit_report.txt", real[1][1] * (9 * MB // len(real[1][1])), "huge")
    with open(os.path.join(root, b"sparse_100G.txt"), "wb") as fh:
        fh.truncate(100 * 1000 * MB)
    counts["huge"] += 1
    # links of every kind, FIFOs, sockets, unreadable files
    links = {
        b"passwd.txt": b"/etc/passwd", b"environ.txt": b"/proc/self/environ", b"zero.txt": b"/dev/zero",
        b"urandom.txt": b"/dev/urandom", b"dangling.txt": b"no/such/file", b"loop": b"loop",
        b"loop_a": b"loop_b", b"loop_b": b"loop_a", b"inside.txt": real[0][0].encode(), b"root_dir": b"/",
        b"up_dir": b"..", b"self_dir": b".", b"abs_inside.txt": os.path.join(root, real[1][0].encode()),
    }
    for name, target in links.items():
        os.symlink(target, os.path.join(root, name))
        counts["symlink"] += 1
    for i in range(3):
        os.mkfifo(os.path.join(root, b"fifo%d.txt" % i))
        counts["fifo"] += 1
    socks = []
    for i in range(2):
        s = socket.socket(socket.AF_UNIX)
        s.bind(os.path.join(root, b"sock%d.txt" % i))
        socks.append(s)
        counts["socket"] += 1
    for s in socks:
        s.close()
    for i in range(3):
        put(b"chmod000_%d.txt" % i, real[i][1], "chmod 000")
        os.chmod(os.path.join(root, b"chmod000_%d.txt" % i), 0)
    put(b".hidden.txt", real[0][1], "hidden")
    os.makedirs(os.path.join(root, b".hidden_dir"))
    counts["hidden"] += 1
    # the bulk: generated reports, mutated real reports, structurally mutated PDFs and DOCX
    # files (the corpus PDF and rendered ones), random binary — in sub-folders
    from pipeline.devtools.mutate import mutate_docx, mutate_pdf, mutate_picture, picture_bases
    from pipeline.devtools.render import generate_document

    pdfs = [(FIXTURES / "hongze_2024.pdf").read_bytes()] + [generate_document(rng, i, "pdf").data for i in range(8)]
    docxs = [generate_document(rng, i, "docx").data for i in range(8)]
    pictures = picture_bases(rng)
    structural: Counter = Counter()
    n = 0
    total_so_far = sum(counts.values())
    while total_so_far + n < files:
        sub = b"bulk%03d" % (n // 1000)
        r = rng.random()
        if r < 0.40:
            g = generate_report(rng, n)
            put(g.name.encode(), g.data, "generated report", sub)
        elif r < 0.48:
            how, data = mutate_pdf(rng, rng.choice(pdfs))
            structural[f"pdf {how}"] += 1
            put(b"pdf%06d_%s.pdf" % (n, how.encode()), data, "mutated PDF", sub)
        elif r < 0.55:
            how, data = mutate_docx(rng, rng.choice(docxs))
            structural[f"docx {how}"] += 1
            put(b"docx%06d_%s.docx" % (n, how.encode()), data, "mutated DOCX", sub)
        elif r < 0.555:  # pictures go to OCR (seconds each when they survive): a few dozen
            how, suffix, data = mutate_picture(rng, pictures)
            structural[f"picture {how}"] += 1
            put(b"img%06d_%s.%s" % (n, how.encode(), suffix.encode()), data, "mutated picture", sub)
        elif r < 0.85:
            name, data = real[rng.randrange(len(real))]
            put(b"mut%06d_" % n + name.encode(), mutations(rng, data), "mutated real report", sub)
        elif r < 0.95:
            put(b"bin%06d.txt" % n, rng.randbytes(rng.randint(0, 4000)), "random binary", sub)
        else:
            put(b"empty%06d.txt" % n, b"", "empty", sub)
        n += 1
    print("structural mutations: " + ", ".join(f"{k} {v}" for k, v in sorted(structural.items())), flush=True)
    return dict(counts)


class MemorySampler(threading.Thread):
    """Peak resident memory of a process and all its children, sampled every 50 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.at_peak: list[int] = []  # resident bytes of each process at the peak, the run's own first
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                procs = [self.proc] + self.proc.children(recursive=True)
                sizes = []
                for p in procs:
                    try:
                        sizes.append(p.memory_info().rss)
                    except psutil.Error:
                        pass
                if sum(sizes) > self.peak:
                    self.peak, self.at_peak = sum(sizes), sizes
            except psutil.Error:
                pass
            time.sleep(0.05)


def saboteur(folder: Path, stop: threading.Event, rng: random.Random, log: list[str]) -> None:
    """While the run reads: delete some files, rewrite others, turn one into a FIFO."""
    names = sorted((folder / "bulk000").iterdir())
    victims = rng.sample(names, min(60, len(names)))
    time.sleep(1.0)
    for i, p in enumerate(victims):
        if stop.is_set():
            break
        try:
            if i % 3 == 0:
                p.unlink()
                log.append(f"deleted {p.name}")
            elif i % 3 == 1:
                p.write_bytes(p.read_bytes()[::-1] if p.exists() else b"rewritten")
                log.append(f"rewrote {p.name}")
            else:
                p.unlink()
                os.mkfifo(p)
                log.append(f"replaced {p.name} with a FIFO")
        except OSError:
            pass
        time.sleep(0.02)


def count_store(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        q = lambda s: con.execute(s).fetchone()[0]  # noqa: E731
        return {
            "file_index": q("SELECT count(*) FROM file_index"),
            "documents": q("SELECT count(*) FROM documents"),
            "documents_with_error": q("SELECT count(*) FROM documents WHERE error IS NOT NULL"),
            "refused": q("SELECT count(*) FROM refused_entries"),
            "refused_by_kind": con.execute("SELECT kind, count(*), min(source_path || ': ' || reason) FROM refused_entries GROUP BY 1 ORDER BY 1").fetchall(),
            "errors_by_kind": con.execute(
                "SELECT regexp_extract(error, '^([^:(0-9]*)', 1) AS k, count(*), min(source_path || ': ' || error) FROM documents "
                "WHERE error IS NOT NULL GROUP BY 1 ORDER BY 2 DESC").fetchall(),
            "passwd_leaked": q("SELECT count(*) FROM documents WHERE raw_text LIKE '%root:x:0:0%'"),
            "paths_in_db": {r[0] for r in con.execute("SELECT source_path FROM file_index UNION ALL SELECT source_path FROM refused_entries").fetchall()},
        }
    finally:
        con.close()


def folder_entries(folder: Path) -> set[str]:
    """Every entry below the folder as the store names them (hidden folders: the folder)."""
    from pipeline.read.dropfolder import display_path

    out = set()
    root = os.fspath(folder)
    for dirpath, dirs, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for name in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d)) or d.startswith(".")]:
            out.add(display_path(name if rel == "." else f"{rel}/{name}"))
        dirs[:] = [d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(dirpath, d))]
    return out


def run(files: int, seed: int, huge_mb: int, keep: bool) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="govreport-fuzz-"))
    try:
        drop, db = tmp / "drop", tmp / "fuzz.duckdb"
        t = time.perf_counter()
        counts = build(drop, files, seed, huge_mb)
        print(f"built {sum(counts.values())} entries in {time.perf_counter() - t:.0f} s: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), flush=True)
        stop = threading.Event()
        sabotage: list[str] = []
        cmd = [sys.executable, "-m", "pipeline", "ingest", str(drop), "--db", str(db), "--quiet"]
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        sampler = MemorySampler(proc.pid)
        sampler.start()
        sab = threading.Thread(target=saboteur, args=(drop, stop, random.Random(seed + 1), sabotage), daemon=True)
        sab.start()
        hang = 0
        try:
            out, err = proc.communicate(timeout=HANG_SECONDS)
        except subprocess.TimeoutExpired:
            hang = 1
            os.killpg(proc.pid, 9)
            out, err = proc.communicate()
        seconds = time.perf_counter() - t
        stop.set()
        sab.join()
        sampler.running = False
        sampler.join()
        crash = int(proc.returncode != 0 and not hang) + err.count("Traceback")
        in_folder_after = folder_entries(drop)  # what the run saw, minus what the saboteur deleted after
        stats = count_store(db) if db.exists() else None
        print(f"run: {seconds:.1f} s, exit {proc.returncode}, peak memory {sampler.peak / 2**20:.0f} MiB (process + workers)")
        print(out.strip())
        if err.strip():
            print("stderr:", err.strip()[-3000:])
        if stats is None:
            print("no store written")
            return 1
        entries_in = stats["file_index"] + stats["refused"]
        lost = sorted(in_folder_after - stats["paths_in_db"])
        # files the saboteur deleted during the run may be in the store (read before deletion)
        # or refused as vanished; entries the run saw but the store lacks are lost
        print(f"files in: {entries_in} entries seen by the run "
              f"({stats['file_index']} regular files → file_index, {stats['refused']} refused); "
              f"built {sum(counts.values())}, saboteur: {len(sabotage)} deletions/rewrites/FIFO swaps during the run")
        print(f"documents out: {stats['file_index']} file_index rows for {stats['file_index']} regular files "
              f"({stats['documents']} distinct documents, {stats['documents_with_error']} with an error row)")
        print(f"crashes {crash}, hangs {hang}, lost {len(lost)}" + (f": {lost[:10]}" if lost else ""))
        print(f"/etc/passwd content in the store: {stats['passwd_leaked']} documents")
        print("refused entries (kind, count, sample):")
        for kind, n, sample in stats["refused_by_kind"]:
            print(f"  {kind:<10} {n:>5}  e.g. {sample.encode('unicode_escape').decode()[:150]}")
        print("error rows (kind, count, sample):")
        for kind, n, sample in stats["errors_by_kind"]:
            print(f"  {kind.strip()[:40]:<40} {n:>5}  e.g. {sample.encode('unicode_escape').decode()[:150]}")
        print(f"peak memory of the process tree {sampler.peak / 2**20:.0f} MiB ({sampler.peak / 1e9:.2f} GB; limit {TREE_LIMIT / 1e9:.1f} GB), time {seconds:.1f} s")
        print("  at the peak, resident MiB of the run and each child: " + " + ".join(f"{b / 2**20:.0f}" for b in sampler.at_peak))
        ok = crash == 0 and hang == 0 and not lost and stats["passwd_leaked"] == 0 and sampler.peak <= TREE_LIMIT
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        if keep:
            print(f"kept {tmp}")
        else:
            for p in tmp.rglob("*"):
                try:
                    if not p.is_symlink():
                        p.chmod(0o700)
                except OSError:
                    pass
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--huge-mb", type=int, default=120, help="size of the dense over-limit files")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    return run(args.files, args.seed, args.huge_mb, args.keep)


if __name__ == "__main__":
    sys.exit(main())
