"""Partition keys a person can read: ``2023·深圳市司法局·af160c06``.

The key is what the Dagster UI lists, filters and searches, so it leads with what a reviewer
knows (year and issuing body) and ends with a short content hash that keeps it unique and
stable: the same bytes always get the same key, and the hash maps the key back to its file.
When organ or year is unknown the file name stands in for them.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

SEP = "·"
HASH_LEN = 8  # hex digits of the document's sha256; with year and organ in front, collisions need both to match too
MAX_LABEL = 48
# Dagster refuses control characters and "..." in partition keys; "/" and "\\" read as paths in URLs.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+|\s+")


def _clean(label: str) -> str:
    label = label.encode("utf-8", "replace").decode("utf-8")  # file names with undecodable bytes
    label = _UNSAFE.sub("_", label).replace("...", "…").strip("_")
    return label[:MAX_LABEL] or "_"


def partition_key(organ: str | None, year: int | None, document_id: str, source_path: str) -> str:
    """`year·organ·hash`, or `file name·hash` when organ or year is unknown."""
    head = f"{year}{SEP}{_clean(organ)}" if organ and year else _clean(PurePosixPath(source_path).name)
    return f"{head}{SEP}{document_id[:HASH_LEN]}"


def document_prefix(key: str) -> str:
    """The content-hash part of a partition key (the first hex digits of the document id)."""
    return key.rsplit(SEP, 1)[-1]
