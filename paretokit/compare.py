"""``paretokit compare``: train adaptive MTO methods on the sweep's setting, side by side.

Every method runs on the same problem, tasks, model, data, epochs, batch size, learning rate
and seeds (0 … N−1) as the others, and as a sweep of the same setting. The STL baselines (one
run per task and seed: the simplex vertex e_k, see :class:`~paretokit.methods._fixed.SingleTask`)
are planned like every other run (naming ``stl`` alone trains only them). Runs already in the
file (same run id: method, options, setting, seed) are not trained again, so an interrupted
compare resumes where it stopped, baselines included. Rows are appended after every run. Once
trained, the comparison is the report of the setting (:func:`paretokit.report.build_reports`),
restricted to the STL baseline and the compared methods: the same numbers `paretokit report`
prints.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paretokit import validation
from paretokit.errors import MethodError, ParetokitError
from paretokit.methods import get_method, method_class
from paretokit.problems import Problem, Split, get_problem
from paretokit.report import Report, build_reports, restrict
from paretokit.results import (
    STATUS_FAILED,
    RunRecord,
    append_results,
    existing_run_ids,
    read_results,
    trajectory_json,
)
from paretokit.study.naming import compare_study_name, results_meta
from paretokit.train import (
    RunConfig,
    TrainingDiverged,
    check_checkpoint,
    describe_device,
    resolve_device,
    to_device,
    train_run,
    use_threads,
)

# Setting keys newer than the first run ids, and the value those runs had: a run of that value
# keeps its old id.
OLD_SETTING_DEFAULTS: dict[str, object] = {"checkpoint": "last", "model": "mlp"}


@dataclass
class CompareConfig:
    """What ``paretokit compare`` runs; None means the problem's default."""

    methods: Sequence[str]
    problem: str = "qm9"
    tasks: str | int | Sequence[str] | None = None
    seeds: int | None = None  # seeds 0 … seeds−1 (None: the problem's, 3 but for toy: 5)
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    out: Path = Path("results.parquet")
    device: str = "auto"
    split: str = "test"
    checkpoint: str = "last"  # evaluate each run at its last or its best epoch (train.epochs)
    model: str | None = None  # the problem's model (None: its default; qm9: mlp or gnn)
    # option name → value, applied to every named method that accepts it
    options: dict[str, Any] = field(default_factory=dict)
    # method name → {option: value}, for that method only
    method_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads: int | None = None  # torch CPU threads (None: $OMP_NUM_THREADS, else 1)


@dataclass(frozen=True)
class PlannedRun:
    kind: str  # "method" | "stl"
    label: str  # the ``method`` column: name, non-default options, or stl:<task>
    name: str  # registry name
    options: dict[str, Any]
    seed: int
    run_id: str


@dataclass
class CompareCallbacks:
    on_plan: Callable[[int, int], None] | None = None  # runs to train, runs already present
    on_run_start: Callable[[PlannedRun], None] | None = None
    on_epoch: Callable[[int, int], None] | None = None
    on_run_end: Callable[[PlannedRun, str, str], None] | None = None  # run, status, error
    on_record: Callable[[RunRecord], None] | None = None  # a finished run, as stored


@dataclass
class CompareOutcome:
    trained: int
    skipped: int
    failed: int
    report: Report  # the setting's report, restricted to STL and the compared methods
    out: Path
    setting: dict[str, Any]


def resolve_options(
    names: Sequence[str], n_tasks: int, shared: dict[str, Any], scoped: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per method, the options it runs with. A shared option goes to every named method that
    accepts it and must be accepted by at least one; a scoped option must be accepted by its
    method. Anything else is an error, never silently ignored."""
    for name in [*names, *scoped]:
        method_class(name)  # unknown names list the valid ones
    stray = sorted(set(scoped) - set(names))
    if stray:
        raise MethodError(f"options given for {', '.join(stray)}, which is not being compared")
    resolved: dict[str, dict[str, Any]] = {}
    for name in names:
        accepted = method_class(name).option_defaults()
        opts = {k: v for k, v in shared.items() if k in accepted}
        opts.update(scoped.get(name, {}))
        resolved[name] = opts
        get_method(name, n_tasks, **opts)  # validates option names and values now
    for key in shared:
        if not any(key in method_class(n).option_defaults() for n in names):
            raise MethodError(
                f"option {key!r} does not apply to {', '.join(names)}; "
                "`paretokit methods` lists each method's options"
            )
    return resolved


def method_label(name: str, options: dict[str, Any]) -> str:
    """``name`` for the paper defaults, else ``name(k=v, …)`` with the non-default options."""
    defaults = method_class(name).option_defaults()
    changed = {k: v for k, v in sorted(options.items()) if defaults.get(k) != v}
    if not changed:
        return name
    return f"{name}({', '.join(f'{k}={v}' for k, v in changed.items())})"


def plan_runs(
    names: Sequence[str],
    options: dict[str, dict[str, Any]],
    problem: Problem,
    setting: dict[str, Any],
    seeds: int,
    with_stl: bool,
) -> list[PlannedRun]:
    """Every run the comparison needs, STL first, each with a run id unique to its setting
    (runs at the last epoch of the mlp keep the ids of the versions before checkpoints and
    models existed)."""
    keyed = {k: v for k, v in setting.items() if OLD_SETTING_DEFAULTS.get(k, object()) != v}
    key = hashlib.sha1(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:10]
    runs = []
    if with_stl:
        for k, task in enumerate(problem.task_names):
            for seed in range(seeds):
                opts = {"task": k}
                runs.append(
                    PlannedRun("stl", f"stl:{task}", "stl", opts, seed, f"stl:{task}:{key}:s{seed}")
                )
    for name in names:
        label = method_label(name, options[name])
        ohash = hashlib.sha1(json.dumps(options[name], sort_keys=True, default=str).encode())
        for seed in range(seeds):
            runs.append(
                PlannedRun(
                    "method",
                    label,
                    name,
                    options[name],
                    seed,
                    f"method:{name}:{ohash.hexdigest()[:8]}:{key}:s{seed}",
                )
            )
    return runs


@dataclass
class ComparePlan:
    """A checked comparison: every run it needs and its setting, before any training."""

    problem: Problem
    options: dict[str, dict[str, Any]]  # per method (STL excluded), the options it runs with
    run_cfg: RunConfig
    setting: dict[str, Any]
    runs: list[PlannedRun]
    threads: int


def plan_compare(config: CompareConfig) -> ComparePlan:
    """Check ``config`` and list the runs it needs (STL per task and seed, then each method
    per seed), without reading the results file or training anything."""
    if not config.methods:
        raise ParetokitError("name at least one method; `paretokit methods` lists them")
    if config.seeds is not None:
        if isinstance(config.seeds, bool) or not isinstance(config.seeds, int) or config.seeds < 1:
            raise ParetokitError("--seeds must be at least 1")
        validation.seed(config.seeds - 1, "the largest seed (--seeds minus 1)")
    validation.optional_filter(config.epochs, config.batch_size, config.lr)
    # STL runs per (task, seed) like every other run; `paretokit compare stl` trains only them
    names = [m for m in dict.fromkeys(config.methods) if m != "stl"]
    problem = get_problem(config.problem, config.tasks, config.model)
    seeds = validation.seed_count(problem.defaults, config.seeds)
    problem.check_seeds(range(seeds))
    shared = main_task_index(config.options, problem)
    scoped = {m: main_task_index(o, problem) for m, o in config.method_options.items()}
    options = resolve_options(names, problem.n_tasks, shared, scoped)
    device = resolve_device(config.device)
    threads = use_threads(config.threads)
    epochs, batch_size, lr = validation.training_budget(
        problem.defaults, config.epochs, config.batch_size, config.lr
    )
    run_cfg = RunConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=0,
        device=device,
        checkpoint=check_checkpoint(config.checkpoint),
    )
    setting = {
        "problem": problem.name,
        "tasks": problem.task_names,
        "epochs": run_cfg.epochs,
        "batch_size": run_cfg.batch_size,
        "lr": run_cfg.lr,
        "checkpoint": run_cfg.checkpoint,
        "model": problem.model,
    }
    runs = plan_runs(list(options), options, problem, setting, seeds, with_stl=True)
    return ComparePlan(problem, options, run_cfg, setting, runs, threads)


def run_compare(config: CompareConfig, callbacks: CompareCallbacks | None = None) -> CompareOutcome:
    """Train every planned run that the results file does not hold yet (appending each run's
    rows as it finishes), then build the setting's report."""
    cb = callbacks or CompareCallbacks()
    plan = plan_compare(config)
    meta = results_meta(plan.problem)
    out = Path(config.out)
    if out.exists():
        read_results(out)  # a foreign or damaged file is an error before any training
    runs = plan.runs
    done = existing_run_ids(out)
    todo = [r for r in runs if r.run_id not in done]
    if cb.on_plan:
        cb.on_plan(len(todo), len(runs) - len(todo))
    data = to_device(plan.problem.splits(), plan.run_cfg.device) if todo else None
    device_name = describe_device(plan.run_cfg.device)
    study = compare_study_name(plan.setting)
    failed = 0
    for run in todo:
        if cb.on_run_start:
            cb.on_run_start(run)
        record = _train_and_record(plan, run, study, device_name, data, cb.on_epoch)
        if record.status == STATUS_FAILED:
            failed += 1
        append_results(out, record.rows(), meta)
        if cb.on_run_end:
            cb.on_run_end(run, record.status, record.error)
        if cb.on_record:
            cb.on_record(record)
    labels = list(dict.fromkeys(method_label(n, o) for n, o in plan.options.items()))
    # the very report `paretokit report` builds for this setting, with only these methods
    (report,) = build_reports(read_results(out), config.split, setting=_setting_key(plan.setting))
    return CompareOutcome(
        len(todo), len(runs) - len(todo), failed, restrict(report, labels), out, plan.setting
    )


def _train_and_record(
    plan: ComparePlan,
    run: PlannedRun,
    study: str,
    device_name: str,
    data: dict[str, Split] | None,
    on_epoch: Callable[[int, int], None] | None,
) -> RunRecord:
    """Train one planned run and return its record: metrics, losses, mean weights and costs,
    or status ``failed`` with the error when training diverged or the method failed."""
    problem, run_cfg = plan.problem, plan.run_cfg
    method = get_method(run.name, problem.n_tasks, seed=run.seed, **run.options)
    record = RunRecord(
        study=study,
        problem=problem.name,
        run_id=run.run_id,
        kind=run.kind,
        method=run.label,
        seed=run.seed,
        task_names=problem.task_names,
        epochs=run_cfg.epochs,
        batch_size=run_cfg.batch_size,
        lr=run_cfg.lr,
        device=device_name,
        threads=plan.threads,
        options={"method": run.name, **_jsonable(method.options())},
        checkpoint=run_cfg.checkpoint,
        model=problem.model,
    )
    try:
        result = train_run(problem, method, _with_seed(run_cfg, run.seed), on_epoch, data)
    except (TrainingDiverged, MethodError) as exc:
        record.status, record.error = STATUS_FAILED, str(exc)
        return record
    record.metrics, record.losses = result.metrics, result.losses
    record.weights = result.mean_weights
    record.train_seconds, record.step_ms = result.train_seconds, result.step_ms
    record.trajectory = trajectory_json(result.trajectory)
    if result.checkpoint == "best":
        record.options["checkpoint_epoch"] = result.epoch
    return record


def _setting_key(setting: dict[str, Any]) -> dict[str, Any]:
    """The setting's columns in the results file (the task list is the file's own)."""
    return {k: v for k, v in setting.items() if k != "tasks"}


def main_task_index(options: dict[str, Any], problem: Problem) -> dict[str, Any]:
    """``main_task`` may name a task; methods take its index in the selected tasks."""
    value = options.get("main_task")
    if not isinstance(value, str):
        return dict(options)
    if value not in problem.task_names:
        raise ParetokitError(
            f"--main-task {value!r} is not one of the selected tasks: {', '.join(problem.task_names)}"
        )
    return {**options, "main_task": problem.task_names.index(value)}


def _with_seed(cfg: RunConfig, seed: int) -> RunConfig:
    return dataclasses.replace(cfg, seed=seed)


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(options, default=str))
