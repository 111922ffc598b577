"""``paretokit compare``: the adaptive methods and STL baselines on the sweep's setting."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from paretokit.cli._app import app, user_errors
from paretokit.cli._options import (
    BatchSizeOpt,
    DeviceOpt,
    EpochsOpt,
    Format,
    FormatOpt,
    LrOpt,
    OutOpt,
    ProblemOpt,
    SplitChoice,
    TasksOpt,
    ThreadsOpt,
)
from paretokit.cli._progress import compare_progress
from paretokit.cli._render import message, render
from paretokit.errors import ParetokitError

if TYPE_CHECKING:
    import pandas as pd


class GradientsChoice(str, Enum):
    parameters = "parameters"
    features = "features"


@app.command()
@user_errors
def compare(
    methods: Annotated[
        list[str], typer.Argument(help="Methods to run (`paretokit methods`).", show_default=False)
    ],
    problem: ProblemOpt = "qm9",
    tasks: TasksOpt = None,
    seeds: Annotated[int, typer.Option(help="Seeds per method: 0 … N−1.")] = 3,
    epochs: EpochsOpt = None,
    batch_size: BatchSizeOpt = None,
    lr: LrOpt = None,
    out: OutOpt = Path("results.parquet"),
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = None,
    split: Annotated[SplitChoice, typer.Option(help="Split the table reports.")] = SplitChoice.test,
    update_every: Annotated[
        int | None, typer.Option(help="Nash-MTL-N: recompute the weights every N steps.")
    ] = None,
    main_task: Annotated[
        str | None, typer.Option(help="Main task (by name) of gradsim and metabalance.")
    ] = None,
    gradients: Annotated[
        GradientsChoice | None,
        typer.Option(
            help="Gradients the Gramian methods see: of the shared parameters, or of the shared "
            "features (one backward through the trunk; `paretokit methods` says which methods "
            "support it). Default: each method's paper (features for imtl and graddrop).",
            show_default=False,
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-o",
            help="A method option KEY=VALUE (to every method that has it) or METHOD.KEY=VALUE.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Run adaptive MTO methods (and STL baselines) on the sweep's setting and compare them.

    Same problem, model, data, epochs and seeds for every method. The table gives per-task
    metrics (mean ± std over seeds), Δm% against STL, mean rank, and whether a sweep point of
    the same setting in the results file dominates each method.
    """
    from paretokit.compare import CompareConfig, run_compare

    shared, scoped = parse_options(option or [])
    if update_every is not None:
        shared["update_every"] = update_every
    if main_task is not None:
        shared["main_task"] = main_task
    if gradients is not None:
        shared["feature_level"] = gradients is GradientsChoice.features
    config = CompareConfig(
        methods=methods,
        problem=problem,
        tasks=tasks,
        seeds=seeds,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        out=out,
        device=device,
        threads=threads,
        split=split.value,
        options=shared,
        method_options=scoped,
    )
    with compare_progress() as callbacks:
        outcome = run_compare(config, callbacks)
    message(
        f"{outcome.trained} runs trained ({outcome.failed} failed), {outcome.skipped} already in "
        f"{escape(str(outcome.out))}",
        fmt,
    )
    render(
        comparison_frame(outcome.table, outcome.setting["tasks"], fmt),
        f"{outcome.setting['problem']} {', '.join(outcome.setting['tasks'])}: "
        f"{split.value} metrics, Δm% vs STL (lower is better)",
        fmt,
    )


def parse_options(items: list[str]) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    """``KEY=VALUE`` → shared options; ``METHOD.KEY=VALUE`` → that method's. Values are read as
    JSON when they parse (numbers, true/false, lists), else kept as strings."""
    shared: dict[str, object] = {}
    scoped: dict[str, dict[str, object]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ParetokitError(f"--option {item!r}: expected KEY=VALUE or METHOD.KEY=VALUE")
        try:
            value: object = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        method, dot, name = key.rpartition(".")
        if dot:
            scoped.setdefault(method, {})[name] = value
        else:
            shared[name] = value
    return shared, scoped


def comparison_frame(table: pd.DataFrame, tasks: list[str], fmt: Format | str) -> pd.DataFrame:
    """For the rich table, 'mean ± std' cells; machine formats keep separate columns."""
    import pandas as pd

    if Format(fmt) is not Format.table or table.empty:
        return table
    shown = pd.DataFrame({"method": table["method"], "seeds": table["seeds"]})
    for t in tasks:
        shown[t] = [  # one seed has no spread to show
            f"{m:.4g} ± {s:.2g}" if n > 1 else f"{m:.4g}"
            for m, s, n in zip(table[t], table[f"{t}.std"], table["seeds"])
        ]
    shown["Δm%"] = table["delta_m"].map(lambda v: f"{v:+.2f}" if pd.notna(v) else "n/a")
    shown["mean rank"] = table["mean_rank"].map(lambda v: f"{v:.2f}")
    shown["dominated by sweep"] = table["dominated"].replace("", "no sweep")
    shown["step ms"] = table["step_ms"].map(lambda v: f"{v:.2f}")
    return shown
