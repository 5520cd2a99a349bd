"""Fill the OCR cache for a drop folder without touching the store, so OCR — the slow stage —
runs on many machines (or several Dagster runs) at once, each over its share of the files,
and the single DuckDB writer's ingest later finds every scan already read.

    python -m pipeline ocr DROP_DIR --cache DIR [--part 1/2] [--workers N]

A file belongs to part k of n by its content hash, so the shares are fixed whatever the
machine and never overlap; files already in the cache are skipped. Only PDFs and pictures
are read (a PDF with a text layer is read as usual and caches nothing).
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath

from pipeline.read import ocr_cache
from pipeline.read.decode import DecodeError
from pipeline.read.dropfolder import _SCAN_MAGIC, MAX_SCAN_BYTES, read_regular, scan_folder


@dataclass
class Filled:
    ocr: int = 0  # documents OCR'd now
    cached: int = 0  # already in the cache
    other: int = 0  # not this part's, not a picture, or a PDF with a text layer
    failed: int = 0


def in_part(sha256: str, part: int, parts: int) -> bool:
    return int(sha256[:8], 16) % parts == part


def _one(args: tuple[str, str, str, int, int]) -> str:
    drop_dir, fs_path, cache, part, parts = args
    os.environ[ocr_cache.ENV] = cache
    try:
        data = read_regular(drop_dir, fs_path, MAX_SCAN_BYTES)
    except Exception:  # noqa: BLE001 - the ingest records what cannot be read
        return "failed"
    if not data.startswith(_SCAN_MAGIC):
        return "other"
    sha = hashlib.sha256(data).hexdigest()
    if not in_part(sha, part, parts):
        return "other"
    if ocr_cache.load(sha) is not None:
        return "cached"
    from pipeline.read.formats import read_binary

    try:
        got = read_binary(data, PurePosixPath(fs_path).suffix)
    except DecodeError:
        return "failed"
    return "ocr" if got is not None and got.ocr_cells is not None else "other"


def fill(drop_dir: str, cache: str, part: int = 0, parts: int = 1, workers: int = 1) -> Filled:
    found, _ = scan_folder(drop_dir)
    jobs = [(str(drop_dir), f.fs_path, str(cache), part, parts) for f in found]
    out = Filled()
    with ProcessPoolExecutor(max(1, workers)) as pool:
        for what in pool.map(_one, jobs):
            setattr(out, what, getattr(out, what) + 1)
    return out
