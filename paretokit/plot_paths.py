"""The figure of CAGrad's and Nash-MTL's Fig. 1 from a results file: for problems with a known
Pareto front whose runs record their path (``toy``), one column per method (the LS sweep
first, every trial's runs together), the true front and each run's path in loss space (top)
and in parameter space (bottom), coloured by start, starts marked with a black dot and end
points with a cross. Drawn on a :class:`matplotlib.figure.Figure` (no pyplot), from the
results file alone (no torch).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from paretokit import analysis
from paretokit.analysis import reach
from paretokit.errors import ParetokitError
from paretokit.plot_file import save_figure
from paretokit.results import Results, read_trajectory

START_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#0072B2", "#F0E442")
FRONT_COLOUR = "0.55"


def known_front_of(results: Results) -> reach.KnownFront | None:
    meta = results.meta
    return reach.known_front(meta.problem, meta.task_names, [t.metric for t in meta.tasks])


def has_paths(results: Results) -> bool:
    """Whether ``plot`` draws the paths figure by default: a known front and some sweep or
    method runs with a recorded trajectory."""
    if known_front_of(results) is None:
        return False
    rows = results.ok()
    rows = rows[rows["kind"].isin(["sweep", "method"])]
    return bool((rows["trajectory"].astype(str) != "").any())


def path_panels(rows: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(title, runs) per panel: the sweep's runs together, then each method; one row per run
    (the split's), runs without a path left out."""
    rows = rows[rows["trajectory"].astype(str) != ""]
    panels = []
    sweep = rows[rows["kind"] == "sweep"]
    if len(sweep):
        panels.append((f"LS sweep ({sweep['trial'].nunique()} weights)", sweep))
    methods = rows[rows["kind"] == "method"]
    for label in dict.fromkeys(methods["method"]):
        panels.append((str(label), methods[methods["method"] == label]))
    return panels


def plot_paths(
    results: Results,
    out: str | Path,
    split: str = "test",
    title: str | None = None,
    dpi: int = 150,
    setting: Mapping[str, Any] | None = None,
) -> Path:
    """Draw the paths figure of ``results`` (see the module docstring) into ``out``."""
    front = known_front_of(results)
    if front is None:
        raise ParetokitError(
            f"problem {results.meta.problem!r} has no known Pareto front to draw paths against"
        )
    rows = results.ok(split=split)
    if rows.empty:
        raise ParetokitError(f"the results file has no finished runs on {split!r}")
    rows = analysis.setting_rows(rows, analysis.choose_setting(rows, setting))
    panels = path_panels(rows)
    if not panels:
        raise ParetokitError("no sweep or method run in the results file recorded its path")
    names = results.meta.task_names
    width = max(3.3 * len(panels) + 0.6, 9.0)
    fig = Figure(figsize=(width, 7.4), layout="constrained")
    axes = fig.subplots(2, len(panels), squeeze=False)
    for col, (name, runs) in enumerate(panels):
        _panel(axes[0, col], axes[1, col], name, runs, front, names)
    axes[0, 0].set_ylabel(f"{names[1]} (↓ better)")
    axes[1, 0].set_ylabel("x₂")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles += [
        Line2D([], [], color="black", marker="o", ls="", label="start"),
        Line2D([], [], color="0.3", marker="x", ls="", mew=2, label="end point"),
    ]
    labels += ["start", "end point"]
    ncol = min(len(labels), max(2, int(width // 3.0)))  # about 3 inches per legend entry
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol)
    fig.suptitle(
        title
        or f"{results.meta.problem}: paths to the true Pareto front, in loss space (top) and "
        "in x (bottom)"
    )
    return save_figure(fig, out, dpi)


def _panel(top, bottom, name: str, runs: pd.DataFrame, front, names: list[str]) -> None:
    top.plot(*front.points.T, color=FRONT_COLOUR, lw=5, alpha=0.6, label="true Pareto front (in x: its Pareto set)",
             solid_capstyle="round", zorder=1)  # fmt: skip
    if front.pareto_set is not None:
        bottom.plot(*front.pareto_set.T, color=FRONT_COLOUR, lw=5, alpha=0.6, zorder=1)
    many = len(runs) > 10
    seen: set[int] = set()
    for rec in runs.to_dict("records"):
        path = read_trajectory(rec["trajectory"])
        if path is None:
            continue
        seed = int(rec["seed"])
        colour = START_COLOURS[seed % len(START_COLOURS)]
        loss, x = np.array(path["loss"], dtype=float), np.array(path["x"], dtype=float)
        start = front.starts[seed] if seed < len(front.starts) else x[0]
        label = f"start {seed} {tuple(float(v) for v in start)}" if seed not in seen else None
        seen.add(seed)
        width, alpha = (0.8, 0.45) if many else (1.8, 0.9)
        for ax, pts in ((top, loss), (bottom, x)):
            ax.plot(*pts.T, color=colour, lw=width, alpha=alpha, label=label, zorder=2)
            ax.scatter(*pts[0], color="black", s=28, zorder=4)
            ax.scatter(*pts[-1], color=colour, marker="x", s=40, lw=2, zorder=5)
            label = None
    top.set_title(name)
    top.set_xlabel(f"{names[0]} (↓ better)")
    bottom.set_xlabel("x₁")
    bottom.set_xlim(-10.5, 10.5)
    bottom.set_ylim(-10.5, 10.5)
    bottom.set_aspect("equal")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
