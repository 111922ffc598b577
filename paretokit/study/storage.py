"""Optuna storages from URLs: the embedded default, opening with retries, and one clear error.

Users choose a backend with the URL Optuna accepts (``sqlite:///…``, ``postgresql://…``,
``mysql://…``) or a ``.log`` path for a journal file. RDB storages get heartbeats, so a crashed
worker's trial is failed after the grace period and retried (:mod:`paretokit.study.workers`).
"""

from __future__ import annotations

import functools
import inspect
import random
import re
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna

from paretokit.errors import ParetokitError, StorageError, mask_password
from paretokit.study import workers
from paretokit.study.config import STORAGE_FILE

_OPEN_ATTEMPTS = 5
_SCHEMA_RACE = re.compile(r"already exists|duplicate key|unique|database is locked", re.I)


def default_storage(out: Path) -> str:
    """The embedded default: an SQLite Optuna storage next to the results file."""
    return f"sqlite:///{(out.parent / STORAGE_FILE).resolve()}"


def open_storage(
    url: str, heartbeat_interval: int = 60, grace_period: int = 180
) -> optuna.storages.BaseStorage:
    """An Optuna storage from any URL Optuna accepts. RDB storages (SQLite, PostgreSQL, MySQL)
    get heartbeats, so a crashed worker's trial is failed after the grace period and retried
    with the same weights by another worker. A ``.log`` path gives a journal file storage."""
    if heartbeat_interval < 1 or grace_period <= heartbeat_interval:
        raise ParetokitError(
            "--heartbeat-interval must be ≥ 1 s and --grace-period longer than it "
            f"(got {heartbeat_interval} and {grace_period})"
        )
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            return _open(url, heartbeat_interval, grace_period)
        except ImportError as exc:
            raise StorageError(
                f"storage {mask_password(url)!r} needs a database driver that is not installed ({exc}); "
                "for PostgreSQL: pip install 'paretokit[postgres]'"
            ) from exc
        except Exception as exc:  # SQLAlchemy/driver errors have no common base worth naming
            # workers started together race to create the schema: the loser finds it made
            if attempt + 1 < _OPEN_ATTEMPTS and _SCHEMA_RACE.search(str(exc)):
                time.sleep(0.2 + random.random())
                continue
            raise StorageError(
                mask_password(f"cannot open storage {url!r}: {first_line(exc)}")
            ) from exc
    raise AssertionError("unreachable")


def _open(url: str, heartbeat_interval: int, grace_period: int) -> optuna.storages.BaseStorage:
    if url.endswith(".log") and "://" not in url:
        lock = workers.FlockLock(f"{url}.flock")  # released by the kernel if a worker is killed
        backend = optuna.storages.journal.JournalFileBackend(url, lock_obj=lock)  # type: ignore[arg-type]
        return optuna.storages.JournalStorage(backend)
    params = inspect.signature(optuna.storages.RDBStorage).parameters
    key = (  # renamed in Optuna 4.9
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback" in params
        else "failed_trial_callback"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url,
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            **{key: workers.requeue_stale},
        )


def require_existing(url: str) -> None:
    """A reader's check: a missing SQLite or journal file is an error, not a new empty one."""
    path = None
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :].split("?", 1)[0])
    elif "://" not in url:
        path = Path(url)
    if path is not None and str(path) not in ("", ":memory:") and not path.is_file():
        raise StorageError(f"no storage at {mask_password(url)}: {str(path)!r} does not exist")


def storage_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A storage that fails mid-sweep (e.g. SQLite's disk is full; Optuna then says "exceeding
    max length") is one :class:`StorageError` naming the cause; the finished trials are in the
    storage and the results file as before."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except optuna.exceptions.StorageInternalError as exc:
            cause = exc.__cause__ or exc.__context__ or exc
            raise StorageError(
                mask_password(
                    f"the Optuna storage failed ({first_line(cause)}); finished trials are kept: "
                    "free disk space or fix the storage, then re-run the same command to resume"
                )
            ) from exc

    return wrapper


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
