"""Figures from a results table: the sweep's Pareto frontier with the methods drawn over it.

- K = 2: every sweep point (faded), the non-dominated frontier as a staircase (the boundary
  of the region the sweep dominates), each method as its per-seed points and its mean with
  ±1 std error bars, and the STL point (each task's single-task model) as a star.
- K = 3: the grid of pairwise projections (the K-dimensional front's points highlighted, the
  staircase of each 2-D projection), optionally with a 3-D view of the front.
- K > 3: parallel coordinates: one vertical axis per metric, oriented so that up is better,
  the front's points as faded lines and each method's mean as a bold line.

Colours are the Okabe–Ito palette (distinguishable with the common colour-vision
deficiencies) and every method also has its own marker; axes name the metric, its unit and
its direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from paretokit import analysis  # noqa: E402
from paretokit.errors import ParetokitError  # noqa: E402
from paretokit.results import Results, TaskMeta  # noqa: E402

FORMATS = (".png", ".svg", ".pdf")
VIEWS = ("auto", "pairs", "parallel")
# Okabe & Ito (2008), "Color Universal Design": black first is kept for STL
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442")
SWEEP_COLOUR, FRONT_COLOUR, STL_COLOUR = "0.7", "0.25", "black"
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


def method_points(results: Results, split: str) -> dict[str, np.ndarray]:
    """Per method label, its per-seed metric rows (n_seeds, K), finite rows only."""
    df = results.ok(split=split, kind="method")
    cols = results.metric_columns()
    out = {}
    for label, runs in df.groupby("method", sort=False):
        p = runs[cols].to_numpy(float)
        p = p[np.isfinite(p).all(axis=1)]
        if len(p):
            out[str(label)] = p
    return out


def plot_frontier(
    results: Results,
    out: str | Path,
    split: str = "test",
    title: str | None = None,
    dpi: int = 150,
    view: str = "auto",
    three_d: bool = False,
    setting: Mapping[str, Any] | None = None,
) -> Path:
    """Draw the frontier figure for ``split`` into ``out`` (format from its extension).

    ``view``: ``auto`` (pairwise panels up to K = 3, parallel coordinates beyond), ``pairs``
    or ``parallel``; ``three_d`` adds a 3-D view of the front when K = 3. Only runs of one
    training setting are drawn together: ``setting`` (some of epochs, batch_size, lr) picks
    it when the file holds several.
    """
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise ParetokitError(f"--out must end in {', '.join(FORMATS)}, got {out.name!r}")
    if view not in VIEWS:
        raise ParetokitError(f"--view must be one of {', '.join(VIEWS)}")
    if dpi < 20 or dpi > 1200:
        raise ParetokitError("--dpi must be between 20 and 1200")
    tasks = list(results.meta.tasks)
    if three_d and len(tasks) != 3:
        raise ParetokitError(f"--3d needs exactly 3 tasks; this file has {len(tasks)}")
    rows = results.ok(split=split)
    if rows.empty:
        raise ParetokitError(f"the results file has no finished runs on {split!r}")
    chosen = analysis.choose_setting(rows, setting)
    results = Results(analysis.setting_rows(results.frame, chosen), results.meta)
    cols = results.metric_columns()
    sweep = analysis.sweep_points(results, split)
    points = sweep[cols].to_numpy(float) if not sweep.empty else np.empty((0, len(tasks)))
    points = points[np.isfinite(points).all(axis=1)]
    methods = method_points(results, split)
    if not len(points) and not methods:
        raise ParetokitError(f"the results file has no finished sweep or method runs on {split!r}")
    hib = [t.higher_is_better for t in tasks]
    on_front = analysis.non_dominated(points, hib) if len(points) else np.zeros(0, bool)
    baseline = analysis.stl_baseline(results, split)
    stl = (
        np.array([baseline.loc[t.name, "mean"] for t in tasks])
        if len(baseline) == len(tasks)
        else None
    )
    if view == "auto":
        view = "pairs" if len(tasks) <= 3 else "parallel"
    # SVG keeps text as text (searchable, editable in a paper's figure), not as paths
    with plt.rc_context({"svg.fonttype": "none"}):
        if view == "parallel":
            fig = _parallel(tasks, points, on_front, methods, stl)
        else:
            fig = _pairs(tasks, points, on_front, methods, stl, three_d)
        n_front = int(on_front.sum())
        fig.suptitle(
            title
            or f"{results.meta.problem}: {len(points)} sweep point{'' if len(points) == 1 else 's'}, "
            f"{n_front} non-dominated "
            f"({split} split)"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=dpi)
        plt.close(fig)
    return out


def _seeds(n: int) -> str:
    return f"{n} seed{'' if n == 1 else 's'}"


def _style(m: int) -> dict[str, object]:
    return {"color": OKABE_ITO[m % len(OKABE_ITO)], "marker": _MARKERS[m % len(_MARKERS)]}


def _pairs(tasks, points, on_front, methods, stl, three_d):
    pairs = list(combinations(range(len(tasks)), 2))
    panels = len(pairs) + (1 if three_d else 0)
    ncols = min(3 if not three_d else 2, panels)
    nrows = -(-panels // ncols)
    fig = plt.figure(figsize=(5.2 * ncols, 4.4 * nrows + 0.6), layout="constrained")
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(len(pairs))]
    for ax, (i, j) in zip(axes, pairs):
        _panel(ax, tasks, i, j, points, on_front, methods, stl)
    if three_d:
        _panel_3d(
            fig.add_subplot(nrows, ncols, panels, projection="3d"),
            tasks,
            points,
            on_front,
            methods,
            stl,
        )
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=min(len(labels), 2 * ncols),
        frameon=False,
        title="methods: large marker = mean ± 1 sample std over seeds,\nsmall markers = each seed",
        title_fontsize=9,
    )
    return fig


def _panel(ax, tasks, i, j, points, on_front, methods, stl) -> None:
    ti, tj = tasks[i], tasks[j]
    hib = (ti.higher_is_better, tj.higher_is_better)
    if len(points):
        ax.scatter(
            points[~on_front, i],
            points[~on_front, j],
            s=14,
            c=SWEEP_COLOUR,
            alpha=0.6,
            lw=0,
            label="dominated sweep point" if (~on_front).any() else None,
        )
        ax.scatter(
            points[on_front, i],
            points[on_front, j],
            s=22,
            c=FRONT_COLOUR,
            lw=0,
            label="non-dominated sweep point",
            zorder=3,
        )
        pair = points[:, [i, j]]
        v = staircase(pair[analysis.non_dominated(pair, hib)], hib)
        label = "sweep frontier" if len(tasks) == 2 else "pairwise sweep frontier"
        ax.plot(v[:, 0], v[:, 1], c=FRONT_COLOUR, lw=1.2, alpha=0.8, label=label)
    for m, (name, seeds) in enumerate(methods.items()):
        style = _style(m)
        ax.scatter(seeds[:, i], seeds[:, j], s=16, alpha=0.45, lw=0, zorder=4, **style)
        mean = seeds.mean(axis=0)
        std = seeds.std(axis=0, ddof=1) if len(seeds) > 1 else np.zeros_like(mean)
        ax.errorbar(
            mean[i],
            mean[j],
            xerr=std[i] if len(seeds) > 1 else None,
            yerr=std[j] if len(seeds) > 1 else None,
            fmt=style["marker"],
            color=style["color"],
            mec="black",
            mew=0.6,
            ms=8,
            capsize=3,
            label=f"{name} ({_seeds(len(seeds))})",
            zorder=5,
        )
    if stl is not None:
        ax.scatter(stl[i], stl[j], marker="*", s=160, c=STL_COLOUR, label="STL", zorder=6)
        ax.axvline(stl[i], ls=":", c=STL_COLOUR, lw=0.7)
        ax.axhline(stl[j], ls=":", c=STL_COLOUR, lw=0.7)
    ax.set_xlabel(axis_label(ti))
    ax.set_ylabel(axis_label(tj))
    ax.grid(alpha=0.3)


def _panel_3d(ax, tasks, points, on_front, methods, stl) -> None:
    if len(points):
        ax.scatter(*points[~on_front].T, s=8, c=SWEEP_COLOUR, alpha=0.5, depthshade=False)
        ax.scatter(*points[on_front].T, s=16, c=FRONT_COLOUR, depthshade=False)
    for m, (_, seeds) in enumerate(methods.items()):
        style = _style(m)
        ax.scatter(
            *seeds.mean(axis=0),
            s=60,
            c=style["color"],
            marker=style["marker"],
            edgecolors="black",
            depthshade=False,
        )
    if stl is not None:
        ax.scatter(*stl, marker="*", s=140, c=STL_COLOUR, depthshade=False)
    for setter, t in zip((ax.set_xlabel, ax.set_ylabel, ax.set_zlabel), tasks):
        setter(axis_label(t), fontsize=7)
    ax.tick_params(labelsize=6)
    ax.set_title("3-D view of the front", fontsize=9)


def _parallel(tasks, points, on_front, methods, stl):
    """Parallel coordinates: metric j scaled so that 0 is the worst and 1 the best value
    among the drawn points; each axis is labelled with its own values at both ends."""
    drawn = (
        [points[on_front]] + list(methods.values()) + ([stl[None, :]] if stl is not None else [])
    )
    stacked = np.vstack([d for d in drawn if len(d)])
    hib = [t.higher_is_better for t in tasks]
    norm = analysis.Normalization.from_points(stacked, hib)

    def up(p: np.ndarray) -> np.ndarray:  # 1 = best (ideal), 0 = worst (nadir)
        return 1.0 - norm(p)

    k = len(tasks)
    x = np.arange(k)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.6 * k + 2), 5.5), layout="constrained")
    front = up(points[on_front]) if len(points) else np.empty((0, k))
    for n, row in enumerate(front):
        ax.plot(
            x, row, c=SWEEP_COLOUR, lw=0.9, alpha=0.7, label="sweep front point" if n == 0 else None
        )
    for m, (name, seeds) in enumerate(methods.items()):
        style = _style(m)
        ax.plot(
            x,
            up(seeds.mean(axis=0))[0],
            lw=2.2,
            ms=7,
            label=f"{name} ({_seeds(len(seeds))})",
            **style,
        )
    if stl is not None:
        ax.plot(x, up(stl)[0], c=STL_COLOUR, ls="--", marker="*", ms=11, lw=1.4, label="STL")
    worst, best = norm.to_metrics(np.ones(k))[0], norm.to_metrics(np.zeros(k))[0]
    for j in range(k):
        ax.axvline(j, c="0.5", lw=0.8)
        ax.annotate(
            f"{best[j]:.4g}",
            (j, 1.0),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
        ax.annotate(
            f"{worst[j]:.4g}",
            (j, 0.0),
            xytext=(0, -14),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.set_xticks(x, [axis_label(t).replace(" (", "\n(") for t in tasks], fontsize=8)
    ax.set_yticks([0, 1], ["worst", "best"])
    ax.set_ylim(-0.12, 1.12)
    ax.set_ylabel("each metric scaled: best drawn value up")
    n_labels = len(methods) + int(len(front) > 0) + int(stl is not None)
    fig.legend(loc="outside lower center", ncol=min(3, max(n_labels, 1)), frameon=False)
    return fig
