"""``paretokit compare``: the adaptive methods and STL baselines on the sweep's setting."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

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
    SplitChoice,
    TasksOpt,
    ThreadsOpt,
    find_user_problems,
)
from paretokit.cli._progress import compare_progress
from paretokit.cli._render import message
from paretokit.cli.report import render_reports
from paretokit.errors import ParetokitError


class GradientsChoice(str, Enum):
    parameters = "parameters"
    features = "features"


# Long only by its options: typer reads them from the signature; the body is ~50 lines.
@app.command()
@user_errors
def compare(
    methods: Annotated[
        list[str], typer.Argument(help="Methods to run (`paretokit methods`).", show_default=False)
    ],
    problem: ProblemOpt = "qm9",
    tasks: TasksOpt = None,
    seeds: Annotated[
        int | None,
        typer.Option(
            help="Seeds per method: 0 … N−1. Default: the problem's (`paretokit problems`): "
            "3, toy 5 (its five starts).",
            show_default=False,
        ),
    ] = None,
    epochs: EpochsOpt = None,
    batch_size: BatchSizeOpt = None,
    lr: LrOpt = None,
    out: OutOpt = Path("results.parquet"),
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = None,
    split: Annotated[
        SplitChoice,
        typer.Option(help="Split the methods are judged on (the front is chosen on val)."),
    ] = SplitChoice.test,
    checkpoint: CheckpointOpt = CheckpointChoice.last,
    model: ModelOpt = None,
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

    Same problem, model, data, epochs and seeds for every method. Then prints the report of
    the setting (as `paretokit report` does) for STL and these methods: per-task metrics over
    seeds, Δm% against STL, mean rank, and, against a sweep of the same setting in the results
    file, each method's outcome from its paired seeds and what the sweep cost to match it.
    """
    from paretokit.compare import CompareConfig, run_compare

    find_user_problems(problem)
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
        checkpoint=checkpoint.value,
        model=model,
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
    render_reports([outcome.report], fmt)


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
