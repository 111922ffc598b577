"""Option types shared by several commands (Typer ``Annotated`` aliases) and their choices.

The choices are plain Enums written out here, not imported from the library, so that
``--help`` needs neither torch nor optuna; tests check they match the library's lists.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class Format(str, Enum):
    """How a command prints its table: rich for people, the others for scripts."""

    table = "table"
    markdown = "markdown"
    json = "json"
    csv = "csv"


class SplitChoice(str, Enum):
    val = "val"
    test = "test"


class SamplerChoice(str, Enum):
    """``paretokit.sampling.SAMPLERS`` and its aliases."""

    dirichlet = "dirichlet"
    grid = "grid"
    qmc = "qmc"
    tpe = "tpe"
    nsga2 = "nsga2"
    adaptive = "adaptive"
    random = "random"


class CheckpointChoice(str, Enum):
    """``paretokit.train.epochs.CHECKPOINTS``."""

    last = "last"
    best = "best"


class ViewChoice(str, Enum):
    auto = "auto"
    pairs = "pairs"
    parallel = "parallel"
    paths = "paths"


ProblemOpt = Annotated[
    str, typer.Option(help="Built-in problem (`paretokit problems`), or package.module:factory.")
]
TasksOpt = Annotated[
    str | None,
    typer.Option(
        help="First N tasks ('3') or task names ('mu,alpha,homo'); default: the problem's."
    ),
]
EpochsOpt = Annotated[int | None, typer.Option(help="Epochs per run (default: the problem's).")]
BatchSizeOpt = Annotated[int | None, typer.Option(help="Batch size (default: the problem's).")]
LrOpt = Annotated[float | None, typer.Option(help="Adam learning rate (default: the problem's).")]
OutOpt = Annotated[Path, typer.Option(help="Results file (rows are appended).")]
DeviceOpt = Annotated[str, typer.Option(help="auto (CUDA if available), cpu or cuda[:N].")]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        help="torch CPU threads (default: $OMP_NUM_THREADS when set, else 1: the built-in "
        "models are small, and more threads are slower when other processes share the cores).",
        show_default=False,
    ),
]
CheckpointOpt = Annotated[
    CheckpointChoice,
    typer.Option(
        help="Evaluate each run at its last epoch, or at its best: the epoch with the best mean "
        "validation metric relative to epoch 1 (evaluates val every epoch). Part of the "
        "setting: sweep and compare are judged at the same kind of checkpoint."
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        help="The problem's model (`paretokit problems` lists them; default: the problem's "
        "first). qm9: mlp (descriptor MLP) or gnn (Gilmer et al.'s message-passing network, "
        "meant for a GPU). Part of the setting.",
        show_default=False,
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
ResultsFileArg = Annotated[Path, typer.Argument(help="A results file written by sweep/compare.")]


def find_user_problems(problem: str) -> None:
    """A user's ``--problem mymod:make`` imports ``mymod`` from the current folder, as
    ``python -m`` would (the console script puts only its own folder on the path)."""
    here = os.getcwd()
    if ":" in problem and here not in sys.path:
        sys.path.insert(0, here)
