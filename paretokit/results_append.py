"""Appending batches to a results file at the cost of the batch, for a long writer (a sweep).

:func:`~paretokit.results.append_results` rewrites the whole file: right for one-off writes,
O(N) per batch for a sweep that appends after every batch. A :class:`ResultsAppender` instead
writes each batch as a part beside the file (:mod:`paretokit.results_store`) and keeps the
(run_id, split) keys the file holds in memory, reading only the key columns of parts other
writers added since its last append, so an append costs what the batch costs (plus the
O(log N) merges of parts). The guarantees of ``append_results`` hold: the lock, atomic writes,
a file of another problem refused, a held key never added twice and, when asked, a held key
compared with the new row (another run under the same id is a :class:`ResultsFileError`).
:meth:`ResultsAppender.close` folds the parts into the file, so a finished sweep leaves one file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow.parquet as pq

from paretokit import results_store as store
from paretokit.results import (
    ResultsMeta,
    check_same_meta,
    check_same_runs,
    new_rows,
    read_results,
    to_table,
    write_whole,
)

Key = tuple[str, str]


class ResultsAppender:
    """Appends rows to the results file ``path`` (created on the first append), batch by
    batch; use it as a context manager, or call :meth:`close` when done."""

    def __init__(self, path: str | os.PathLike[str], meta: ResultsMeta) -> None:
        self.path = store.target(path)
        self.meta = meta
        self._keys: set[Key] = set()
        self._indexed: tuple[int, int, int] | None = None  # the file's state when indexed
        self._parts: set[Path] = set()  # parts whose keys are in self._keys

    def append(self, rows: Sequence[dict[str, object]], *, check: bool = True) -> int:
        """Append the rows whose (run_id, split) the file does not hold; returns how many.
        With ``check``, a held row must be the same run as the new one (read from the file:
        O(N), only when a key is held); without, held rows are dropped unread."""
        new = new_rows(rows, self.meta)
        with store.locked(self.path):
            self._refresh()
            held = [k in self._keys for k in zip(new["run_id"], new["split"])]
            if check and any(held):
                frame = read_results(self.path).frame
                check_same_runs(
                    pd.concat(
                        [frame.assign(_source=str(self.path)), new.assign(_source="the new rows")],
                        ignore_index=True,
                    ),
                    self.meta,
                )
            new = new[[not h for h in held]]
            if new.empty:
                return 0
            if self._indexed is None:  # no file yet: the batch is the whole file
                store.drop_orphans(self.path)
                write_whole(self.path, new.reset_index(drop=True), self.meta)
                self._indexed = store.file_state(self.path)
            else:
                store.write_part(self.path, to_table(new, self.meta))
                self._parts = set(store.merge_levels(self.path, store.list_parts(self.path)))
            self._keys.update(zip(new["run_id"], new["split"]))
            return len(new)

    def _refresh(self) -> None:
        """Bring the key index up to date (the caller holds the lock): the whole file when it
        is not the one indexed (first use, or another writer folded the parts in), else the
        key columns of the parts added since."""
        state = store.file_state(self.path)
        parts = store.list_parts(self.path)
        if state != self._indexed:
            self._keys, self._parts, self._indexed = set(), set(), state
            if state is not None:
                held = read_results(self.path)  # validated, parts included
                check_same_meta(held.meta, self.meta, self.path)
                self._keys = set(zip(held.frame["run_id"], held.frame["split"]))
                self._parts = set(parts)
        for part in parts:
            if part not in self._parts:
                keys = pq.read_table(part, columns=["run_id", "split"]).to_pydict()
                self._keys.update(zip(keys["run_id"], keys["split"]))
        self._parts = set(parts)

    def close(self) -> None:
        """Fold the parts into the file (one whole write), so none is left beside it."""
        fold_parts(self.path)

    def __enter__(self) -> ResultsAppender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
            return
        with contextlib.suppress(Exception):  # e.g. the disk that failed: parts stay readable
            self.close()


def fold_parts(path: str | os.PathLike[str]) -> None:
    """Write the file whole with its parts' rows and remove the parts (a no-op without parts)."""
    path = store.target(path)
    with store.locked(path):
        parts = store.list_parts(path)
        if not parts or not path.exists():
            return
        held = read_results(path)
        write_whole(path, held.frame, held.meta)
        store.remove(path, parts)
