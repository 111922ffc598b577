"""The sweep: an Optuna multi-objective study over linear-scalarization weights.

Each trial draws loss weights w uniformly on the simplex (Dirichlet(1)) from K
Optuna-suggested numbers u_k ∈ [0, 1): with E_k = −log(1 − u_k) ~ Exp(1) for uniform u_k,
w = E / Σ E ~ Dirichlet(1, …, 1). Any Optuna sampler can drive the u_k; the default is a
scrambled Sobol (QMC) sequence, which covers the simplex more evenly than random draws for a
small budget. The trial trains the problem's model on ``Σ_k w_k L_k`` and reports the
validation metrics, one objective per task with that metric's direction.

``trials`` is the study's total budget: finished trials (complete, or failed with a reason
such as a NaN loss) count; re-running resumes. The study in the Optuna storage is the source
of truth — every finished trial stores its result rows in its user attributes — and the
results file is brought up to date from it, so a crash between the two never loses or
duplicates a row.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import socket
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, Trial, TrialState

from paretokit import analysis
from paretokit.errors import MethodError, ParetokitError, StorageError
from paretokit.methods._fixed import FixedWeights
from paretokit.problems import Problem, get_problem
from paretokit.results import (
    STATUS_FAILED,
    Results,
    ResultsMeta,
    RunRecord,
    TaskMeta,
    append_results,
    existing_run_ids,
    read_results,
)
from paretokit.train import (
    RunConfig,
    TrainingDiverged,
    describe_device,
    resolve_device,
    to_device,
    train_run,
)

SAMPLERS = ("qmc", "random", "tpe", "nsga2")
_RECORD = "paretokit_record"
_SETTING = "paretokit_setting"
_FAILURE = "paretokit_failure"
_META = "paretokit_meta"


@dataclass
class SweepConfig:
    """What ``paretokit sweep`` runs; None means the problem's default."""

    problem: str = "qm9"
    tasks: str | int | Sequence[str] | None = None
    trials: int = 16
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int = 0
    storage: str | None = None
    study_name: str | None = None
    out: Path = Path("results.parquet")
    device: str = "auto"
    sampler: str = "qmc"
    heartbeat_interval: int = 60  # seconds between a running trial's heartbeats
    grace_period: int = 180  # seconds without a heartbeat before a trial is failed and retried


@dataclass
class SweepCallbacks:
    """Progress hooks for a front end; all optional."""

    on_start: Callable[[str, int, int], None] | None = None  # study name, done, total
    on_trial_start: Callable[[int, list[float]], None] | None = None  # number, weights
    on_epoch: Callable[[int, int], None] | None = None  # epoch, epochs
    on_trial_end: Callable[[int, str, str], None] | None = None  # number, status, error


@dataclass
class SweepOutcome:
    """What a sweep did and where its results are."""

    study_name: str
    storage: str
    out: Path
    finished: int
    new_trials: int
    failed: int
    frontier: pd.DataFrame
    results: Results | None
    problem: str
    tasks: list[str] = field(default_factory=list)


def simplex_weights(trial: Trial, k: int) -> list[float]:
    """Weights w ~ Dirichlet(1, …, 1) on the K-simplex from K suggested uniforms (see module doc)."""
    u = [trial.suggest_float(f"u{i}", 0.0, 1.0) for i in range(k)]
    e = [-math.log1p(-min(x, 1.0 - 1e-16)) for x in u]
    total = sum(e)
    if total <= 0.0:  # every u_k = 0: the draw carries no direction; take the centre
        return [1.0 / k] * k
    return [x / total for x in e]


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    if name == "qmc":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.QMCSampler(
                qmc_type="sobol",
                scramble=True,
                seed=seed,
                warn_independent_sampling=False,
                warn_asynchronous_seeding=False,
            )
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    raise ParetokitError(f"unknown sampler {name!r}; known: {', '.join(SAMPLERS)}")


def default_storage(out: Path) -> str:
    """The embedded default: an SQLite Optuna storage next to the results file."""
    return f"sqlite:///{(out.parent / 'paretokit-studies.db').resolve()}"


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
    try:
        if url.endswith(".log") and "://" not in url:
            backend = optuna.storages.journal.JournalFileBackend(url)
            return optuna.storages.JournalStorage(backend)
        params = inspect.signature(optuna.storages.RDBStorage).parameters
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if "heartbeat_stale_trial_callback" in params:  # Optuna ≥ 4.9
                key = "heartbeat_stale_trial_callback"
                retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=3)
            else:
                key = "failed_trial_callback"
                retry = optuna.storages.RetryFailedTrialCallback(max_retry=3)
            return optuna.storages.RDBStorage(
                url,
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                **{key: retry},
            )
    except ImportError as exc:
        raise StorageError(
            f"storage {url!r} needs a database driver that is not installed ({exc}); "
            "for PostgreSQL: pip install 'paretokit[postgres]'"
        ) from exc
    except Exception as exc:  # SQLAlchemy/driver errors have no common base worth naming
        raise StorageError(f"cannot open storage {url!r}: {_first_line(exc)}") from exc


def run_sweep(config: SweepConfig, callbacks: SweepCallbacks | None = None) -> SweepOutcome:
    """Run (or resume) the sweep study until it holds ``config.trials`` finished trials."""
    cb = callbacks or SweepCallbacks()
    if config.trials < 1:
        raise ParetokitError("--trials must be at least 1 (it is the study's total budget)")
    if config.sampler not in SAMPLERS:
        raise ParetokitError(f"unknown sampler {config.sampler!r}; known: {', '.join(SAMPLERS)}")
    problem = get_problem(config.problem, config.tasks)
    device = resolve_device(config.device)
    run_cfg = RunConfig(
        epochs=config.epochs or problem.defaults.epochs,
        batch_size=config.batch_size or problem.defaults.batch_size,
        lr=config.lr or problem.defaults.lr,
        seed=config.seed,
        device=device,
    )
    if run_cfg.epochs < 1 or run_cfg.batch_size < 1 or run_cfg.lr <= 0:
        raise ParetokitError("--epochs and --batch-size must be ≥ 1 and --lr > 0")
    meta = results_meta(problem)
    out = Path(config.out)
    if out.exists():
        read_results(out)  # a foreign or damaged --out file is an error before any training
    setting = {
        "problem": problem.name,
        "tasks": problem.task_names,
        "epochs": run_cfg.epochs,
        "batch_size": run_cfg.batch_size,
        "lr": run_cfg.lr,
        "seed": run_cfg.seed,
    }
    study_name = config.study_name or default_study_name(setting)
    storage_url = config.storage or default_storage(out)
    study = _open_study(storage_url, study_name, meta, setting, config)

    _recover_dead_local_trials(study)
    _sync_results(study, out, meta)
    data = to_device(problem.splits(), device)
    device_name = describe_device(device)
    start_finished = _count_finished(study)
    if cb.on_start:
        cb.on_start(study_name, min(start_finished, config.trials), config.trials)

    def objective(trial: Trial) -> list[float]:
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", os.getpid())
        w = simplex_weights(trial, problem.n_tasks)
        if cb.on_trial_start:
            cb.on_trial_start(trial.number, w)
        record = RunRecord(
            study=study_name,
            problem=problem.name,
            run_id=f"sweep:{study_name}:{trial.number}",
            kind="sweep",
            method="sweep",
            seed=run_cfg.seed,
            task_names=problem.task_names,
            epochs=run_cfg.epochs,
            batch_size=run_cfg.batch_size,
            lr=run_cfg.lr,
            device=device_name,
            weights=w,
            trial=trial.number,
            options={"sampler": config.sampler},
        )
        try:
            result = train_run(
                problem,
                FixedWeights(problem.n_tasks, weights=w),
                run_cfg,
                on_epoch=cb.on_epoch,
                splits=data,
            )
        except (TrainingDiverged, MethodError) as exc:
            record.status, record.error = STATUS_FAILED, str(exc)
            trial.set_user_attr(_FAILURE, str(exc))
            trial.set_user_attr(_RECORD, json.dumps(asdict(record)))
            raise
        record.metrics, record.losses = result.metrics, result.losses
        record.train_seconds, record.step_ms = result.train_seconds, result.step_ms
        trial.set_user_attr(_RECORD, json.dumps(asdict(record)))
        return result.metrics["val"]

    def after_trial(study: optuna.Study, trial: FrozenTrial) -> None:
        _sync_results(study, out, meta)
        if cb.on_trial_end:
            status = "ok" if trial.state == TrialState.COMPLETE else STATUS_FAILED
            cb.on_trial_end(trial.number, status, str(trial.user_attrs.get(_FAILURE, "")))

    while _count_finished(study) + _count_running(study) < config.trials:
        try:
            study.optimize(
                objective,
                n_trials=1,
                catch=(TrainingDiverged, MethodError),
                callbacks=[after_trial],
            )
        except KeyboardInterrupt:
            _requeue_interrupted(study)
            raise
    finished = _count_finished(study)
    results = read_results(out) if out.exists() else None
    frontier = (
        analysis.sweep_frontier(results, "val", study_name)
        if results is not None
        else pd.DataFrame()
    )
    failed = sum(1 for t in study.get_trials(deepcopy=False) if _FAILURE in t.user_attrs)
    return SweepOutcome(
        study_name=study_name,
        storage=storage_url,
        out=out,
        finished=finished,
        new_trials=finished - start_finished,
        failed=failed,
        frontier=frontier,
        results=results,
        problem=problem.name,
        tasks=problem.task_names,
    )


def export_study(storage_url: str, study_name: str, out: Path) -> int:
    """Rebuild the results rows of a study from its trials' user attributes into ``out``
    (created if absent; rows the file already holds are not added again). Returns the number
    of rows written. The study, not any worker's file, is the source of truth: this is how the
    rows of every worker of a multi-machine sweep are gathered in one file."""
    storage = open_storage(storage_url)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        names = sorted(optuna.get_all_study_names(storage))
        known = ", ".join(names) if names else "none"
        raise StorageError(
            f"no study {study_name!r} in {storage_url} (studies there: {known})"
        ) from None
    except Exception as exc:
        raise StorageError(f"cannot reach storage {storage_url!r}: {_first_line(exc)}") from exc
    return _sync_results(study, Path(out), _study_meta(study))


def _study_meta(study: optuna.Study) -> ResultsMeta:
    """The results-file metadata a sweep stored in its study (or rebuilt from its setting for a
    study written before the metadata was stored)."""
    raw = study.user_attrs.get(_META)
    if raw is not None:
        return ResultsMeta.from_json(json.dumps(raw).encode())
    setting = study.user_attrs.get(_SETTING)
    if setting is None:
        raise StorageError(f"study {study.study_name!r} was not written by paretokit sweep")
    return results_meta(get_problem(setting["problem"], setting["tasks"]))


def results_meta(problem: Problem) -> ResultsMeta:
    """The results-file metadata of a problem's task selection."""
    return ResultsMeta(
        problem.name,
        tuple(TaskMeta(t.name, t.metric, t.higher_is_better, t.unit) for t in problem.tasks),
    )


def default_study_name(setting: dict[str, object]) -> str:
    tasks = "+".join(setting["tasks"])  # type: ignore[arg-type]
    return (
        f"{setting['problem']}-{tasks}-e{setting['epochs']}-b{setting['batch_size']}"
        f"-lr{setting['lr']:g}-s{setting['seed']}"
    )


def _open_study(
    storage_url: str, name: str, meta: ResultsMeta, setting: dict[str, object], config: SweepConfig
) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the front end reports progress
    storage = open_storage(storage_url, config.heartbeat_interval, config.grace_period)
    directions = [t.direction for t in meta.tasks]
    try:
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            directions=directions,
            sampler=make_sampler(config.sampler, config.seed),
            load_if_exists=True,
        )
    except ValueError as exc:  # e.g. an existing study with other directions
        raise StorageError(f"study {name!r} cannot be used: {exc}") from exc
    except Exception as exc:
        raise StorageError(f"cannot reach storage {storage_url!r}: {_first_line(exc)}") from exc
    stored = study.user_attrs.get(_SETTING)
    if stored is None:
        study.set_user_attr(_SETTING, setting)
    elif stored != setting:
        raise ParetokitError(
            f"study {name!r} in {storage_url} was run with {stored}, not {setting}; "
            "choose another --study-name"
        )
    if _META not in study.user_attrs:  # what `export` needs to write a file without the problem
        study.set_user_attr(_META, json.loads(meta.to_json()))
    return study


def _finished(trial: FrozenTrial) -> bool:
    """A trial that used up budget: complete, or failed for a reason of its own (e.g. NaN)."""
    return trial.state == TrialState.COMPLETE or (
        trial.state == TrialState.FAIL and _FAILURE in trial.user_attrs
    )


def _count_finished(study: optuna.Study) -> int:
    return sum(1 for t in study.get_trials(deepcopy=False) if _finished(t))


def _count_running(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def _sync_results(study: optuna.Study, out: Path, meta: ResultsMeta) -> int:
    """Write the rows of every finished trial that the results file does not hold yet; returns
    the number of rows written."""
    have = existing_run_ids(out)
    rows = []
    for t in study.get_trials(deepcopy=False):
        raw = t.user_attrs.get(_RECORD)
        if raw is None or not _finished(t):
            continue
        record = RunRecord(**json.loads(raw))
        if record.run_id not in have:
            rows.extend(record.rows())
    return append_results(out, rows, meta) if rows else 0


def _recover_dead_local_trials(study: optuna.Study) -> None:
    """Fail and re-queue RUNNING trials that this machine started and whose process is gone
    (a killed sweep), so a resumed sweep retrains their weights at once instead of waiting
    for the heartbeat grace period."""
    host = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if t.user_attrs.get("host") == host and not _pid_alive(int(t.user_attrs.get("pid", -1))):
            study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})


def _requeue_interrupted(study: optuna.Study) -> None:
    """After Ctrl-C, queue the interrupted trial's weights so the resumed sweep trains them."""
    pid = os.getpid()
    for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        if t.user_attrs.get("pid") == pid and _FAILURE not in t.user_attrs and t.params:
            if not any(
                u.user_attrs.get("retry_of") == t.number for u in study.get_trials(deepcopy=False)
            ):
                study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
