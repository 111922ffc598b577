"""A study's results rows into a results file: after every batch, and ``paretokit export``.

The study in the Optuna storage is the source of truth (:mod:`paretokit.study.records`); the
results file is brought up to date from it after every batch (atomically, at the cost of the
batch: :class:`StudySync`), so a crash between the two never loses or duplicates a row, and :func:`export_study` gathers every worker's rows of a multi-machine
sweep in one file from the storage alone.
"""

from __future__ import annotations

from pathlib import Path

import optuna

from paretokit.errors import ParetokitError, mask_password
from paretokit.results import ResultsMeta, read_results
from paretokit.results_append import ResultsAppender
from paretokit.study.opening import load_study
from paretokit.study.records import study_meta, study_records
from paretokit.study.storage import require_existing


def export_study(
    storage_url: str, study_name: str, out: Path, *, allow_import: bool = False
) -> int:
    """Rebuild the results rows of a study from its trials' user attributes into ``out``
    (created if absent; rows the file already holds are not added again). Returns the number
    of rows written. The study, not any worker's file, is the source of truth: this is how the
    rows of every worker of a multi-machine sweep are gathered in one file.

    Reading a study never runs code it names: the stored metadata and records are checked
    before use, and a study from before the metadata was stored is rebuilt from its setting's
    problem only when that is a built-in one, or with ``allow_import``. A storage that does not
    exist (an SQLite or journal file path) is refused, never created empty."""
    require_existing(storage_url)
    study = load_study(storage_url, study_name)
    with StudySync(study, Path(out), study_meta(study, allow_import)) as sync:
        return sync(check=True)


class StudySync:
    """Brings a results file up to date with a study, call after call, each at the cost of
    what finished since the last call: the records of trials not synced yet are read, and
    appended with a :class:`~paretokit.results_append.ResultsAppender` (whose parts are folded
    into the file when the sync is closed)."""

    def __init__(self, study: optuna.Study, out: Path, meta: ResultsMeta) -> None:
        self.study, self.meta = study, meta
        self.appender = ResultsAppender(out, meta)
        self.synced: set[int] = set()  # trials whose rows the file holds

    def __call__(self, check: bool = False) -> int:
        """Write the rows of every finished trial that the file does not hold yet; returns the
        number of rows written. With ``check``, rows whose run ids the file holds are compared
        with the study's: a row with the id of one of its runs must be that run (another run
        under the same id is refused, see :func:`~paretokit.results.append_results`)."""
        records, numbers = study_records(self.study, self.meta, skip=self.synced)
        rows = [row for record in records for row in record.rows()]
        written = self.appender.append(rows, check=check) if rows else 0
        self.synced.update(numbers)
        return written

    def close(self) -> None:
        self.appender.close()

    def __enter__(self) -> StudySync:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.appender.__exit__(*exc_info)  # type: ignore[arg-type]


def check_file_is_this_study(study: optuna.Study, out: Path, storage_url: str) -> None:
    """Refuse, before any training, a results file that holds sweep runs under this study's
    name that the study does not have: they come from another study of the same name (its
    storage was deleted, or the file was copied from another storage), and this study's trials
    would get their run ids. Same-id runs the study does have are compared when written."""
    if not out.exists():
        return
    frame = read_results(out).frame
    ours = frame[(frame["study"] == study.study_name) & (frame["kind"] == "sweep")]
    if ours.empty:
        return
    known = {r.run_id for r in study_records(study)[0]}
    foreign = sorted(set(ours["run_id"]) - known)
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise ParetokitError(
            f"{str(out)!r} holds sweep runs of a study named {study.study_name!r} that the study "
            f"of that name in {mask_password(storage_url)} does not have ({shown}): they belong "
            "to another study of the same name (its storage deleted or elsewhere), and new "
            "trials would reuse their run ids; write to another --out file or choose another "
            "--study-name"
        )
