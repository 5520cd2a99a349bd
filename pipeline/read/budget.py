"""What one file may cost: seconds of CPU and bytes of memory, whatever is inside it.

A PDF or DOCX is a program for its reader: a 2 MB PDF can inflate to gigabytes and a 65 KB one
can hold millions of drawing operators. File size says nothing about the cost, so each file
runs under a ``Budget``:

* the **hard limits** (``max_seconds``, ``max_memory``) are held from outside, by the run's
  watchdog (``pipeline/store/pool.py``): a worker over either is killed and replaced, and its
  file gets a document row with ``over_time``/``over_memory``'s one-line reason;
* the **cheap limits** derived from them are consulted by the readers before they inflate or
  interpret anything (``max_inflate``: bytes of compressed content a file may inflate to;
  ``max_content``: bytes of page content a PDF's pages may make the interpreter run through),
  so the usual bombs are refused in milliseconds with a clear reason (``OverBudget``), and
  ``check_time`` lets a reader stop itself between pages when no watchdog runs (a direct
  ``process_bytes`` call) — and gives a later per-page budget (OCR) its hook.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from pipeline.read.decode import DecodeError

GiB = 1 << 30
MiB = 1 << 20
DEFAULT_MAX_SECONDS = 60.0  # a 500-page text PDF (the page limit) reads in ~25 s of CPU; hongze_2024.pdf (5 pages) in 0.6 s
DEFAULT_MAX_MEMORY = 768 * MiB  # hongze_2024.pdf peaks at 56 MiB in one process, a 10 MB text (the size limit) at ~320 MiB;
# with the tree's margin (pool.py) the run stays under 1.5 GB of summed RSS (make fuzz)
INFLATE_SHARE = 4  # the reader holds inflated content several times over (pdfminer: bytes, tokens, objects)
CONTENT_SHARE = 64  # hongze_2024.pdf: 129 KB of page content read in 0.6 s, so 12 MiB (of 768 MiB) is ~55 s: about the time limit


def size_text(n: float) -> str:
    """1 GiB, 256 MiB, 1.5 GiB: how the limits are printed."""
    if n >= GiB:
        return f"{n / GiB:.3g} GiB"
    return f"{n / MiB:.3g} MiB"


def parse_size(text: str | int) -> int:
    """'1GiB', '512MiB', '1.5G', '800M' or a number of bytes → bytes (for --max-memory)."""
    if isinstance(text, int):
        return text
    t = str(text).strip().upper().replace(" ", "").removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": MiB, "G": GiB, "T": 1 << 40}
    scale = units.get(t[-1:], 1)
    number = t[:-1] if t[-1:] in units else t
    try:
        value = float(number) * scale
    except ValueError:
        raise ValueError(f"not a size: {text!r} (e.g. 1GiB, 512MiB, or bytes)") from None
    if value < 64 * MiB:
        raise ValueError(f"a file needs more than {size_text(value)} to be read at all: use 64MiB or more")
    return int(value)


class OverBudget(DecodeError):
    """The file would cost more than its budget: not read. str() is the one-line reason."""


@dataclass(frozen=True)
class Budget:
    """One file's allowance. Readers consult it; the watchdog enforces the hard limits."""

    max_seconds: float = DEFAULT_MAX_SECONDS
    max_memory: int = DEFAULT_MAX_MEMORY
    started: float = field(default=0.0, compare=False)  # process CPU time when the file began (see start())

    @property
    def max_inflate(self) -> int:
        """Compressed content (PDF streams, DOCX parts) may inflate to at most this in all."""
        return self.max_memory // INFLATE_SHARE

    @property
    def max_content(self) -> int:
        """Bytes of page content the PDF interpreter may run through, summed over the pages
        (a stream shared by 400 pages counts 400 times: it is interpreted 400 times)."""
        return self.max_memory // CONTENT_SHARE

    def start(self) -> Budget:
        """This budget, its clock started now (the file's reading begins)."""
        global _granted
        _granted = 0.0
        return replace(self, started=time.process_time())

    def check_time(self, where: str = "") -> None:
        """Raise OverBudget when the file has used its seconds, plus any granted for OCR'd pages
        (a reader calls it between pages)."""
        limit = self.max_seconds + _granted
        if self.started and time.process_time() - self.started > limit:
            raise OverBudget(over_time(limit) + (f" ({where})" if where else ""))

    def refuse_inflate(self, what: str) -> OverBudget:
        return OverBudget(f"{what} would inflate past {size_text(self.max_inflate)}: not read (--max-memory)")


# Scanned pages get their own time: a 40-page scan is not over a text file's budget because it
# has 40 pages. The OCR reader grants seconds page by page (``grant_seconds``); the worker pool
# hooks the grant into the watchdog's shared state, so the limit still holds from outside.
OCR_PAGE_SECONDS = 60.0  # a 200-dpi page takes ~3 s of one core (make bench-ocr); 20× that is not a page we should read
_granted = 0.0
_grant_hook = None


def set_grant_hook(hook) -> None:
    """The worker process's way to tell its watchdog about granted seconds (pool.py)."""
    global _grant_hook
    _grant_hook = hook


def grant_seconds(seconds: float) -> None:
    """Allow the file in hand `seconds` more (called by the OCR reader before each page)."""
    global _granted
    _granted += seconds
    if _grant_hook:
        _grant_hook(seconds)


def _libc_trim():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


_TRIM = _libc_trim()


def release_freed_memory() -> None:
    """Hand the heap's freed pages back to the system (glibc's ``malloc_trim``).

    glibc keeps freed memory in the process for reuse, so a worker that once held a page
    picture (≈ 170 MB of arrays at 200 dpi) stays that large while it reads text files: an OCR
    worker measured 400 MB resident after five scans, 220 MB with a trim after each page.
    The tree's memory (what the watchdog and `make fuzz` sum) is resident memory. A trim after
    a page's arrays cost ≈ 0.1 s of CPU (5 pages: 16.7–17.0 s without, 17.2–17.7 s with), so it
    is called after each OCR'd document and after each task, never after every file or page.
    """
    if _TRIM is not None:
        _TRIM(0)


def over_time(max_seconds: float) -> str:
    return f"took more than {max_seconds:g} s to read: not read (--max-seconds)"


def over_memory(max_memory: int, note: str = "") -> str:
    return f"needed more than {size_text(max_memory)}{note}: not read (--max-memory)"


UNLIMITED = Budget(max_seconds=float("inf"), max_memory=1 << 62)
DEFAULT = Budget()
