"""Figures from a results table: the methods drawn over the sweep front, as the report judges
them.

Everything drawn comes from the report of one training setting
(:func:`paretokit.report.build_reports`), so the figure and the verdict table cannot disagree:

- the sweep: every trial's seed-mean point on the drawn split (faded), the trials chosen on
  validation highlighted, and (K = 2, and per pair of metrics for K = 3) the staircase of
  those chosen trials that are non-dominated on the drawn split;
- each method: its per-seed points (small), its seed mean with the 95% Student-t interval of
  each metric (error bars), and its outcome (beyond, within noise, dominated) in the legend
  and in the marker: filled = beyond, white = within noise, grey = dominated;
- the STL point (each task's single-task model) as a star.

For K = 3 the grid of pairwise projections, optionally with a 3-D view; for K > 3 parallel
coordinates (one vertical axis per metric, up is better). Colours are the Okabe–Ito palette
and every method also has its own marker; axes name the metric, its unit and its direction.
The figure is drawn on a :class:`matplotlib.figure.Figure` without pyplot, so importing or
calling this module never switches a notebook's backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from paretokit import analysis
from paretokit.errors import ParetokitError
from paretokit.plot_file import save_figure
from paretokit.plot_paths import has_paths, plot_paths
from paretokit.report import Report, build_reports
from paretokit.results import Results, TaskMeta

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FORMATS = (".png", ".svg", ".pdf")
VIEWS = ("auto", "pairs", "parallel", "paths")
# Okabe & Ito (2008), "Color Universal Design": black first is kept for STL
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442")
SWEEP_COLOUR, FRONT_COLOUR, STL_COLOUR = "0.7", "0.25", "black"
_MARKERS = "osD^vP*Xh<>p"
OUTCOME_LABEL = {"beyond": "beyond", "within_noise": "within noise", "dominated": "dominated"}


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


@dataclass
class MethodDraw:
    """One method as drawn: per-seed points (n, K), mean (K,), 95% half-widths (K,), outcome."""

    name: str
    seeds: np.ndarray
    mean: np.ndarray
    ci95: np.ndarray
    outcome: str | None

    @property
    def label(self) -> str:
        n = len(self.seeds)
        text = f"{self.name} ({n} seed{'' if n == 1 else 's'})"
        return f"{text}: {OUTCOME_LABEL[self.outcome]}" if self.outcome else text


def method_draws(report: Report) -> list[MethodDraw]:
    """The methods of a report as drawn (STL excluded: it is drawn as its own point)."""
    names = [t.name for t in report.tasks]
    out = []
    for rec in report.methods.to_dict("records"):
        if rec["method"] == "stl":
            continue
        seeds = report.per_seed[report.per_seed["method"] == rec["method"]][names]
        ci = np.array([rec[f"{t}.ci95"] for t in names], dtype=float)
        out.append(
            MethodDraw(
                name=str(rec["method"]),
                seeds=seeds.to_numpy(float),
                mean=np.array([rec[t] for t in names], dtype=float),
                ci95=np.where(np.isfinite(ci), ci, 0.0),
                outcome=rec.get("outcome") if isinstance(rec.get("outcome"), str) else None,
            )
        )
    return out


@dataclass
class FigureData:
    """What a frontier figure draws, metrics in the order of ``tasks``: the sweep's seed-mean
    points (N, K) with ``on_front`` marking those chosen on validation, the methods, and the
    STL point (K,) when the setting has STL runs."""

    tasks: list[TaskMeta]
    points: np.ndarray
    on_front: np.ndarray
    methods: list[MethodDraw]
    stl: np.ndarray | None


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

    ``view``: ``auto`` (pairwise panels up to K = 3, parallel coordinates beyond; the paths
    figure of :mod:`paretokit.plot_paths` for a problem with a known front whose runs recorded
    their path), ``pairs``, ``parallel`` or ``paths``; ``three_d`` adds a 3-D view of the front when K = 3. Only runs of one
    training setting are drawn together: ``setting`` (some of epochs, batch_size, lr) picks
    it when the file holds several.
    """
    out = _check_options(out, view, dpi)
    if view == "paths" or (view == "auto" and has_paths(results)):
        return plot_paths(results, out, split, title, dpi, setting)
    tasks = list(results.meta.tasks)
    if three_d and len(tasks) != 3:
        raise ParetokitError(f"the 3-D view needs exactly 3 tasks; this file has {len(tasks)}")
    report = _setting_report(results, split, setting)
    data = figure_data(report, results.metric_columns())
    if not len(data.points) and not data.methods:
        raise ParetokitError(f"the results file has no finished sweep or method runs on {split!r}")
    if view == "auto":
        view = "pairs" if len(tasks) <= 3 else "parallel"
    # SVG keeps text as text (searchable, editable in a paper's figure), not as paths
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig = _parallel(data) if view == "parallel" else _pairs(data, three_d)
        fig.suptitle(title or _default_title(results.meta.problem, report, data, split))
        save_figure(fig, out, dpi)  # PNG as a palette image (plot_file)
    return out


def _check_options(out: str | Path, view: str, dpi: int) -> Path:
    """``out`` as a Path, once its extension, ``view`` and ``dpi`` are known to be valid."""
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise ParetokitError(f"the figure file must end in {', '.join(FORMATS)}, got {out.name!r}")
    if view not in VIEWS:
        raise ParetokitError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    if dpi < 20 or dpi > 1200:
        raise ParetokitError(f"dpi must be between 20 and 1200, got {dpi}")
    return out


def _setting_report(results: Results, split: str, setting: Mapping[str, Any] | None) -> Report:
    """The report on ``split`` of the one training setting the figure draws (``setting``
    picks it when the file holds several: :func:`paretokit.analysis.choose_setting`)."""
    rows = results.ok(split=split)
    if rows.empty:
        raise ParetokitError(f"the results file has no finished runs on {split!r}")
    chosen_setting = analysis.choose_setting(rows, setting)
    (report,) = build_reports(results, split, setting=chosen_setting)
    return report


def figure_data(report: Report, metric_columns: list[str]) -> FigureData:
    """What the figure draws of ``report``: its sweep's points (the ``metric_columns`` of its
    table, in task order), its methods (:func:`method_draws`) and its STL point."""
    tasks = list(report.tasks)
    sweep = report.sweep
    if sweep is not None:
        points = sweep.table[metric_columns].to_numpy(float)
        on_front = sweep.table["chosen"].to_numpy(bool)
    else:
        points, on_front = np.empty((0, len(tasks))), np.zeros(0, dtype=bool)
    stl_row = report.methods[report.methods["method"] == "stl"] if len(report.methods) else None
    stl = (
        stl_row[[t.name for t in tasks]].to_numpy(float)[0]
        if stl_row is not None and len(stl_row)
        else None
    )
    return FigureData(tasks, points, on_front, method_draws(report), stl)


def _default_title(problem: str, report: Report, data: FigureData, split: str) -> str:
    """The default suptitle: ``qm9: 16 sweep trials × 3 seeds (5 chosen on val), test split``."""
    sweep, n = report.sweep, len(data.points)
    seeds = f" × {len(sweep.seeds)} seeds" if sweep is not None and len(sweep.seeds) > 1 else ""
    return (
        f"{problem}: {n} sweep trial{'' if n == 1 else 's'}{seeds} "
        f"({int(data.on_front.sum())} chosen on {report.choice_split}), {split} split"
    )


def _style(m: int) -> dict[str, object]:
    return {"color": OKABE_ITO[m % len(OKABE_ITO)], "marker": _MARKERS[m % len(_MARKERS)]}


def _face(method: MethodDraw, colour: object) -> object:
    """The mean marker's fill: the method's colour when beyond the front, white when within
    noise (or no verdict), grey when dominated."""
    return {"beyond": colour, "dominated": "0.55"}.get(method.outcome or "", "white")


def _pairs(data: FigureData, three_d: bool) -> Figure:
    """One panel per pair of metrics (and the 3-D view when ``three_d``), one shared legend."""
    pairs = list(combinations(range(len(data.tasks)), 2))
    panels = len(pairs) + (1 if three_d else 0)
    ncols = min(3 if not three_d else 2, panels)
    nrows = -(-panels // ncols)
    fig = Figure(figsize=(max(5.2 * ncols, 8.0), 4.4 * nrows + 1.4), layout="constrained")
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(len(pairs))]
    for ax, (i, j) in zip(axes, pairs):
        _panel(ax, data, i, j)
    if three_d:
        _panel_3d(fig.add_subplot(nrows, ncols, panels, projection="3d"), data)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=min(len(labels), 2 * ncols),
        frameon=False,
        title="methods: large marker = mean over seeds ± 95% t-interval, small = each seed;\n"
        "fill = outcome: colour beyond, white within noise, grey dominated",
        title_fontsize=9,
    )
    return fig


def _panel(ax: Axes, data: FigureData, i: int, j: int) -> None:
    """Metric i against metric j: the sweep, the methods and the STL point."""
    if len(data.points):
        _sweep_on_panel(ax, data, i, j)
    for m, method in enumerate(data.methods):
        _method_on_panel(ax, method, _style(m), i, j)
    if data.stl is not None:
        stl = data.stl
        ax.scatter(stl[i], stl[j], marker="*", s=160, c=STL_COLOUR, label="STL", zorder=6)
        ax.axvline(stl[i], ls=":", c=STL_COLOUR, lw=0.7)
        ax.axhline(stl[j], ls=":", c=STL_COLOUR, lw=0.7)
    ax.set_xlabel(axis_label(data.tasks[i]))
    ax.set_ylabel(axis_label(data.tasks[j]))
    ax.grid(alpha=0.3)


def _sweep_on_panel(ax: Axes, data: FigureData, i: int, j: int) -> None:
    """The sweep's points on the (i, j) panel, faded unless chosen on validation, and the
    staircase of the chosen ones that are non-dominated on these two metrics."""
    points, on_front = data.points, data.on_front
    hib = (data.tasks[i].higher_is_better, data.tasks[j].higher_is_better)
    ax.scatter(
        points[~on_front, i],
        points[~on_front, j],
        s=14,
        c=SWEEP_COLOUR,
        alpha=0.6,
        lw=0,
        label="sweep trial, not chosen" if (~on_front).any() else None,
    )
    ax.scatter(
        points[on_front, i],
        points[on_front, j],
        s=22,
        c=FRONT_COLOUR,
        lw=0,
        label="sweep trial chosen on val",
        zorder=3,
    )
    pair = points[on_front][:, [i, j]]
    v = staircase(pair[analysis.non_dominated(pair, hib)], hib)
    label = "sweep frontier" if len(data.tasks) == 2 else "pairwise sweep frontier"
    ax.plot(v[:, 0], v[:, 1], c=FRONT_COLOUR, lw=1.2, alpha=0.8, label=label)


def _method_on_panel(ax: Axes, method: MethodDraw, style: dict[str, Any], i: int, j: int) -> None:
    """A method on the (i, j) panel: each seed's point, and its mean with the 95% intervals
    (when it has more than one seed), filled by its outcome (:func:`_face`)."""
    ax.scatter(method.seeds[:, i], method.seeds[:, j], s=16, alpha=0.55, lw=0, zorder=4, **style)
    ax.errorbar(
        method.mean[i],
        method.mean[j],
        xerr=method.ci95[i] if len(method.seeds) > 1 else None,
        yerr=method.ci95[j] if len(method.seeds) > 1 else None,
        fmt=style["marker"],
        color=style["color"],
        mfc=_face(method, style["color"]),
        mec=style["color"] if method.outcome == "within_noise" else "black",
        mew=1.4 if method.outcome == "within_noise" else 0.6,
        ms=8,
        capsize=3,
        label=method.label,
        zorder=5,
    )


def _panel_3d(ax: Any, data: FigureData) -> None:
    """The three metrics in one 3-D view: sweep points, method means and STL, no legend."""
    points, on_front = data.points, data.on_front
    if len(points):
        ax.scatter(*points[~on_front].T, s=8, c=SWEEP_COLOUR, alpha=0.5, depthshade=False)
        ax.scatter(*points[on_front].T, s=16, c=FRONT_COLOUR, depthshade=False)
    for m, method in enumerate(data.methods):
        style = _style(m)
        ax.scatter(
            *method.mean,
            s=60,
            c=[_face(method, style["color"])],
            marker=style["marker"],
            edgecolors=style["color"] if method.outcome == "within_noise" else "black",
            depthshade=False,
        )
    if data.stl is not None:
        ax.scatter(*data.stl, marker="*", s=140, c=STL_COLOUR, depthshade=False)
    for setter, t in zip((ax.set_xlabel, ax.set_ylabel, ax.set_zlabel), data.tasks):
        setter(axis_label(t), fontsize=7)
    ax.tick_params(labelsize=6)
    ax.set_title("3-D view of the front", fontsize=9)


def _parallel(data: FigureData) -> Figure:
    """Parallel coordinates: metric j scaled so that 0 is the worst and 1 the best value
    among the drawn points; each axis is labelled with its own values at both ends."""
    stl = data.stl
    drawn = (
        [data.points[data.on_front]]
        + [m.seeds for m in data.methods]
        + ([stl[None, :]] if stl is not None else [])
    )
    stacked = np.vstack([d for d in drawn if len(d)])
    norm = analysis.Normalization.from_points(stacked, [t.higher_is_better for t in data.tasks])
    k = len(data.tasks)
    fig = Figure(figsize=(max(8.0, 1.6 * k + 2), 5.5), layout="constrained")
    ax = fig.add_subplot()
    n_front = _parallel_lines(ax, data, norm)
    _parallel_axes(ax, data.tasks, norm)
    n_labels = len(data.methods) + int(n_front > 0) + int(stl is not None)
    fig.legend(loc="outside lower center", ncol=min(3, max(n_labels, 1)), frameon=False)
    return fig


def _parallel_lines(ax: Axes, data: FigureData, norm: analysis.Normalization) -> int:
    """The lines of the parallel-coordinates figure, each metric scaled by ``norm`` and
    flipped so that 1 is the best (ideal) and 0 the worst (nadir): the sweep points chosen on
    validation (thin, grey), each method's mean and STL. Returns how many sweep lines."""

    def up(p: np.ndarray) -> np.ndarray:
        return 1.0 - norm(p)

    k = len(data.tasks)
    x = np.arange(k)
    front = up(data.points[data.on_front]) if len(data.points) else np.empty((0, k))
    for n, row in enumerate(front):
        ax.plot(
            x,
            row,
            c=SWEEP_COLOUR,
            lw=0.9,
            alpha=0.7,
            label="sweep front point (chosen on val)" if n == 0 else None,
        )
    for m, method in enumerate(data.methods):
        style = _style(m)
        ax.plot(
            x,
            up(method.mean)[0],
            lw=2.2,
            ms=7,
            mfc=_face(method, style["color"]),
            label=method.label,
            **style,
        )
    if data.stl is not None:
        ax.plot(x, up(data.stl)[0], c=STL_COLOUR, ls="--", marker="*", ms=11, lw=1.4, label="STL")
    return len(front)


def _parallel_axes(ax: Axes, tasks: list[TaskMeta], norm: analysis.Normalization) -> None:
    """One vertical axis per metric, its best drawn value written at the top and its worst at
    the bottom, the metrics' names under them."""
    k = len(tasks)
    worst, best = norm.to_metrics(np.ones(k))[0], norm.to_metrics(np.zeros(k))[0]
    for j in range(k):
        ax.axvline(j, c="0.5", lw=0.8)
        for value, y, offset in ((best[j], 1.0, 6), (worst[j], 0.0, -14)):
            ax.annotate(
                f"{value:.4g}",
                (j, y),
                xytext=(0, offset),
                textcoords="offset points",
                ha="center",
                fontsize=8,
            )
    ax.set_xticks(np.arange(k), [axis_label(t).replace(" (", "\n(") for t in tasks], fontsize=8)
    ax.set_yticks([0, 1], ["worst", "best"])
    ax.set_ylim(-0.12, 1.12)
    ax.set_ylabel("each metric scaled: best drawn value up")
