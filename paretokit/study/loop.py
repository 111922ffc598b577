"""The sweep: an Optuna multi-objective study over linear-scalarization weights, asked and told
in batches.

Each trial trains the problem's model on ``Σ_k w_k L_k`` for weights w on the simplex and
reports the validation metrics, one objective per task with that metric's direction. Where w
comes from is the sampler's business (:mod:`paretokit.sampling`: ``dirichlet`` by default,
``grid``, ``qmc``, ``tpe``, ``nsga2``, ``adaptive``).

**Ask/tell in populations.** The sweep asks up to P trials (``population``; ``"auto"``: as many
as fit the device's memory with their S seeds,
:func:`~paretokit.train.population.auto_population_size` divided by S) and trains them as one
batch (:class:`~paretokit.study.batch.Batch`). Each row records ``population`` (the batch's
size) in ``options``; a member's ``train_seconds``/``step_ms`` are the batch's wall time
divided by its size.

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
a trial interrupted between seeds is retrained whole. ``seeds=None`` means the problem's
default (``TrainDefaults.seeds``: 3, which costs three times a single-seed sweep; the toy's 5,
its five starts).

**A study-wide budget.** ``trials`` counts complete trials across every worker of the study
(re-running resumes; more workers share the budget, :mod:`paretokit.study.workers`). A trial
that fails for a reason of its own (a NaN loss, a non-finite metric) is recorded as failed with
the reason; it uses up budget only with ``count_failed``. Otherwise another trial is asked,
and the sweep stops with an error once as many trials failed as the budget asks for.

**Faults.** A trial whose worker died (killed, machine lost) is failed and retrained with the
same weights: at once by a re-run on the same host, else after the heartbeat grace period by
any worker. Ctrl-C fails the trials in training and queues them again, so re-running the
command continues where it stopped.

**Results.** The study is the source of truth and the results file is brought up to date from
it after every batch, at the cost of the batch (:class:`~paretokit.study.export.StudySync`);
the batches' parts are folded into the file when the sweep ends.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import Trial

from paretokit import analysis, validation
from paretokit.errors import ParetokitError
from paretokit.problems import Problem, get_problem
from paretokit.results import ResultsMeta, RunRecord, read_results
from paretokit.sampling import ALIASES, make_sampler
from paretokit.study import workers
from paretokit.study.batch import Batch
from paretokit.study.config import SweepCallbacks, SweepConfig, SweepOutcome
from paretokit.study.export import StudySync, check_file_is_this_study
from paretokit.study.naming import default_study_name, results_meta, study_setting
from paretokit.study.opening import OpenedStudy, open_study
from paretokit.study.sampler_check import adopted_population, sampling_setting
from paretokit.study.storage import default_storage, storage_errors
from paretokit.train import (
    RunConfig,
    check_checkpoint,
    describe_device,
    resolve_device,
    to_device,
    use_threads,
)

WAIT_SECONDS = 1.0  # how often a worker with no free slot looks at the study again


@dataclass
class _Plan:
    """A sweep's inputs, validated and resolved before anything is opened or trained."""

    config: SweepConfig
    problem: Problem
    run_cfg: RunConfig
    sampler: optuna.samplers.BaseSampler
    population: int
    threads: int
    meta: ResultsMeta
    out: Path
    setting: dict[str, object]
    study_name: str
    storage_url: str


@storage_errors
def run_sweep(config: SweepConfig, callbacks: SweepCallbacks | None = None) -> SweepOutcome:
    """Run (or resume, or join as one more worker) the sweep study until it holds
    ``config.trials`` trials that count (see the module docstring)."""
    cb = callbacks or SweepCallbacks()
    plan = _plan(config)
    sampling = sampling_setting(config.sampler, plan.sampler, config.trials)
    opened = open_study(
        plan.storage_url,
        plan.study_name,
        plan.meta,
        plan.setting,
        sampling,
        plan.sampler,
        config.heartbeat_interval,
        config.grace_period,
    )
    study = opened.study
    population = adopted_population(study, sampling)
    if population is not None:  # NSGA-II continues the generations the study started with
        study.sampler = make_sampler(
            config.sampler, config.seed, plan.problem.n_tasks, population_size=population
        )
    workers.register(opened.storage, study)  # before any ask: see workers.recover_ownerless
    _recover(opened)
    check_file_is_this_study(study, plan.out, plan.storage_url)
    with StudySync(study, plan.out, plan.meta) as sync:  # folds its parts into the file on exit
        sync(check=True)
        batch = _batch(plan, study, cb)
        if cb.on_start:
            cb.on_start(plan.study_name, workers.trial_counts(study), config.trials)
        new_trials = _run_batches(opened, batch, plan, cb, sync)
        counts = workers.trial_counts(study)
        if cb.on_progress:
            cb.on_progress(counts)
        sync()  # e.g. rows another worker finished meanwhile
    results = read_results(plan.out) if plan.out.exists() else None
    frontier = (
        analysis.sweep_frontier(results, "val", plan.study_name)
        if results is not None
        else pd.DataFrame()
    )
    return SweepOutcome(
        study_name=plan.study_name,
        storage=plan.storage_url,
        out=plan.out,
        finished=counts.counted(config.count_failed),
        new_trials=new_trials,
        failed=counts.failed,
        frontier=frontier,
        results=results,
        problem=plan.problem.name,
        tasks=plan.problem.task_names,
        complete=counts.complete,
        population=plan.population,
    )


def _plan(config: SweepConfig) -> _Plan:
    """Every input checked (a bad one is one error line before any work), defaults resolved."""
    if isinstance(config.trials, bool) or not isinstance(config.trials, int) or config.trials < 1:
        raise ParetokitError("--trials must be at least 1 (it is the study's total budget)")
    if config.seeds is not None and (
        isinstance(config.seeds, bool) or not isinstance(config.seeds, int) or config.seeds < 1
    ):
        raise ParetokitError(f"--seeds must be at least 1, got {config.seeds}")
    validation.optional_filter(config.epochs, config.batch_size, config.lr)
    validation.seed(config.seed)
    problem = get_problem(config.problem, config.tasks, config.model)
    config = replace(config, seeds=validation.seed_count(problem.defaults, config.seeds))
    problem.check_seeds(range(config.seed, config.seed + config.seeds))
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
    threads = use_threads(config.threads)
    run_cfg = RunConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=config.seed,
        device=resolve_device(config.device),
        checkpoint=check_checkpoint(config.checkpoint),
    )
    population = population_size(config.population, problem, run_cfg, config.seeds)
    out = Path(config.out)
    if out.exists():
        read_results(out)  # a foreign or damaged --out file is an error before any training
    setting = study_setting(problem, run_cfg, config.seeds)
    return _Plan(
        config=config,
        problem=problem,
        run_cfg=run_cfg,
        sampler=sampler,
        population=population,
        threads=threads,
        meta=results_meta(problem),
        out=out,
        setting=setting,
        study_name=config.study_name or default_study_name(setting),
        storage_url=config.storage or default_storage(out),
    )


def _batch(plan: _Plan, study: optuna.Study, cb: SweepCallbacks) -> Batch:
    """The trainer of this worker's batches: the problem's data on the device, and the fields
    every row of the study shares."""
    cfg, problem = plan.run_cfg, plan.problem
    record = functools.partial(
        RunRecord,
        study=plan.study_name,
        problem=problem.name,
        kind="sweep",
        method="sweep",
        task_names=problem.task_names,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        device=describe_device(cfg.device),
        threads=plan.threads,
        checkpoint=cfg.checkpoint,
        model=problem.model,
    )
    sampler = ALIASES.get(plan.config.sampler, plan.config.sampler)
    return Batch(
        study=study,
        problem=problem,
        run_cfg=cfg,
        data=to_device(problem.splits(), cfg.device),
        record=record,
        options={"sampler": sampler, "seeds": plan.config.seeds},
        callbacks=cb,
        seeds=[cfg.seed + s for s in range(plan.config.seeds)],
    )


def _run_batches(
    opened: OpenedStudy, batch: Batch, plan: _Plan, cb: SweepCallbacks, sync: StudySync
) -> int:
    """Ask, train and tell batches until the study-wide budget is met; returns how many trials
    this worker finished. Ctrl-C or a crash queues the trials in training again at once."""
    study = opened.study
    budget, count_failed = plan.config.trials, plan.config.count_failed
    new_trials = 0
    heartbeats = workers.Heartbeats(opened.storage, study.study_name)
    trials: list[Trial] = []
    try:
        while True:
            _recover(opened)
            counts = workers.trial_counts(study)
            if cb.on_progress:
                cb.on_progress(counts)
            if counts.counted(count_failed) >= budget:
                return new_trials
            if not count_failed and counts.failed >= budget:
                sync()
                raise ParetokitError(_too_many_failures(study, counts, budget))
            trials = ask(study, plan.population, budget, count_failed, heartbeats, cb.on_ask)
            if not trials:  # every slot is held by another worker's running trial
                if cb.on_wait:
                    cb.on_wait(counts)
                time.sleep(WAIT_SECONDS)
                continue
            new_trials += batch.run(trials)
            for t in trials:
                heartbeats.discard(t.number)
            trials = []
            sync()
    except BaseException:
        with contextlib.suppress(Exception):  # the storage may be what failed
            workers.give_back(study, trials)
        raise
    finally:
        heartbeats.close()


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


def _recover(opened: OpenedStudy) -> None:
    """Fail and queue again the trials of dead workers: this host's (at once), those without an
    owner, and those whose heartbeat stopped (see :mod:`paretokit.study.workers`)."""
    workers.recover_dead_local_trials(opened.study)
    workers.recover_ownerless(opened.study, opened.storage)
    workers.fail_stale(opened.study)


def ask(
    study: optuna.Study,
    size: int,
    budget: int,
    count_failed: bool,
    heartbeats: workers.Heartbeats,
    on_ask: Callable[[int, int], None] | None = None,
) -> list[Trial]:
    """Ask up to ``size`` trials, never beyond the study-wide budget (see
    :func:`~paretokit.study.workers.beyond_budget`): as many as the free slots seen once, then
    the ones that rank beyond the budget (other workers asked meanwhile) are given back. Each
    trial is created with its owner (:func:`~paretokit.study.workers.ask_owned`), then
    heartbeats; its weights are drawn when the batch starts. ``on_ask(asked, of)`` reports
    progress."""
    counts = workers.trial_counts(study)
    wanted = min(size, budget - counts.counted(count_failed) - counts.running)
    owned = workers.ask_owned(study, heartbeats.storage, wanted, on_ask) if wanted > 0 else []
    asked = [trial for trial, _ in owned]
    try:
        for trial, trial_id in owned:
            heartbeats.add(trial.number, trial_id)
        beyond = workers.beyond_budget_of(study, asked, budget, count_failed) if asked else []
        if beyond:
            for t in beyond:
                heartbeats.discard(t.number)
            workers.give_back(study, beyond)
            asked = [t for t in asked if t not in beyond]
    except BaseException:
        workers.give_back(study, asked)
        raise
    return asked


def _too_many_failures(study: optuna.Study, counts: workers.TrialCounts, budget: int) -> str:
    last = [t for t in study.get_trials(deepcopy=False) if workers.failed_with_reason(t)][-1]
    return (
        f"{counts.failed} trials failed (last: trial {last.number}, "
        f"{last.user_attrs[workers.FAILURE]}) and only {counts.complete} of {budget} completed: "
        "stopping. The failures are in the results file; lower --lr, or pass --count-failed "
        "to let failed trials count against --trials"
    )
