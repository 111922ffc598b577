"""What a sweep stores in its study, and reading it back checked.

The study is the source of truth: every finished trial stores its result rows (one
:class:`~paretokit.results.RunRecord` per training seed, as JSON) in the user attribute
:data:`RECORD`; the study stores its training setting (:data:`SETTING`) and the results-file
metadata (:data:`META`), so a file can be rebuilt from the storage alone, without the problem.
"""

from __future__ import annotations

import json
from collections.abc import Container
from dataclasses import asdict
from typing import Any

import optuna
from optuna.trial import TrialState

from paretokit.errors import ParetokitError, StorageError
from paretokit.problems import get_problem
from paretokit.results import ResultsMeta, RunRecord
from paretokit.study import workers
from paretokit.study.naming import results_meta
from paretokit.study.storage import first_line

RECORD = "paretokit_record"  # trial user attribute: the trial's result rows (one per seed)
SETTING = "paretokit_setting"  # study user attribute: the training setting
META = "paretokit_meta"  # study user attribute: the results-file metadata


def encode(records: list[RunRecord]) -> str:
    """The value of a trial's :data:`RECORD` attribute."""
    return json.dumps([asdict(r) for r in records])


def study_records(
    study: optuna.Study, meta: ResultsMeta | None = None, skip: Container[int] = ()
) -> tuple[list[RunRecord], list[int]]:
    """The run records of the study's finished trials (complete, or failed with a reason),
    each checked against ``meta`` (problem, tasks, one value per task) when given, and the
    numbers of the trials they come from; trials numbered in ``skip`` are not read."""
    records, numbers = [], []
    for t in study.get_trials(deepcopy=False):
        if t.number in skip:
            continue
        raw = t.user_attrs.get(RECORD)
        if raw is None or not (t.state == TrialState.COMPLETE or workers.failed_with_reason(t)):
            continue
        numbers.append(t.number)
        try:
            records.extend(_decode(raw, meta))
        except (TypeError, ValueError) as exc:
            raise StorageError(
                f"trial {t.number} of study {study.study_name!r} holds a damaged run record "
                f"({first_line(exc)})"
            ) from exc
    return records, numbers


def _decode(raw: Any, meta: ResultsMeta | None) -> list[RunRecord]:
    stored = json.loads(raw)  # a list of one record per seed (a dict in older studies)
    records = [RunRecord(**fields) for fields in (stored if isinstance(stored, list) else [stored])]
    if meta is not None:
        for record in records:
            check_record(record, meta)
    return records


def check_record(record: RunRecord, meta: ResultsMeta) -> None:
    """A stored record fits the study's metadata; a ``ValueError`` saying how it does not."""
    k = len(meta.tasks)
    if record.problem != meta.problem or list(record.task_names) != meta.task_names:
        raise ValueError(f"it is of {record.problem} {list(record.task_names)}, not {meta.problem}")
    if record.kind != "sweep" or record.weights is None or len(record.weights) != k:
        raise ValueError("it is not a sweep run with one weight per task")
    for values in (record.metrics, record.losses):
        if values is not None and any(len(values.get(split, [])) != k for split in ("val", "test")):
            raise ValueError("it has not one value per task and split")


def study_meta(study: optuna.Study, allow_import: bool = False) -> ResultsMeta:
    """The results-file metadata a sweep stored in its study (or rebuilt from its setting for a
    study written before the metadata was stored: a user problem only with ``allow_import``)."""
    raw = study.user_attrs.get(META)
    if raw is not None:
        try:
            return ResultsMeta.from_json(json.dumps(raw).encode())
        except (ValueError, KeyError, TypeError, AttributeError, ParetokitError) as exc:
            raise StorageError(
                f"study {study.study_name!r} holds damaged results metadata ({exc})"
            ) from None
    setting = study.user_attrs.get(SETTING)
    if not isinstance(setting, dict) or not isinstance(setting.get("problem"), str):
        raise StorageError(f"study {study.study_name!r} was not written by paretokit sweep")
    problem = setting["problem"]
    if ":" in problem and not allow_import:
        raise StorageError(
            f"study {study.study_name!r} stores no results metadata and names the user problem "
            f"{problem!r}: building it would import and run that code; pass --allow-import if "
            "you trust it"
        )
    return results_meta(get_problem(problem, setting.get("tasks")))
