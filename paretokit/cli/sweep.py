"""``paretokit sweep``: an Optuna study over loss weights on the simplex."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from paretokit.cli._app import app, user_errors
from paretokit.cli._options import (
    BatchSizeOpt,
    CheckpointChoice,
    CheckpointOpt,
    DeviceOpt,
    EpochsOpt,
    Format,
    FormatOpt,
    LrOpt,
    ModelOpt,
    OutOpt,
    ProblemOpt,
    SamplerChoice,
    TasksOpt,
    ThreadsOpt,
    find_user_problems,
)
from paretokit.cli._progress import sweep_progress
from paretokit.cli._render import message, render, render_empty_json

if TYPE_CHECKING:
    import pandas as pd

    from paretokit.results import ResultsMeta


# Long only by its options: typer reads them from the signature; the body is ~50 lines.
@app.command()
@user_errors
def sweep(
    problem: ProblemOpt = "qm9",
    tasks: TasksOpt = None,
    trials: Annotated[
        int, typer.Option(help="The study's total budget of complete trials, across all workers.")
    ] = 16,
    epochs: EpochsOpt = None,
    batch_size: BatchSizeOpt = None,
    lr: LrOpt = None,
    seed: Annotated[
        int,
        typer.Option(help="Seed of the sampler and the first training seed (--seed … +S−1)."),
    ] = 0,
    seeds: Annotated[
        int | None,
        typer.Option(
            help="Training seeds S per weight vector (model init and data order), paired with "
            "compare --seeds S; a trial's objective is their mean. Default: the problem's "
            "(`paretokit problems`): 3, toy 5 (its five starts).",
            show_default=False,
        ),
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            help="Optuna storage URL (default: SQLite file paretokit-studies.db next to --out)."
        ),
    ] = None,
    study_name: Annotated[
        str | None, typer.Option(help="Study name (default: derived from the setting).")
    ] = None,
    out: OutOpt = Path("results.parquet"),
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = None,
    sampler: Annotated[
        SamplerChoice,
        typer.Option(
            help="Where the weights go: dirichlet (uniform on the simplex), grid (the simplex "
            "lattice, each point once), qmc (scrambled Sobol), tpe or nsga2 (Optuna's), "
            "adaptive (into the front's largest gap); random = dirichlet."
        ),
    ] = SamplerChoice.dirichlet,
    grid_resolution: Annotated[
        int | None,
        typer.Option(
            help="grid sampler: lattice resolution n, w_k = i/n (default: fits --trials)."
        ),
    ] = None,
    population: Annotated[
        str,
        typer.Option(
            help="Trials trained at once as one batched model (same data batches, own weights), "
            "or 'auto': as many as fit the device's memory."
        ),
    ] = "1",
    checkpoint: CheckpointOpt = CheckpointChoice.last,
    model: ModelOpt = None,
    count_failed: Annotated[
        bool,
        typer.Option(
            "--count-failed",
            metavar="",  # a flag: no <bool> value in --help
            help="Let failed trials (e.g. a NaN loss) count against --trials; by default another "
            "trial is asked instead, and the sweep stops once as many trials failed as --trials.",
        ),
    ] = False,
    fmt: FormatOpt = Format.table,
    heartbeat_interval: Annotated[
        int,
        typer.Option(hidden=True, help="Seconds between a running trial's heartbeats (RDB)."),
    ] = 60,
    grace_period: Annotated[
        int,
        typer.Option(
            hidden=True, help="Seconds without a heartbeat before a trial is failed and retried."
        ),
    ] = 180,
) -> None:
    """Trace the Pareto frontier: an Optuna study over loss weights on the simplex.

    Re-running the same command resumes the study: --trials is the total, not an increment.
    The same command on several machines against one --storage shares the study and its
    budget; the progress counts every worker's trials.
    """
    from paretokit.study import SweepConfig, run_sweep

    find_user_problems(problem)
    config = SweepConfig(
        problem=problem,
        tasks=tasks,
        trials=trials,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        seeds=seeds,
        storage=storage,
        study_name=study_name,
        out=out,
        device=device,
        threads=threads,
        sampler=sampler.value,
        grid_resolution=grid_resolution,
        population=population,
        checkpoint=checkpoint.value,
        model=model,
        count_failed=count_failed,
        heartbeat_interval=heartbeat_interval,
        grace_period=grace_period,
    )
    with sweep_progress(count_failed) as callbacks:
        outcome = run_sweep(config, callbacks)
    message(
        f"study [bold]{escape(outcome.study_name)}[/]: {outcome.complete} complete, "
        f"{outcome.failed} failed ({outcome.new_trials} new) → {escape(str(outcome.out))}",
        fmt,
    )
    if outcome.results is None or outcome.frontier.empty:
        message("no finished sweep points yet", fmt)
        if fmt is Format.json:
            render_empty_json()
        return
    render(
        frontier_frame(outcome.frontier, outcome.results.meta, fmt),
        f"non-dominated sweep trials on the validation split, seed means ({len(outcome.frontier)} "
        f"of {outcome.complete} trials; report and plot judge on test by default)",
        fmt,
    )


def frontier_frame(front: pd.DataFrame, meta: ResultsMeta, fmt: Format) -> pd.DataFrame:
    """The frontier's trial, seeds, weights and val metrics (seed means); the rich table gets
    readable headers ("mu MAE [D] ↓"), machine formats keep the file's column names."""
    tasks = meta.task_names
    frame = front[["trial", "seeds"] + [f"w.{t}" for t in tasks] + [f"metric.{t}" for t in tasks]]
    frame = frame.reset_index(drop=True)
    if fmt is not Format.table:
        return frame
    names = {f"w.{t.name}": f"w {t.name}" for t in meta.tasks}
    for t in meta.tasks:
        unit = f" [{t.unit}]" if t.unit else ""
        names[f"metric.{t.name}"] = (
            f"{t.name} {t.metric.upper()}{unit} {'↑' if t.higher_is_better else '↓'}"
        )
    return frame.rename(columns=names)
