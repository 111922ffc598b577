"""The sweep: an Optuna multi-objective study over linear-scalarization weights.

Each trial trains the problem's model on ``Σ_k w_k L_k`` for weights w on the simplex and
reports the validation metrics, one objective per task with that metric's direction. Where w
comes from is the sampler's business (:mod:`paretokit.sampling`: ``dirichlet`` by default,
``grid``, ``qmc``, ``tpe``, ``nsga2``, ``adaptive``).

**Ask/tell in populations.** The sweep asks up to P trials (``population``; ``"auto"``: as many
as fit the device's memory with their S seeds,
:func:`~paretokit.train.population.auto_population_size` divided by S), trains every (trial,
seed) pair together as one batched model of P·S members
(:func:`~paretokit.train.population.train_population`: members of one seed share its data
batches) and tells each trial its own result. P = 1 trains the trial's seeds one after the
other with ``train_run``, bit for bit what ``compare`` trains. Each row records ``population`` (the batch's size) in ``options``;
a member's ``train_seconds``/``step_ms`` are the batch's wall time divided by its size.

**Seeds.** Every trial (one weight vector) is trained with ``seeds`` training seeds
``seed, seed + 1, …, seed + seeds − 1`` (``seed = 0`` by default: seeds 0 … S−1, exactly the
seeds of ``paretokit compare --seeds S``, whose seed s gives ``RunConfig.seed = s``). A
training seed fixes the model's initialization and the data order, so seed s of a sweep point
and seed s of a method start from the same parameters and see the same batches: the two are
paired. The trial's Optuna objective is the mean over its seeds of each task's validation
metric; the results file holds one row per (trial, seed, split) with ``seed`` = the training
seed and the run id ``sweep:<study>:<trial>:s<seed>``. ``seed`` also seeds the sampler, so
``--seed`` changes both where the weights go and which training seeds run (a study of one
seed, S = 1, trains exactly what older versions trained). A trial is one unit: it is complete
only when all its seeds are, a seed that fails fails the trial (with that seed's reason), and
a trial interrupted between seeds is retrained whole. The default S = 3 costs three times a
single-seed sweep.

**A study-wide budget.** ``trials`` counts complete trials across every worker of the study
(re-running resumes; more workers share the budget, :mod:`paretokit.workers`). A trial that
fails for a reason of its own (a NaN loss, a non-finite metric) is recorded as failed with
the reason; it uses up budget only with ``count_failed``. Otherwise another trial is asked,
and the sweep stops with an error once as many trials failed as the budget asks for.

**Faults.** A trial whose worker died (killed, machine lost) is failed and retrained with the
same weights: at once by a re-run on the same host, else after the heartbeat grace period by
any worker. Ctrl-C fails the trials in training and queues them again, so re-running the
command continues where it stopped.

**Results.** The study in the Optuna storage is the source of truth — every finished trial
stores its result rows in its user attributes — and the results file is brought up to date
from it after every batch (atomically, :func:`~paretokit.results.append_results`), so a crash
between the two never loses or duplicates a row; :func:`export_study` rebuilds the file of a
whole study (every worker's rows) from the storage alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import math
import random
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.trial import Trial, TrialState

from paretokit import analysis, validation, workers
from paretokit.errors import MethodError, ParetokitError, StorageError, mask_password
from paretokit.methods._fixed import FixedWeights
from paretokit.problems import Problem, Split, get_problem
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
from paretokit.sampling import ALIASES, make_sampler, suggest_weights
from paretokit.train import (
    RunConfig,
    RunResult,
    TrainingDiverged,
    check_checkpoint,
    describe_device,
    resolve_device,
    to_device,
    train_run,
    use_threads,
)
from paretokit.workers import TrialCounts

_RECORD = "paretokit_record"  # user attribute: the trial's result rows (a list, one per seed)
_SETTING = "paretokit_setting"
_META = "paretokit_meta"
_SAMPLING = "paretokit_sampling"


DEFAULT_SEEDS = 3  # training seeds per weight vector: a verdict never rests on one seed


@dataclass
class SweepConfig:
    """What ``paretokit sweep`` runs; None means the problem's default."""

    problem: str = "qm9"
    tasks: str | int | Sequence[str] | None = None
    trials: int = 16  # the study's total budget, across all workers
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int = 0  # the sampler's seed and the first training seed (see run_sweep)
    seeds: int = DEFAULT_SEEDS  # training seeds per trial: seed, seed + 1, …, seed + seeds − 1
    checkpoint: str = "last"  # evaluate each run at its last or its best epoch (train.epochs)
    storage: str | None = None
    study_name: str | None = None
    out: Path = Path("results.parquet")
    device: str = "auto"
    sampler: str = "dirichlet"  # one of paretokit.sampling.SAMPLERS
    grid_resolution: int | None = None  # grid sampler: lattice resolution (default: fits trials)
    population: int | str = 1  # trials trained at once as one batched model, or "auto"
    count_failed: bool = False  # whether failed trials (e.g. NaN loss) use up budget
    heartbeat_interval: int = 60  # seconds between a running trial's heartbeats
    grace_period: int = 180  # seconds without a heartbeat before a trial is failed and retried
    threads: int | None = None  # torch CPU threads (None: $OMP_NUM_THREADS, else 1)


@dataclass
class SweepCallbacks:
    """Progress hooks for a front end; all optional. Counts are the study's, across workers."""

    on_start: Callable[[str, TrialCounts, int], None] | None = None  # study, counts, budget
    on_batch_start: Callable[[list[int], list[list[float]]], None] | None = None  # numbers, w
    on_epoch: Callable[[int, int], None] | None = None  # epoch, epochs
    on_trial_end: Callable[[int, str, str], None] | None = None  # number, status, error
    on_progress: Callable[[TrialCounts], None] | None = None  # after each batch, while waiting
    on_wait: Callable[[TrialCounts], None] | None = None  # no free slot: others' trials run
    on_record: Callable[[RunRecord], None] | None = None  # a finished trial, as stored
    on_ask: Callable[[int, int], None] | None = None  # trials asked so far, of how many


@dataclass
class SweepOutcome:
    """What a sweep did and where its results are."""

    study_name: str
    storage: str
    out: Path
    finished: int  # trials that count against the budget
    new_trials: int  # trials this worker finished (complete or failed)
    failed: int  # trials of the study that failed with a reason
    frontier: pd.DataFrame
    results: Results | None
    problem: str
    tasks: list[str] = field(default_factory=list)
    complete: int = 0
    population: int = 1


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
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            return _open_storage(url, heartbeat_interval, grace_period)
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
                mask_password(f"cannot open storage {url!r}: {_first_line(exc)}")
            ) from exc
    raise AssertionError("unreachable")


_OPEN_ATTEMPTS = 5
_SCHEMA_RACE = re.compile(r"already exists|duplicate key|unique|database is locked", re.I)


def _open_storage(
    url: str, heartbeat_interval: int, grace_period: int
) -> optuna.storages.BaseStorage:
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


def _storage_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
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
                    f"the Optuna storage failed ({_first_line(cause)}); finished trials are kept: "
                    "free disk space or fix the storage, then re-run the same command to resume"
                )
            ) from exc

    return wrapper


@_storage_errors
def run_sweep(config: SweepConfig, callbacks: SweepCallbacks | None = None) -> SweepOutcome:
    """Run (or resume, or join as one more worker) the sweep study until it holds
    ``config.trials`` trials that count (see the module docstring)."""
    cb = callbacks or SweepCallbacks()
    if isinstance(config.trials, bool) or not isinstance(config.trials, int) or config.trials < 1:
        raise ParetokitError("--trials must be at least 1 (it is the study's total budget)")
    if config.seeds < 1:
        raise ParetokitError(f"--seeds must be at least 1, got {config.seeds}")
    validation.optional_filter(config.epochs, config.batch_size, config.lr)
    validation.seed(config.seed)
    problem = get_problem(config.problem, config.tasks)
    epochs, batch_size, lr = validation.training_budget(
        problem.defaults, config.epochs, config.batch_size, config.lr
    )
    sampler = make_sampler(
        config.sampler,
        config.seed,
        problem.n_tasks,
        grid_resolution=config.grid_resolution,
        trials=config.trials,
    )
    device = resolve_device(config.device)
    threads = use_threads(config.threads)
    run_cfg = RunConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=config.seed,
        device=device,
        checkpoint=check_checkpoint(config.checkpoint),
    )
    population = population_size(config.population, problem, run_cfg, config.seeds)
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
        "seeds": config.seeds,
        "checkpoint": run_cfg.checkpoint,
    }
    study_name = config.study_name or default_study_name(setting)
    storage_url = config.storage or default_storage(out)
    study = _open_study(storage_url, study_name, meta, setting, config, sampler)

    workers.register(study)  # before any ask: see workers.recover_ownerless
    _recover(study)
    _check_file_is_this_study(study, out, storage_url)
    _sync_results(study, out, meta, check=True)
    data = to_device(problem.splits(), device)
    budget, count_failed = config.trials, config.count_failed
    counts = workers.trial_counts(study)
    if cb.on_start:
        cb.on_start(study_name, counts, budget)
    batch = _Batch(
        study=study,
        problem=problem,
        run_cfg=run_cfg,
        data=data,
        record=functools.partial(
            RunRecord,
            study=study_name,
            problem=problem.name,
            kind="sweep",
            method="sweep",
            task_names=problem.task_names,
            epochs=run_cfg.epochs,
            batch_size=run_cfg.batch_size,
            lr=run_cfg.lr,
            device=describe_device(device),
            threads=threads,
            checkpoint=run_cfg.checkpoint,
        ),
        options={"sampler": ALIASES.get(config.sampler, config.sampler), "seeds": config.seeds},
        callbacks=cb,
        seeds=[run_cfg.seed + s for s in range(config.seeds)],
    )
    new_trials = 0
    heartbeats = workers.Heartbeats(study._storage)
    trials: list[Trial] = []
    try:
        while True:
            _recover(study)
            counts = workers.trial_counts(study)
            if cb.on_progress:
                cb.on_progress(counts)
            if counts.counted(count_failed) >= budget:
                break
            if not count_failed and counts.failed >= budget:
                _sync_results(study, out, meta)
                raise ParetokitError(_too_many_failures(study, counts, budget))
            trials = _ask(study, population, budget, count_failed, heartbeats, cb.on_ask)
            if not trials:  # every slot is held by another worker's running trial
                if cb.on_wait:
                    cb.on_wait(counts)
                time.sleep(WAIT_SECONDS)
                continue
            new_trials += batch.run(trials)
            for t in trials:
                heartbeats.discard(t._trial_id)
            trials = []
            _sync_results(study, out, meta)
    except BaseException:  # Ctrl-C, or a crash: queue the trials in training again at once
        with contextlib.suppress(Exception):  # the storage may be what failed
            workers.give_back(study, trials)
        raise
    finally:
        heartbeats.close()
    counts = workers.trial_counts(study)
    if cb.on_progress:
        cb.on_progress(counts)
    _sync_results(study, out, meta)  # e.g. rows another worker finished while this one waited
    results = read_results(out) if out.exists() else None
    frontier = (
        analysis.sweep_frontier(results, "val", study_name)
        if results is not None
        else pd.DataFrame()
    )
    return SweepOutcome(
        study_name=study_name,
        storage=storage_url,
        out=out,
        finished=counts.counted(count_failed),
        new_trials=new_trials,
        failed=counts.failed,
        frontier=frontier,
        results=results,
        problem=problem.name,
        tasks=problem.task_names,
        complete=counts.complete,
        population=population,
    )


WAIT_SECONDS = 1.0  # how often a worker with no free slot looks at the study again


def population_size(value: int | str, problem: Problem, config: RunConfig, seeds: int = 1) -> int:
    """``--population``: trials per batch, a count ≥ 1, or ``auto``: as many as fit the
    device's memory with their ``seeds`` members each (at least one)."""
    if value == "auto":
        from paretokit.train.population import auto_population_size

        return max(1, auto_population_size(problem, config) // seeds)
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if size < 1:
        raise ParetokitError(f"--population must be a count ≥ 1 or 'auto', not {value!r}")
    return size


def _recover(study: optuna.Study) -> None:
    """Fail and queue again the trials of dead workers: this host's (at once), those without an
    owner, and those whose heartbeat stopped (see :mod:`paretokit.workers`)."""
    workers.recover_dead_local_trials(study)
    workers.recover_ownerless(study)
    workers.fail_stale(study)


def _ask(
    study: optuna.Study,
    size: int,
    budget: int,
    count_failed: bool,
    heartbeats: workers.Heartbeats,
    on_ask: Callable[[int, int], None] | None = None,
) -> list[Trial]:
    """Ask up to ``size`` trials, never beyond the study-wide budget (see
    :func:`~paretokit.workers.beyond_budget`): as many as the free slots seen once, then the
    ones that rank beyond the budget (other workers asked meanwhile) are given back. Each trial
    gets its owner as the first write after the ask, then heartbeats; its weights are drawn
    when the batch starts. ``on_ask(asked, of)`` reports progress."""
    counts = workers.trial_counts(study)
    wanted = min(size, budget - counts.counted(count_failed) - counts.running)
    asked: list[Trial] = []
    try:
        while len(asked) < wanted:
            with warnings.catch_warnings():  # Optuna warns that heartbeats belong to optimize()
                warnings.filterwarnings("ignore", message=".*Heartbeat.*")
                trial = study.ask()
            asked.append(trial)
            workers.claim(trial)
            heartbeats.add(trial._trial_id)
            if on_ask:
                on_ask(len(asked), wanted)
        beyond = workers.beyond_budget_of(study, asked, budget, count_failed) if asked else []
        if beyond:
            for t in beyond:
                heartbeats.discard(t._trial_id)
            workers.give_back(study, beyond)
            asked = [t for t in asked if t not in beyond]
    except BaseException:
        workers.give_back(study, asked)
        raise
    return asked


@dataclass
class _Batch:
    """Trains asked trials, each with every training seed, and tells the study their results."""

    study: optuna.Study
    problem: Problem
    run_cfg: RunConfig
    data: dict[str, Split]
    record: Callable[..., RunRecord]
    options: dict[str, object]
    callbacks: SweepCallbacks
    seeds: list[int] = field(default_factory=lambda: [0])

    def run(self, trials: list[Trial]) -> int:
        """Train ``trials`` with every seed; returns how many trials finished. One trial: its
        seeds one after the other (``train_run``, exactly as ``compare`` trains), stopping at
        a failed seed. More: one population of every (trial, seed) pair."""
        cb = self.callbacks
        weights = [suggest_weights(t, self.problem.n_tasks) for t in trials]
        if cb.on_batch_start:
            cb.on_batch_start([t.number for t in trials], weights)
        # results[i][j]: trial i, seed j
        if len(trials) > 1:
            results = self._train_population(weights)
        else:
            results = [[]]
            for j, seed in enumerate(self.seeds):
                if any(map(_is_failure, results[0])):
                    break
                results[0].extend(self._train(weights, seed, j))
        finished = 0
        for trial, w, per_seed in zip(trials, weights, results):
            records, reason = self._records(trial, w, per_seed, len(trials))
            if self._tell(trial, records, reason):
                finished += 1
                if cb.on_trial_end:
                    cb.on_trial_end(trial.number, records[0].status, reason)
                if cb.on_record:
                    for record in records:
                        cb.on_record(record)
        return finished

    def _records(
        self, trial: Trial, w: list[float], per_seed: list[RunResult | Exception], size: int
    ) -> tuple[list[RunRecord], str]:
        """One record per seed, and why the trial failed ('' if it did not). When a seed
        failed, every seed's record is failed: the failed seed's with its own reason, the
        others' naming it (a trial is one unit); seeds after it were not trained."""
        errors = [_failure(r, self.problem) for r in per_seed]
        bad = next((j for j, e in enumerate(errors) if e), None)
        reason = ""
        if bad is not None:
            prefix = f"seed {self.seeds[bad]}: " if len(self.seeds) > 1 else ""
            reason = prefix + errors[bad]
        records = []
        for j, seed in enumerate(self.seeds):
            record = self.record(
                run_id=f"sweep:{self.study.study_name}:{trial.number}:s{seed}",
                seed=seed,
                weights=w,
                trial=trial.number,
                options={**self.options, "population": size},
            )
            if bad is not None:
                record.status = STATUS_FAILED
                record.error = errors[j] if j == bad else f"trial failed: {reason}"
            else:
                result = per_seed[j]
                assert isinstance(result, RunResult)
                record.metrics, record.losses = result.metrics, result.losses
                record.train_seconds, record.step_ms = result.train_seconds, result.step_ms
                if result.checkpoint == "best":
                    record.options["checkpoint_epoch"] = result.epoch
            records.append(record)
        return records, reason

    def _train(self, weights: list[list[float]], seed: int, j: int) -> list[RunResult | Exception]:
        """One trial's run with training seed ``seed`` (the j-th of the trial's seeds)."""
        cfg, k = dataclasses.replace(self.run_cfg, seed=seed), self.problem.n_tasks
        on_epoch = self.callbacks.on_epoch
        if on_epoch is not None:  # one bar over all seeds of the trial
            total = cfg.epochs * len(self.seeds)
            outer = on_epoch

            def on_epoch(epoch: int, _epochs: int) -> None:
                outer(j * cfg.epochs + epoch, total)

        try:
            method = FixedWeights(k, weights=weights[0])
            return [train_run(self.problem, method, cfg, on_epoch, splits=self.data)]
        except (TrainingDiverged, MethodError) as exc:
            return [exc]

    def _train_population(self, weights: list[list[float]]) -> list[list[RunResult | Exception]]:
        """Every (trial, seed) pair as one member of one population (see
        :func:`~paretokit.train.population.train_population` for the models it cannot batch
        across seeds); returns results[trial][seed]."""
        from paretokit.train.population import train_population

        pairs = [(i, seed) for seed in self.seeds for i in range(len(weights))]
        try:
            trained: list[RunResult | Exception] = list(
                train_population(
                    self.problem,
                    [weights[i] for i, _ in pairs],
                    self.run_cfg,
                    on_epoch=self.callbacks.on_epoch,
                    splits=self.data,
                    seeds=[seed for _, seed in pairs],
                )
            )
        except MethodError as exc:
            trained = [exc] * len(pairs)
        results: list[list[RunResult | Exception]] = [[] for _ in weights]
        for (i, _), result in zip(pairs, trained):
            results[i].append(result)
        return results

    def _tell(self, trial: Trial, records: list[RunRecord], reason: str) -> bool:
        """Store the records and tell the study: failed with ``reason``, or complete with each
        task's validation metric averaged over the seeds. False when the trial had been failed
        as stale meanwhile (its retry will count instead, so this result is dropped)."""
        try:
            if reason:
                trial.set_user_attr(workers.FAILURE, reason)
            trial.set_user_attr(_RECORD, json.dumps([asdict(r) for r in records]))
            if reason:
                frozen = self.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
                return frozen.state == TrialState.FAIL and workers.FAILURE in frozen.user_attrs
            frozen = self.study.tell(trial, seed_mean(records), skip_if_finished=True)
            return frozen.state == TrialState.COMPLETE
        except RuntimeError:  # already finished (newer Optuna: UpdateFinishedTrialError)
            return False


def seed_mean(records: Sequence[RunRecord], split: str = "val") -> list[float]:
    """Each task's metric on ``split`` averaged over the records (one per seed)."""
    values = [r.metrics[split] for r in records if r.metrics is not None]
    return [math.fsum(col) / len(col) for col in zip(*values)]


def _is_failure(result: RunResult | Exception) -> bool:
    return isinstance(result, Exception) or not all(map(math.isfinite, result.metrics["val"]))


def _failure(result: RunResult | Exception, problem: Problem) -> str:
    """Why a trial failed ('' if it did not): divergence, or a non-finite validation metric."""
    if isinstance(result, Exception):
        return str(result)
    bad = [t for t, v in zip(problem.task_names, result.metrics["val"]) if not math.isfinite(v)]
    return f"non-finite validation metric for task(s) {', '.join(bad)}" if bad else ""


def _too_many_failures(study: optuna.Study, counts: TrialCounts, budget: int) -> str:
    last = [t for t in study.get_trials(deepcopy=False) if workers.failed_with_reason(t)][-1]
    return (
        f"{counts.failed} trials failed (last: trial {last.number}, "
        f"{last.user_attrs[workers.FAILURE]}) and only {counts.complete} of {budget} completed: "
        "stopping. The failures are in the results file; lower --lr, or pass --count-failed "
        "to let failed trials count against --trials"
    )


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
    _require_existing(storage_url)
    storage = open_storage(storage_url)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        names = sorted(optuna.get_all_study_names(storage))
        known = ", ".join(names) if names else "none"
        raise StorageError(
            f"no study {study_name!r} in {mask_password(storage_url)} (studies there: {known})"
        ) from None
    except Exception as exc:
        raise StorageError(
            mask_password(f"cannot reach storage {storage_url!r}: {_first_line(exc)}")
        ) from exc
    return _sync_results(study, Path(out), _study_meta(study, allow_import), check=True)


def _require_existing(url: str) -> None:
    """An export reads: a missing SQLite or journal file is an error, not a new empty one."""
    path = None
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :].split("?", 1)[0])
    elif "://" not in url:
        path = Path(url)
    if path is not None and str(path) not in ("", ":memory:") and not path.is_file():
        raise StorageError(f"no storage at {mask_password(url)}: {str(path)!r} does not exist")


def _study_meta(study: optuna.Study, allow_import: bool = False) -> ResultsMeta:
    """The results-file metadata a sweep stored in its study (or rebuilt from its setting for a
    study written before the metadata was stored: a user problem only with ``allow_import``)."""
    raw = study.user_attrs.get(_META)
    if raw is not None:
        try:
            return ResultsMeta.from_json(json.dumps(raw).encode())
        except (ValueError, KeyError, TypeError, AttributeError, ParetokitError) as exc:
            raise StorageError(
                f"study {study.study_name!r} holds damaged results metadata ({exc})"
            ) from None
    setting = study.user_attrs.get(_SETTING)
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


def results_meta(problem: Problem) -> ResultsMeta:
    """The results-file metadata of a problem's task selection."""
    return ResultsMeta(
        problem.name,
        tuple(TaskMeta(t.name, t.metric, t.higher_is_better, t.unit) for t in problem.tasks),
    )


def default_study_name(setting: dict[str, object]) -> str:
    """``<problem>-<tasks>-e<epochs>-b<batch>-lr<lr>-s<seed>``, then ``-S<seeds>`` for more
    than one training seed and ``-best`` for best-epoch checkpoints (single-seed, last-epoch
    studies keep the names older versions gave them)."""
    tasks = "+".join(setting["tasks"])  # type: ignore[arg-type]
    seeds = int(setting.get("seeds", 1))  # type: ignore[call-overload]
    return (
        f"{setting['problem']}-{tasks}-e{setting['epochs']}-b{setting['batch_size']}"
        f"-lr{setting['lr']:g}-s{setting['seed']}"
        + (f"-S{seeds}" if seeds != 1 else "")
        + ("-best" if setting.get("checkpoint", "last") == "best" else "")
    )


# Setting keys that older studies did not store, and the value they ran with.
SETTING_DEFAULTS: dict[str, object] = {"seeds": 1, "checkpoint": "last"}


def _open_study(
    storage_url: str,
    name: str,
    meta: ResultsMeta,
    setting: dict[str, object],
    config: SweepConfig,
    sampler: optuna.samplers.BaseSampler,
) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the front end reports progress
    storage = open_storage(storage_url, config.heartbeat_interval, config.grace_period)
    directions = [t.direction for t in meta.tasks]
    try:
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            directions=directions,
            sampler=sampler,
            load_if_exists=True,
        )
    except ValueError as exc:  # e.g. an existing study with other directions
        raise StorageError(mask_password(f"study {name!r} cannot be used: {exc}")) from exc
    except Exception as exc:
        raise StorageError(
            mask_password(f"cannot reach storage {storage_url!r}: {_first_line(exc)}")
        ) from exc
    stored = study.user_attrs.get(_SETTING)
    if stored is None:
        study.set_user_attr(_SETTING, setting)
    elif {**SETTING_DEFAULTS, **stored} != setting:  # older studies: one seed
        raise ParetokitError(
            f"study {name!r} in {mask_password(storage_url)} was run with {stored}, not {setting}; "
            "choose another --study-name"
        )
    _check_sampling(study, storage_url, sampling_setting(config, sampler))
    if _META not in study.user_attrs:  # what `export` needs to write a file without the problem
        study.set_user_attr(_META, json.loads(meta.to_json()))
    return study


def _study_records(study: optuna.Study, meta: ResultsMeta | None = None) -> list[RunRecord]:
    """The run records of the study's finished trials (complete, or failed with a reason),
    each checked against ``meta`` (problem, tasks, one value per task) when given."""
    records = []
    for t in study.get_trials(deepcopy=False):
        raw = t.user_attrs.get(_RECORD)
        if raw is None or not (t.state == TrialState.COMPLETE or workers.failed_with_reason(t)):
            continue
        try:
            stored = json.loads(raw)  # a list of one record per seed (a dict in older studies)
            for fields in stored if isinstance(stored, list) else [stored]:
                record = RunRecord(**fields)
                if meta is not None:
                    _check_record(record, meta)
                records.append(record)
        except (TypeError, ValueError) as exc:
            raise StorageError(
                f"trial {t.number} of study {study.study_name!r} holds a damaged run record "
                f"({_first_line(exc)})"
            ) from exc
    return records


def sampling_setting(config: SweepConfig, sampler: optuna.samplers.BaseSampler) -> dict:
    """What defines where a study's weights go: the sampler and its resolved options (the
    grid's resolution, however it was chosen). The seed is part of the training setting."""
    key = ALIASES.get(config.sampler, config.sampler)
    setting: dict[str, object] = {"sampler": key}
    resolution = getattr(sampler, "resolution", None)
    if key == "grid" and resolution is not None:
        setting["grid_resolution"] = int(resolution)
    return setting


def _check_sampling(study: optuna.Study, storage_url: str, sampling: dict) -> None:
    """A study keeps one sampler: stored with the study when it is created, checked on every
    resume (a study from before this check adopts the sampler it is resumed with)."""
    stored = study.user_attrs.get(_SAMPLING)
    if stored is None:
        study.set_user_attr(_SAMPLING, sampling)
        return
    if stored != sampling:

        def show(d: dict) -> str:
            return ", ".join(f"{k} {v}" for k, v in d.items())

        hint = (
            f"; pass --grid-resolution {stored['grid_resolution']} to continue its lattice"
            if "grid_resolution" in stored and sampling.get("sampler") == "grid"
            else ""
        )
        raise ParetokitError(
            f"study {study.study_name!r} in {mask_password(storage_url)} was sampled with "
            f"{show(stored)}, not {show(sampling)}: one study keeps one sampler (choose another "
            f"--study-name for another sampler{hint})"
        )


def _check_record(record: RunRecord, meta: ResultsMeta) -> None:
    """A stored record fits the study's metadata; a ``ValueError`` saying how it does not."""
    k = len(meta.tasks)
    if record.problem != meta.problem or list(record.task_names) != meta.task_names:
        raise ValueError(f"it is of {record.problem} {list(record.task_names)}, not {meta.problem}")
    if record.kind != "sweep" or record.weights is None or len(record.weights) != k:
        raise ValueError("it is not a sweep run with one weight per task")
    for values in (record.metrics, record.losses):
        if values is not None and any(len(values.get(split, [])) != k for split in ("val", "test")):
            raise ValueError("it has not one value per task and split")


def _sync_results(study: optuna.Study, out: Path, meta: ResultsMeta, check: bool = False) -> int:
    """Write the rows of every finished trial that the results file does not hold yet; returns
    the number of rows written. With ``check``, the runs the file already holds are compared
    with the study's too: a row with the id of one of its runs must be that run
    (:func:`~paretokit.results.append_results` refuses another run under the same id)."""
    have = set() if check else existing_run_ids(out)
    rows = []
    for record in _study_records(study, meta):
        if record.run_id not in have:
            rows.extend(record.rows())
    return append_results(out, rows, meta) if rows else 0


def _check_file_is_this_study(study: optuna.Study, out: Path, storage_url: str) -> None:
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
    known = {r.run_id for r in _study_records(study)}
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
