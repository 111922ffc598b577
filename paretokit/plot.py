"""Figures from a results table: the sweep's Pareto frontier with the methods drawn over it.

K = 2: every sweep point, the non-dominated frontier as a staircase (the boundary of the
region the sweep dominates), each method as its mean over seeds with ±1 std error bars, and
the STL baselines as dashed reference lines. K ≥ 3: a grid of pairwise projections, with the
K-dimensional frontier points highlighted.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from paretokit import analysis  # noqa: E402
from paretokit.errors import ParetokitError  # noqa: E402
from paretokit.results import Results, TaskMeta  # noqa: E402

FORMATS = (".png", ".svg", ".pdf")
_MARKERS = "osD^vP*Xh<>p"


def axis_label(task: TaskMeta) -> str:
    unit = f" [{task.unit}]" if task.unit else ""
    arrow = "↑ better" if task.higher_is_better else "↓ better"
    return f"{task.name} {task.metric.upper()}{unit} ({arrow})"


def staircase(front: np.ndarray, higher_is_better: tuple[bool, bool]) -> np.ndarray:
    """Vertices of the frontier's attainment boundary for 2-D points (N, 2).

    In minimization space, sorted by the first coordinate, each point is joined to the next by
    a horizontal step at its own height then a vertical drop: the boundary of the dominated
    region. Mapped back to the metrics' own signs.
    """
    sign = np.where(np.asarray(higher_is_better), -1.0, 1.0)
    p = np.unique(front * sign, axis=0)
    p = p[np.argsort(p[:, 0], kind="stable")]
    verts = [p[0]]
    for a, b in zip(p[:-1], p[1:]):
        verts.append(np.array([b[0], a[1]]))
        verts.append(b)
    return np.asarray(verts) * sign


def method_summary(results: Results, split: str) -> pd.DataFrame:
    """Per method: mean and std over seeds of each task metric (method rows only)."""
    df = results.ok(split=split, kind="method")
    cols = results.metric_columns()
    if df.empty:
        return pd.DataFrame()
    grouped = df.groupby("method", sort=False)[cols]
    return grouped.mean().join(grouped.std(ddof=0).add_suffix(".std"))


def plot_frontier(results: Results, out: str | Path, split: str = "test") -> Path:
    """Draw the frontier figure for ``split`` into ``out`` (format from its extension)."""
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise ParetokitError(f"--out must end in {', '.join(FORMATS)}, got {out.name!r}")
    tasks = results.meta.tasks
    sweep = analysis.sweep_points(results, split)
    methods = method_summary(results, split)
    if sweep.empty and methods.empty:
        raise ParetokitError(f"the results file has no finished sweep or method runs on {split!r}")
    pairs = list(combinations(range(len(tasks)), 2))
    ncols = min(3, len(pairs))
    nrows = -(-len(pairs) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(5.2 * ncols, 4.4 * nrows), squeeze=False, layout="constrained"
    )
    hib_all = [t.higher_is_better for t in tasks]
    cols = results.metric_columns()
    points = sweep[cols].to_numpy(float) if not sweep.empty else np.empty((0, len(tasks)))
    on_front = analysis.non_dominated(points, hib_all) if len(points) else np.zeros(0, bool)
    baseline = analysis.stl_baseline(results, split)
    stl = baseline["mean"].to_dict() if not baseline.empty else {}
    for ax, (i, j) in zip(axes.flat, pairs):
        _panel(ax, tasks, i, j, points, on_front, methods, stl)
    for ax in list(axes.flat)[len(pairs) :]:
        ax.set_visible(False)
    n_front = int(on_front.sum())
    fig.suptitle(
        f"{results.meta.problem}: {len(points)} sweep points, {n_front} non-dominated ({split} split)"
    )
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        # outside the axes: constrained layout reserves the legend's rows below the panels
        fig.legend(
            handles, labels, loc="outside lower center", ncol=min(6, len(labels)), frameon=False
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _panel(ax, tasks, i, j, points, on_front, methods, stl) -> None:
    ti, tj = tasks[i], tasks[j]
    hib = (ti.higher_is_better, tj.higher_is_better)
    if len(points):
        ax.scatter(points[~on_front, i], points[~on_front, j], s=16, c="0.65", label="sweep point")
        ax.scatter(
            points[on_front, i],
            points[on_front, j],
            s=26,
            c="tab:blue",
            label="non-dominated sweep point",
            zorder=3,
        )
        pair = points[:, [i, j]]
        front2 = pair[analysis.non_dominated(pair, hib)]
        v = staircase(front2, hib)
        ax.plot(
            v[:, 0],
            v[:, 1],
            c="tab:blue",
            lw=1.2,
            alpha=0.8,
            label="frontier" if len(tasks) == 2 else "pairwise frontier",
        )
    for m, (name, row) in enumerate(methods.iterrows()):
        ax.errorbar(
            row[f"metric.{ti.name}"],
            row[f"metric.{tj.name}"],
            xerr=row[f"metric.{ti.name}.std"],
            yerr=row[f"metric.{tj.name}.std"],
            fmt=_MARKERS[m % len(_MARKERS)],
            ms=7,
            capsize=3,
            label=name,
            zorder=4,
            color=plt.cm.tab10((m + 1) % 10),
        )
    if ti.name in stl:
        ax.axvline(stl[ti.name], ls="--", c="k", lw=0.8, label="STL")
    if tj.name in stl:
        ax.axhline(stl[tj.name], ls="--", c="k", lw=0.8)
    ax.set_xlabel(axis_label(ti))
    ax.set_ylabel(axis_label(tj))
    ax.grid(alpha=0.3)
