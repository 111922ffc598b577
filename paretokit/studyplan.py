"""Running a study file: what is left to do, doing it, and writing its report.

A study (:mod:`paretokit.studyfile`) is a sweep (:func:`paretokit.study.run_sweep`) and a
comparison (:func:`paretokit.compare.run_compare`) on one setting, both writing to the study's
results file, then the report of that setting. Both parts resume: the sweep counts the
study's complete trials against its budget, and the comparison skips the runs whose ids the
results file holds. So running a study twice trains nothing the second time, and a study
whose budget grew trains only the difference.

:func:`plan_study` says, from the results file alone, what a run would still train (sweep
trials × seeds, method runs) and estimates its time from the file's own ``train_seconds``
(the mean of the runs already done of the same kind: sweep runs of this study, or runs of the
same method); where nothing of a kind is done yet there is no estimate for it, and the plan
says so rather than guessing.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from paretokit import validation
from paretokit.errors import ParetokitError
from paretokit.results import read_results
from paretokit.study.config import STORAGE_FILE
from paretokit.studyfile import StudySpec

if TYPE_CHECKING:
    from paretokit.compare import CompareCallbacks, CompareConfig, CompareOutcome
    from paretokit.study import SweepCallbacks, SweepConfig, SweepOutcome


@dataclass
class PartPlan:
    """One kind of run left to train: the sweep, STL, or one method."""

    label: str
    runs_left: int
    runs_done: int
    seconds_per_run: float | None  # mean train_seconds of the runs done; None: none done

    @property
    def seconds(self) -> float | None:
        if self.runs_left == 0:
            return 0.0
        return None if self.seconds_per_run is None else self.runs_left * self.seconds_per_run


@dataclass
class StudyPlan:
    """What running the study would train now, and an estimate of its time."""

    spec: StudySpec
    study_name: str | None  # the sweep's Optuna study (None without a sweep)
    trials_done: int  # complete sweep trials (every seed) in the results file
    trials_left: int
    parts: list[PartPlan] = field(default_factory=list)

    @property
    def runs_left(self) -> int:
        return sum(p.runs_left for p in self.parts)

    @property
    def seconds(self) -> float:
        """The estimate over the parts that have one (see :attr:`unestimated`)."""
        return math.fsum(p.seconds or 0.0 for p in self.parts)

    @property
    def unestimated(self) -> list[str]:
        """Parts with runs left and no run done yet to estimate them from."""
        return [p.label for p in self.parts if p.seconds is None]


def sweep_config(spec: StudySpec) -> SweepConfig:
    """The study's sweep as ``paretokit sweep`` would run it (seed 0: seeds 0 … S−1, paired
    with the methods' seeds)."""
    from paretokit.study import SweepConfig

    if spec.sweep is None:
        raise ParetokitError(f"{spec.path}: the study has no [sweep]")
    kwargs: dict[str, Any] = dict(
        problem=spec.problem,
        tasks=spec.tasks,
        trials=spec.sweep.trials,
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        lr=spec.lr,
        seed=0,
        seeds=spec.seeds,
        checkpoint=spec.checkpoint,
        storage=spec.storage,
        out=spec.results,
        device=spec.device,
        sampler=spec.sweep.sampler,
        grid_resolution=spec.sweep.grid_resolution,
        population=spec.sweep.population,
        threads=spec.threads,
    )
    return SweepConfig(**_with_model(SweepConfig, kwargs, spec))


def compare_config(spec: StudySpec, device: str | None = None) -> CompareConfig:
    """The study's methods as ``paretokit compare`` would run them (seeds 0 … S−1)."""
    from paretokit.compare import CompareConfig

    if not spec.methods:
        raise ParetokitError(f"{spec.path}: the study has no [methods]")
    kwargs: dict[str, Any] = dict(
        methods=list(spec.methods),
        problem=spec.problem,
        tasks=spec.tasks,
        seeds=spec.seeds,
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        lr=spec.lr,
        out=spec.results,
        device=device or spec.device,
        split=spec.split,
        checkpoint=spec.checkpoint,
        method_options={m: o for m, o in spec.methods.items() if o},
        threads=spec.threads,
    )
    return CompareConfig(**_with_model(CompareConfig, kwargs, spec))


def _with_model(cls: type, kwargs: dict[str, Any], spec: StudySpec) -> dict[str, Any]:
    if spec.model is None:
        return kwargs
    if "model" not in {f.name for f in dataclasses.fields(cls)}:
        raise ParetokitError(f"{spec.path}: model: this paretokit trains no model choice")
    return {**kwargs, "model": spec.model}


def sweep_study_name(spec: StudySpec) -> str:
    """The Optuna study name ``run_sweep`` derives from the study's setting."""
    from paretokit.problems import get_problem
    from paretokit.study import default_study_name

    config = sweep_config(spec)
    problem = get_problem(config.problem, config.tasks, config.model)
    epochs, batch_size, lr = validation.training_budget(
        problem.defaults, config.epochs, config.batch_size, config.lr
    )
    setting: dict[str, Any] = {
        "model": problem.model,
        "problem": problem.name,
        "tasks": problem.task_names,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": config.seed,
        "seeds": config.seeds,
        "checkpoint": config.checkpoint,
    }
    return default_study_name(setting)


def plan_study(spec: StudySpec) -> StudyPlan:
    """What :func:`run_study_sweep` and :func:`run_study_methods` would train now."""
    frame = read_results(spec.results).frame if spec.results.exists() else None
    ok = None if frame is None else frame[(frame["status"] == "ok") & (frame["split"] == "val")]
    plan = StudyPlan(spec, None, 0, 0)
    if spec.sweep is not None:
        plan.study_name = sweep_study_name(spec)
        mine = (
            ok[(ok["kind"] == "sweep") & (ok["study"] == plan.study_name)]
            if ok is not None
            else None
        )
        if mine is not None and not mine.empty:
            seeds = mine.groupby("trial")["seed"].nunique()
            plan.trials_done = int((seeds >= spec.seeds).sum())
        plan.trials_left = max(0, spec.sweep.trials - plan.trials_done)
        plan.parts.append(
            PartPlan(
                "sweep",
                plan.trials_left * spec.seeds,
                plan.trials_done * spec.seeds,
                _mean_seconds(mine),
            )
        )
    if spec.methods:
        from paretokit.compare import plan_compare

        runs = plan_compare(compare_config(spec, device="cpu")).runs  # ids need no device
        done = set(frame["run_id"]) if frame is not None else set()
        for label in dict.fromkeys("stl" if r.kind == "stl" else r.label for r in runs):
            ids = [r.run_id for r in runs if ("stl" if r.kind == "stl" else r.label) == label]
            have = [i for i in ids if i in done]
            rows = ok[ok["run_id"].isin(have)] if ok is not None else None
            plan.parts.append(PartPlan(label, len(ids) - len(have), len(have), _mean_seconds(rows)))
    return plan


def _mean_seconds(rows: pd.DataFrame | None) -> float | None:
    if rows is None or rows.empty:
        return None
    seconds = rows["train_seconds"].to_numpy(float)
    seconds = seconds[seconds >= 0]  # older rows may lack it (NaN or -1)
    return float(seconds.mean()) if len(seconds) else None


def run_study_sweep(
    spec: StudySpec, callbacks: SweepCallbacks | None = None
) -> SweepOutcome | None:
    """Run (or resume) the study's sweep; None when the study has no sweep, or when its
    results file already holds the whole budget while its default storage (git-ignored, so
    absent from a fresh clone of a shipped study) is not there: there is nothing to resume,
    and opening a new storage would refuse the file's rows as another study's."""
    if spec.sweep is None:
        return None
    if spec.storage is None and not (spec.results.parent / STORAGE_FILE).exists():
        if plan_study(spec).trials_left == 0:
            return None
    from paretokit.study import run_sweep

    spec.folder.mkdir(parents=True, exist_ok=True)
    return run_sweep(sweep_config(spec), callbacks)


def run_study_methods(
    spec: StudySpec, callbacks: CompareCallbacks | None = None
) -> CompareOutcome | None:
    """Train the study's method and STL runs the results file lacks; None without methods."""
    if not spec.methods:
        return None
    from paretokit.compare import run_compare

    spec.folder.mkdir(parents=True, exist_ok=True)
    return run_compare(compare_config(spec), callbacks)


def check_runnable(spec: StudySpec) -> None:
    """Everything a run checks before training, for both parts, before either trains: the
    device exists, the sweep's and the comparison's settings are valid."""
    from paretokit.compare import plan_compare
    from paretokit.train import resolve_device

    try:
        resolve_device(spec.device)
    except ParetokitError as exc:
        raise ParetokitError(f"{spec.path}: device: {exc}") from None
    if spec.methods:
        plan_compare(compare_config(spec))
    if spec.sweep is not None:
        sweep_study_name(spec)
