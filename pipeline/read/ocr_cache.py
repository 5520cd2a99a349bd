"""OCR results kept as files, one per document, named by the content's sha256: a rerun, a
rebuild of the store or a schema change reads the file instead of OCRing again, and several
machines (or Dagster runs) can fill one shared folder while a single writer loads the store.

The folder is ``$GOVREPORT_OCR_CACHE`` (the ingest sets it to ``<db>.ocr`` unless it is set);
without it nothing is cached. A file is written to a temporary name and renamed, so a reader
never sees half of one; a file that does not parse, or was made by another OCR version, is
simply OCR'd again and replaced.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path

OCR_VERSION = "4"  # bump when the picture → grid path changes what it reads
ENV = "GOVREPORT_OCR_CACHE"


def cache_dir() -> Path | None:
    d = os.environ.get(ENV)
    return Path(d) if d else None


def _path(sha256: str) -> Path | None:
    d = cache_dir()
    return None if d is None else d / sha256[:2] / f"{sha256}.json.gz"


def load(sha256: str) -> dict | None:
    """The cached OCR of a document, or None."""
    p = _path(sha256)
    if p is None or not p.is_file():
        return None
    try:
        with gzip.open(p, "rt", encoding="utf-8") as f:
            got = json.load(f)
    except (OSError, ValueError, EOFError):
        return None
    return got if got.get("version") == OCR_VERSION else None


def save(sha256: str, result: dict) -> None:
    """Write the document's OCR; a cache that cannot be written is not an error of the file."""
    p = _path(sha256)
    if p is None:
        return
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
            f.write(json.dumps({**result, "version": OCR_VERSION}, ensure_ascii=False).encode("utf-8"))
        os.replace(tmp, p)
    except OSError:
        try:
            os.unlink(tmp)  # type: ignore[possibly-undefined]
        except (OSError, NameError):
            pass
