"""Opening a sweep's study: created or resumed, its stored setting checked.

Optuna's :class:`~optuna.study.Study` keeps the storage it runs on private, and the workers
need that storage for what a study has no public method for (study system attributes, trial
heartbeats), so a study is opened together with the storage object it was opened on
(:class:`OpenedStudy`).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

import optuna

from paretokit.errors import ParetokitError, StorageError, mask_password
from paretokit.results import ResultsMeta
from paretokit.study.naming import SETTING_DEFAULTS
from paretokit.study.records import META, SETTING
from paretokit.study.sampler_check import check_sampling
from paretokit.study.storage import first_line, open_storage


@dataclass
class OpenedStudy:
    """A study and the storage object it was opened on."""

    study: optuna.Study
    storage: optuna.storages.BaseStorage


def open_study(
    storage_url: str,
    name: str,
    meta: ResultsMeta,
    setting: dict[str, object],
    sampling: dict[str, object],
    sampler: optuna.samplers.BaseSampler,
    heartbeat_interval: int = 60,
    grace_period: int = 180,
) -> OpenedStudy:
    """Create the study ``name`` (one objective per task, in the metrics' directions) or resume
    it: a resumed study must have been run with ``setting`` and sampled with ``sampling``. The
    results-file metadata is stored with it (what ``export`` needs without the problem)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the front end reports progress
    storage = open_storage(storage_url, heartbeat_interval, grace_period)
    try:
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            directions=[t.direction for t in meta.tasks],
            sampler=sampler,
            load_if_exists=True,
        )
    except ValueError as exc:  # e.g. an existing study with other directions
        raise StorageError(mask_password(f"study {name!r} cannot be used: {exc}")) from exc
    except Exception as exc:
        raise StorageError(
            mask_password(f"cannot reach storage {storage_url!r}: {first_line(exc)}")
        ) from exc
    stored = study.user_attrs.get(SETTING)
    if stored is None:
        study.set_user_attr(SETTING, setting)
    elif {**SETTING_DEFAULTS, **stored} != setting:  # older studies: one seed
        raise ParetokitError(
            f"study {name!r} in {mask_password(storage_url)} was run with {stored}, not {setting}; "
            "choose another --study-name"
        )
    check_sampling(study, storage_url, sampling)
    if META not in study.user_attrs:
        study.set_user_attr(META, json.loads(meta.to_json()))
    names = metric_names(meta)
    if study.metric_names != names:  # what optuna-dashboard labels the objectives with
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(names)
    return OpenedStudy(study, storage)


def metric_names(meta: ResultsMeta) -> list[str]:
    """The study's objective names: task, metric, unit and direction, e.g.
    ``"U0: mae [eV] (minimize)"`` (optuna-dashboard shows them on its axes and tables)."""
    return [
        f"{t.name}: {t.metric}{f' [{t.unit}]' if t.unit else ''} ({t.direction})"
        for t in meta.tasks
    ]


def load_study(storage_url: str, name: str) -> optuna.Study:
    """An existing study, for reading; a :class:`StorageError` naming the studies there when it
    does not exist."""
    storage = open_storage(storage_url)
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = sorted(optuna.get_all_study_names(storage))
        known = ", ".join(names) if names else "none"
        raise StorageError(
            f"no study {name!r} in {mask_password(storage_url)} (studies there: {known})"
        ) from None
    except Exception as exc:
        raise StorageError(
            mask_password(f"cannot reach storage {storage_url!r}: {first_line(exc)}")
        ) from exc
