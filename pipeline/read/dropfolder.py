"""The drop folder, read defensively: people and scrapers put anything there.

Rules (README, "What the drop folder tolerates"):

* Only regular files are read. Symbolic links are never followed — not even to a file inside
  the folder — so nothing outside the folder (``/etc/passwd``, ``/proc/self/environ``, a key)
  can reach the store, and a dangling link or a link loop is just an entry with a reason.
  FIFOs, sockets and devices are refused at the scan; a file that turns into one later is
  caught by ``fstat`` on the opened descriptor, which is opened ``O_NONBLOCK`` (a FIFO never
  blocks) and ``O_NOFOLLOW``, walking down from the folder with ``dir_fd`` so that a folder
  swapped for a link between scan and read cannot lead outside either.
* Files over ``max_bytes`` are not read: they get a document row with the error (their id is a
  fingerprint of size, first and last MiB — reading them is what the limit avoids).
* Names that are not UTF-8 are stored readably, undecodable bytes as ``\\xNN``.
* Every entry the scan does not pass on is a ``Refusal`` with a one-line reason, stored in
  ``refused_entries``: files in = ``file_index`` rows + ``refused_entries`` rows.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass



DEFAULT_MAX_BYTES = 10_000_000  # 10 MB: ~30x its size in worker memory (50 MB measured at 1.4 GB)
MAX_SCAN_BYTES = 200_000_000  # PDFs and pictures: scans run to 20–100 MB and are read page by page (images.py limits pages and pixels)
_SCAN_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8", b"RIFF")
FINGERPRINT_SPAN = 1 << 20  # bytes hashed from each end of an over-size file
_READ = 1 << 20

_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_OPEN_DIR = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC


@dataclass(frozen=True)
class Refusal:
    source_path: str  # readable relative path (see display_path)
    kind: str  # symlink · fifo · socket · device · hidden · vanished · unreadable · name_clash
    reason: str  # one line


@dataclass(frozen=True)
class Found:
    source_path: str  # readable relative path: the store's key
    fs_path: str  # the relative path as the file system has it (may hold surrogate escapes)
    size_bytes: int
    mtime_ns: int


class Unreadable(OSError):
    """The entry could not be read as a regular file inside the folder; str() is the reason."""


class TooBig(Exception):
    def __init__(self, size: int, limit: int, fingerprint: str):
        super().__init__(f"too big: {size:,} bytes, over the limit of {limit:,} bytes (raise it with --max-bytes)")
        self.size, self.fingerprint = size, fingerprint


def display_path(fs_path: str) -> str:
    """A relative path as the store writes it: valid UTF-8 kept, other bytes as ``\\xNN``."""
    return os.fsencode(fs_path).decode("utf-8", errors="backslashreplace")


def one_line(text: str) -> str:
    """For messages: a name with newlines or control characters printed on one line."""
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


def _saved_page_of(folder: str, entries) -> str | None:
    """`报告_files` beside `报告.html` (or .htm): the folder a browser saves a page's pictures in."""
    if not folder.endswith("_files"):
        return None
    stem = folder[: -len("_files")]
    names = {e.name for e in entries}
    return next((stem + ext for ext in (".html", ".htm", ".shtml") if stem + ext in names), None)


def scan_folder(drop_dir: str | os.PathLike) -> tuple[list[Found], list[Refusal]]:
    """Walk the folder without following links: regular files in name order (a folder's files,
    then its sub-folders), and a refusal for every other entry. Never raises for an entry."""
    found: list[Found] = []
    refused: list[Refusal] = []
    names: set[str] = set()
    root = os.fspath(drop_dir)
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        here = os.path.join(root, rel_dir) if rel_dir else root
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if rel_dir:
                refused.append(Refusal(display_path(rel_dir), "unreadable", f"folder not scanned: {exc.strerror}"))
                continue
            raise
        subdirs = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            shown = display_path(rel)
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                refused.append(Refusal(shown, "vanished", f"gone during the scan ({exc.strerror})"))
                continue
            mode = st.st_mode
            if entry.name.startswith("."):
                what = "folder" if stat.S_ISDIR(mode) else "file"
                refused.append(Refusal(shown, "hidden", f"hidden {what} (name starts with '.'): not read"))
            elif stat.S_ISLNK(mode):
                refused.append(Refusal(shown, "symlink", _link_reason(entry.path)))
            elif stat.S_ISDIR(mode):
                page = _saved_page_of(entry.name, entries)
                if page:  # a browser's "save complete page" folder: its pictures are read with the page (webpage.py)
                    refused.append(Refusal(shown, "page_assets", f"the pictures of the saved page {page}: read with it, not as reports"))
                else:
                    subdirs.append(rel)
            elif stat.S_ISREG(mode):
                if shown in names:
                    refused.append(Refusal(shown + f" [{rel.encode('utf-8', 'surrogateescape')!r}]", "name_clash",
                                           "its readable name equals another file's: rename it"))
                    continue
                names.add(shown)
                found.append(Found(shown, rel, st.st_size, st.st_mtime_ns))
            else:
                kind, what = _special(mode)
                refused.append(Refusal(shown, kind, f"{what}: only regular files are read"))
        stack.extend(reversed(subdirs))
    return found, refused


def _special(mode: int) -> tuple[str, str]:
    if stat.S_ISFIFO(mode):
        return "fifo", "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket", "a Unix socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device", "a device file"
    return "special", "not a regular file"


def _link_reason(path: str) -> str:
    try:
        target = display_path(os.readlink(path))
    except OSError:
        target = "?"
    try:
        os.stat(path)
        state = ""
    except OSError as exc:
        state = "dangling, " if exc.errno == 2 else ("a loop, " if exc.errno == 40 else f"{exc.strerror}, ")
    return one_line(f"symbolic link ({state}to {target}): links are never followed")


def open_regular(drop_dir: str | os.PathLike, fs_path: str) -> tuple[int, os.stat_result]:
    """Open a file below the folder for reading, component by component with ``dir_fd`` and
    ``O_NOFOLLOW`` (no link anywhere on the way), ``O_NONBLOCK`` (a FIFO never blocks); the
    opened descriptor must be a regular file. Returns (fd, fstat)."""
    parts = fs_path.split("/")
    fd = None
    try:
        fd = os.open(drop_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # the folder itself may be a link: its owner chose it
        for part in parts[:-1]:
            nxt = os.open(part, _OPEN_DIR, dir_fd=fd)
            os.close(fd)
            fd = nxt
        fd_file = os.open(parts[-1], _OPEN_FILE, dir_fd=fd)
    except OSError as exc:
        if exc.errno == 40:  # ELOOP: the entry is a link now
            raise Unreadable(f"became a symbolic link after the scan: links are never followed") from None
        if exc.errno == 20:  # ENOTDIR: a folder on the way became something else
            raise Unreadable("a folder on its path changed after the scan") from None
        if exc.errno == 2:
            raise Unreadable("vanished between the scan and the read") from None
        raise Unreadable(f"cannot be opened: {exc.strerror}") from None
    finally:
        if fd is not None:
            os.close(fd)
    st = os.fstat(fd_file)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd_file)
        kind, what = _special(st.st_mode)
        raise Unreadable(f"is {what} since the scan: only regular files are read")
    return fd_file, st


def limit_for(fd: int, max_bytes: int) -> int:
    """The size limit of this file: a PDF or a picture (a scan) has its own, larger one."""
    try:
        head = os.pread(fd, 16, 0)
    except OSError:
        return max_bytes
    return max(max_bytes, MAX_SCAN_BYTES) if head.startswith(_SCAN_MAGIC) else max_bytes


def read_regular(drop_dir: str | os.PathLike, fs_path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The file's bytes, read through one descriptor (what is processed is exactly what was
    read, even if the file changes meanwhile). Raises Unreadable, or TooBig past max_bytes
    (past MAX_SCAN_BYTES for a PDF or a picture)."""
    fd, st = open_regular(drop_dir, fs_path)
    try:
        max_bytes = limit_for(fd, max_bytes)
        if st.st_size > max_bytes:
            raise TooBig(st.st_size, max_bytes, _fingerprint(fd, st.st_size))
        chunks = []
        got = 0
        while True:
            try:
                chunk = os.read(fd, min(_READ, max_bytes + 1 - got))
            except OSError as exc:
                raise Unreadable(f"read failed: {exc.strerror}") from None
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
            if got > max_bytes:  # grew past the limit while being read
                size = os.fstat(fd).st_size
                raise TooBig(size, max_bytes, _fingerprint(fd, size))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _fingerprint(fd: int, size: int) -> str:
    """Identity of an over-size file without reading it whole (a sparse 1 TB file must not
    take an hour): sha256 over its size and its first and last MiB."""
    h = hashlib.sha256(b"govreport-oversize\0%d\0" % size)
    h.update(os.pread(fd, FINGERPRINT_SPAN, 0))
    h.update(os.pread(fd, FINGERPRINT_SPAN, max(0, size - FINGERPRINT_SPAN)))
    return h.hexdigest()


def unreadable_id(source_path: str, reason: str) -> str:
    """A stable document id for an entry with no bytes to hash (it vanished, or turned into a
    FIFO): derived from its name and reason, never equal to a content hash in practice."""
    return hashlib.sha256(f"govreport-unreadable\0{source_path}\0{reason}".encode("utf-8", "surrogatepass")).hexdigest()


def content_id(drop_dir: str | os.PathLike, fs_path: str, source_path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The document id a worker will give this file: sha256 of its bytes, streamed; the
    fingerprint when it is over the limit; a name-derived id when it cannot be read."""
    try:
        fd, st = open_regular(drop_dir, fs_path)
    except Unreadable as exc:
        return unreadable_id(source_path, str(exc))
    try:
        max_bytes = limit_for(fd, max_bytes)
        if st.st_size > max_bytes:
            return _fingerprint(fd, st.st_size)
        h = hashlib.sha256()
        got = 0
        while chunk := os.read(fd, _READ):
            h.update(chunk)
            got += len(chunk)
            if got > max_bytes:
                size = os.fstat(fd).st_size
                return _fingerprint(fd, size)
        return h.hexdigest()
    except OSError as exc:
        return unreadable_id(source_path, f"read failed: {exc.strerror}")
    finally:
        os.close(fd)
