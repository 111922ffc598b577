"""Where a results table lives on disk: one Parquet file, plus the parts appended since it was
last written whole.

Rewriting the whole file for every appended batch costs O(N) per batch, O(N²) over a sweep.
So a long writer (:class:`~paretokit.results.ResultsAppender`) writes each batch as a small
*part*, a Parquet file of the same schema and metadata in the hidden folder
``.<file>.parts/`` beside the file, and folds the parts into the file once, when it is done.
Readers read the file and its parts as one table, so a report during a sweep sees every row.

Parts are merged by levels, as a log-structured merge tree: a batch is a level-0 part, and
:data:`FANOUT` parts of one level are merged into one part of the next level. A row is thus
rewritten O(log N) times over a sweep and a reader opens at most ``FANOUT − 1`` parts per level.

Every write is atomic (a temporary file in the same folder, then ``os.replace``) and every
writer holds the advisory lock :func:`locked`. A merge writes its result before it removes its
sources, and folding the parts into the file writes the file before it removes the parts, so a
crash at any point leaves each row in the file or a part (at worst twice, identically: readers
drop identical duplicates). Readers take no lock: they read the file and the parts they list,
and read again when a part vanished or the file changed meanwhile (:func:`read_snapshot`).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from paretokit.errors import ResultsFileError

FANOUT = 8  # parts of one level merged into one part of the next
_SNAPSHOT_TRIES = 5


def target(path: str | os.PathLike[str]) -> Path:
    """The file a path names, symlinks resolved once: the lock and the atomic replace act on
    the target, so a link stays a link and writers through a link and through its target
    share one lock."""
    return Path(os.path.realpath(path))


def parts_dir(path: Path) -> Path:
    """The hidden folder of ``path``'s appended parts."""
    return path.with_name(f".{path.name}.parts")


def list_parts(path: Path) -> list[Path]:
    """The parts appended to ``path`` and not yet folded into it, oldest first: every part of
    a higher level holds older rows than any part of a lower level (:func:`merge_levels`
    always merges the oldest parts of a level), and names sort by time within a level."""
    folder = parts_dir(path)
    try:
        names = [p for p in os.listdir(folder) if p.endswith(".parquet")]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [folder / n for n in sorted(names, key=lambda n: (-_level(n), n))]


def part_level(part: Path) -> int:
    return _level(part.name)


def _level(name: str) -> int:
    return int(name.split("-", 1)[0][1:])


def file_state(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file is replaced: inode, size and modification time."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def read_snapshot(path: Path) -> tuple[pa.Table | None, list[tuple[Path, pa.Table]]]:
    """The file's table (None when there is no file) and its parts' tables, read without a lock
    as one consistent state: read again when the file was replaced or a part removed meanwhile
    (a writer folding or merging parts); after a few tries, under the lock."""
    for _ in range(_SNAPSHOT_TRIES):
        before = file_state(path)
        parts = list_parts(path)
        try:
            main = pq.read_table(path) if before is not None else None
            tables = [(p, pq.read_table(p)) for p in parts]
        except FileNotFoundError:
            continue
        if file_state(path) == before:
            return main, tables
    with locked(path):
        main = pq.read_table(path) if path.exists() else None
        return main, [(p, pq.read_table(p)) for p in list_parts(path)]


def write_part(path: Path, table: pa.Table, level: int = 0) -> Path:
    """Write ``table`` as a new part of ``path`` at ``level`` (atomically); the caller holds
    the lock. Names sort by level, then by time: oldest first within a level."""
    folder = parts_dir(path)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise ResultsFileError(f"cannot write next to {str(path)!r}: {exc}") from exc
    part = folder / f"L{level:02d}-{time.time_ns():020d}-{os.getpid()}.parquet"
    write_table_atomic(part, table, what=str(path))
    return part


def merge_levels(path: Path, parts: Sequence[Path]) -> list[Path]:
    """Merge the :data:`FANOUT` oldest parts of any level that has that many into one part of
    the next level, until no level has (the caller holds the lock); returns the parts left."""
    parts = list(parts)
    while True:
        levels = Counter(part_level(p) for p in parts)
        full = sorted(level for level, n in levels.items() if n >= FANOUT)
        if not full:
            return parts
        same = [p for p in parts if part_level(p) == full[0]][:FANOUT]
        table = pa.concat_tables([pq.read_table(p) for p in same])
        merged = write_part(path, table, full[0] + 1)
        remove(path, same)
        parts = [p for p in parts if p not in same] + [merged]


def drop_orphans(path: Path) -> None:
    """Remove the parts left beside a file that no longer exists (a crashed writer's, then the
    file deleted by hand): they belong to the deleted file, not to a new one at that path. The
    caller holds the lock and is about to create the file."""
    if not path.exists():
        remove(path, list_parts(path))


def remove(path: Path, parts: Sequence[Path]) -> None:
    """Remove ``path``'s parts that are folded in elsewhere; the folder too once it is empty."""
    for p in parts:
        p.unlink(missing_ok=True)
    if parts:
        try:
            parts_dir(path).rmdir()
        except OSError:  # not empty (a part still to fold), or gone: keep it
            pass


def write_table_atomic(dest: Path, table: pa.Table, what: str | None = None) -> None:
    """Write ``table`` to ``dest`` through a temporary file in the same folder and a rename;
    a failure (e.g. a full disk) leaves whatever was at ``dest`` untouched."""
    shown = what or str(dest)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent or ".")
    except OSError as exc:
        raise ResultsFileError(f"cannot write {shown!r}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, dest)
    except OSError as exc:  # e.g. [Errno 28] No space left on device: the old file is intact
        Path(tmp).unlink(missing_ok=True)
        kept = "left unchanged" if Path(shown).exists() else "not created"
        raise ResultsFileError(
            f"cannot write {shown!r}: {exc.strerror or exc} (the file is {kept})"
        ) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``.<file>.lock`` beside ``path``; the lock file is
    removed again on the way out, so none is left beside the user's file.

    Removing a lock file safely: it is unlinked only by its holder, while holding it, and a
    process that obtained a lock checks that the file it locked is still the one at the path
    (same inode), else it locks afresh; so at most one process holds the lock of the current
    file, and a waiter on a removed file never proceeds.
    """
    lock = path.with_name(f".{path.name}.lock")
    while True:
        try:
            fh = open(lock, "a")
        except OSError as exc:
            raise ResultsFileError(f"cannot write next to {str(path)!r}: {exc}") from exc
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            current = os.stat(lock).st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        fh.close()  # the holder before us removed this file: lock the one at the path now
    with fh:
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
            fcntl.flock(fh, fcntl.LOCK_UN)
