"""``paretokit report``: the verdict of a results file — every method against the sweep front.

Built only from the results file (any valid one: sweep rows only, method rows only, both).
For each training setting in the file (problem, epochs, batch size, learning rate) and one
split, it gives

- the sweep front: how many sweep points, how many non-dominated, its hypervolume;
- per method (and the STL baseline): per-task metrics over seeds (mean, std, 95% t-interval),
  Δm% against the baseline, mean rank, in how many seeds the sweep front dominates it, the
  additive ε-indicator of its mean point against the front, its hypervolume contribution,
  and **what the sweep would have cost**: the number of sweep trials, in the order they
  finished, and their summed training seconds, after which the front first matches or
  dominates the method's mean point (ε ≤ 0), next to the method's own training seconds;
- a one-line verdict per method, and notes on what is missing.

Hypervolume and ε are computed on one normalization for every row: each metric is mapped to
minimization and scaled so that the ideal and nadir of all the split's points (sweep,
methods, seeds, STL) are 0 and 1; the reference point is the nadir plus ``margin`` of each
range (1.1 by default), reported in the metrics' own units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from paretokit import analysis
from paretokit.errors import ParetokitError
from paretokit.results import SPLITS, Results, TaskMeta

SWEEP_COLUMNS = (
    "dominated_seeds",
    "mean_dominated",
    "epsilon",
    "hv_contribution",
    "hv_contribution_pct",
    "sweep_trials_to_match",
    "sweep_seconds_to_match",
)
MATCH_TOL = 1e-12  # ε within rounding of 0 counts as matched


@dataclass
class SweepSummary:
    """The sweep side of a report."""

    points: int  # finished sweep trials with finite metrics on the split
    front_size: int
    hypervolume: float  # normalized units (ideal 0, nadir 1, reference 1 + margin)
    seconds: float  # summed training seconds of all those trials
    front: pd.DataFrame  # the front's rows: trial, weights, metrics


@dataclass
class Report:
    """One setting's report on one split."""

    problem: str
    split: str
    setting: dict[str, Any]
    tasks: list[TaskMeta]
    baseline: str
    ideal: list[float]  # per metric, in the metric's units (best value seen)
    nadir: list[float]  # per metric, in the metric's units (worst value seen)
    reference: list[float]  # the hypervolume reference point, in the metric's units
    margin: float
    sweep: SweepSummary | None
    methods: pd.DataFrame  # one row per method (STL first when present); see build_report
    per_seed: pd.DataFrame  # one row per (method, seed): metrics, dominated, ε
    notes: list[str] = field(default_factory=list)


def build_reports(
    results: Results, split: str = "test", baseline: str = "stl", margin: float = 0.1
) -> list[Report]:
    """One :class:`Report` per training setting present in ``results`` on ``split``."""
    if split not in SPLITS:
        raise ParetokitError(f"--split must be one of {', '.join(SPLITS)}")
    if not (math.isfinite(margin) and margin > 0):
        raise ParetokitError("--margin must be a positive finite number")
    rows = results.ok(split=split)
    if rows.empty:
        raise ParetokitError(f"the results file has no finished runs on the {split!r} split")
    failed = results.frame[(results.frame["split"] == split) & (results.frame["status"] != "ok")]
    reports = []
    for setting in analysis.training_settings(rows):
        r = _report(results, _of_setting(rows, setting), split, setting, baseline, margin)
        n_failed = len(_of_setting(failed, setting))
        if n_failed:
            r.notes.append(f"{n_failed} failed run(s) not shown (status failed, see their error)")
        reports.append(r)
    return reports


def _of_setting(rows: pd.DataFrame, setting: dict[str, Any]) -> pd.DataFrame:
    return rows if rows.empty else analysis.setting_rows(rows, setting)


def _report(
    results: Results,
    rows: pd.DataFrame,
    split: str,
    setting: dict[str, Any],
    baseline: str,
    margin: float,
) -> Report:
    tasks = list(results.meta.tasks)
    names = [t.name for t in tasks]
    cols = results.metric_columns()
    hib = [t.higher_is_better for t in tasks]
    notes: list[str] = []

    # a sweep or method run is a point: all K metrics must be finite; an STL run of task k
    # counts for task k only (it is the single-task model's metric)
    finite = (
        np.isfinite(rows[cols].to_numpy(float)).all(axis=1) | (rows["kind"] == "stl").to_numpy()
    )
    if (~finite).any():
        notes.append(f"{int((~finite).sum())} finished run(s) with a NaN metric left out")
    rows = rows[finite]
    sweep = _finish_order(rows[rows["kind"] == "sweep"])
    method_rows = rows[rows["kind"] == "method"]
    stl_rows = rows[rows["kind"] == "stl"]

    stl = _stl_summary(stl_rows, names)
    labels = list(dict.fromkeys(method_rows["method"]))
    summaries = {
        label: _seed_points(method_rows[method_rows["method"] == label], cols) for label in labels
    }

    all_points = [sweep[cols].to_numpy(float)] + [s[1] for s in summaries.values()]
    if stl is not None:
        all_points.append(stl.mean[None, :])
    stacked = np.vstack([p for p in all_points if len(p)])
    norm = analysis.Normalization.from_points(stacked, hib)
    ref_z = analysis.reference_point(norm, margin)
    reference = norm.to_metrics(ref_z)[0]

    sweep_z = norm(sweep[cols].to_numpy(float)) if len(sweep) else np.empty((0, len(cols)))
    minimize = [False] * len(cols)
    summary = None
    if len(sweep):
        on_front = analysis.non_dominated(sweep_z, minimize)
        front_z = sweep_z[on_front]
        front_cols = ["trial"] + [f"w.{t}" for t in names] + cols
        summary = SweepSummary(
            points=len(sweep),
            front_size=int(on_front.sum()),
            hypervolume=analysis.hypervolume(front_z, ref_z, minimize),
            seconds=float(sweep["train_seconds"].sum()),
            front=sweep.loc[on_front, front_cols].reset_index(drop=True),
        )
    else:
        front_z = sweep_z
        notes.append(
            "no sweep rows: front, hypervolume, ε and sweep cost not available — "
            "run `paretokit sweep` with the same setting"
        )
    if not labels:
        notes.append("no method rows — run `paretokit compare METHOD …` with the same setting")

    records: list[dict[str, Any]] = []
    seed_records: list[dict[str, Any]] = []
    if stl is not None:
        rec = _metric_cells("stl", stl, names)
        rec.update(train_seconds=stl.seconds, step_ms=stl.step_ms)
        records.append(rec)
    for label, (seeds, points, seconds, step_ms) in summaries.items():
        stats = analysis.summarize_seeds(points)
        rec = _metric_cells(label, stats, names)
        rec.update(train_seconds=seconds, step_ms=step_ms)
        z = norm(points)
        mean_z = norm(stats.mean)[0]
        if summary is not None:
            dominated = [len(analysis.dominated_by_any(p, front_z, minimize)) > 0 for p in z]
            eps_seed = [analysis.epsilon_indicator(p, front_z, minimize) for p in z]
            rec["dominated_seeds"] = int(sum(dominated))
            rec["mean_dominated"] = len(analysis.dominated_by_any(mean_z, front_z, minimize)) > 0
            rec["epsilon"] = analysis.epsilon_indicator(mean_z, front_z, minimize)
            rec["hv_contribution"] = analysis.hypervolume_contribution(
                front_z, mean_z, ref_z, minimize
            )
            rec["hv_contribution_pct"] = (
                100.0 * rec["hv_contribution"] / summary.hypervolume
                if summary.hypervolume > 0
                else math.nan
            )
            trials, secs = _sweep_cost_to_match(mean_z, sweep_z, sweep["train_seconds"])
            rec["sweep_trials_to_match"], rec["sweep_seconds_to_match"] = trials, secs
        else:
            dominated = [False] * len(z)
            eps_seed = [math.nan] * len(z)
        for seed, point, dom, eps in zip(seeds, points, dominated, eps_seed):
            srec = {"method": label, "seed": int(seed)}
            srec.update({t: float(v) for t, v in zip(names, point)})
            srec.update(dominated=bool(dom) if summary is not None else None, epsilon=eps)
            seed_records.append(srec)
        records.append(rec)

    table = pd.DataFrame.from_records(records)
    if summary is not None:  # STL alone has none of the columns measured against the front
        for col in SWEEP_COLUMNS:
            if col not in table.columns:
                table[col] = math.nan
    if not table.empty:
        table = _add_delta_m_and_rank(table, names, hib, baseline, notes)
        table["verdict"] = [
            _verdict(r, summary is not None, len(sweep)) for r in table.to_dict("records")
        ]
    return Report(
        problem=str(setting["problem"]),
        split=split,
        setting=dict(setting),
        tasks=tasks,
        baseline=baseline,
        ideal=norm.to_metrics(np.zeros(len(cols)))[0].tolist(),
        nadir=norm.to_metrics(np.ones(len(cols)))[0].tolist(),
        reference=reference.tolist(),
        margin=margin,
        sweep=summary,
        methods=table,
        per_seed=pd.DataFrame.from_records(seed_records),
        notes=notes,
    )


@dataclass
class _StlSummary:
    n: int
    mean: np.ndarray
    std: np.ndarray
    ci95: np.ndarray
    seconds: float
    step_ms: float


def _stl_summary(stl_rows: pd.DataFrame, names: list[str]) -> _StlSummary | None:
    """The STL baseline: task k's metric from the runs trained on task k alone
    (``method == "stl:<task>"``), over seeds; None unless every task has one."""
    per_task = [stl_rows.loc[stl_rows["method"] == f"stl:{t}", f"metric.{t}"] for t in names]
    per_task = [v[np.isfinite(v.to_numpy(float))] for v in per_task]
    if any(v.empty for v in per_task):
        return None
    stats = [analysis.summarize_seeds(v.to_numpy(float)[:, None]) for v in per_task]
    seeds = min(s.n for s in stats)
    # the cost of the baseline: all K single-task models, per seed
    seconds = float(stl_rows["train_seconds"].sum()) / max(seeds, 1)
    return _StlSummary(
        n=seeds,
        mean=np.array([s.mean[0] for s in stats]),
        std=np.array([s.std[0] for s in stats]),
        ci95=np.array([s.ci95[0] for s in stats]),
        seconds=seconds,
        step_ms=float(stl_rows["step_ms"].mean()),
    )


def _seed_points(runs: pd.DataFrame, cols: list[str]) -> tuple[list[int], np.ndarray, float, float]:
    runs = runs.sort_values("seed")
    return (
        runs["seed"].tolist(),
        runs[cols].to_numpy(float),
        float(runs["train_seconds"].mean()),
        float(runs["step_ms"].mean()),
    )


def _metric_cells(label: str, stats: Any, names: list[str]) -> dict[str, Any]:
    rec: dict[str, Any] = {"method": label, "seeds": int(stats.n)}
    for k, t in enumerate(names):
        rec[t] = float(stats.mean[k])
        rec[f"{t}.std"] = float(stats.std[k])
        rec[f"{t}.ci95"] = float(stats.ci95[k])
    return rec


def _finish_order(sweep: pd.DataFrame) -> pd.DataFrame:
    """Sweep rows in the order their trials finished: by the time the row was written, then
    by trial number (rows written by one population step share a time stamp)."""
    if sweep.empty:
        return sweep
    created = pd.to_datetime(sweep["created"], errors="coerce", utc=True)
    order = np.lexsort((sweep["trial"].to_numpy(), created.to_numpy(dtype="datetime64[ns]")))
    return sweep.iloc[order].reset_index(drop=True)


def _sweep_cost_to_match(
    point_z: np.ndarray, sweep_z: np.ndarray, seconds: pd.Series
) -> tuple[float, float]:
    """Trials (1-based, in finish order) and summed training seconds after which the sweep's
    front first matches or dominates ``point_z`` (ε ≤ 0); NaN, NaN when it never does."""
    trace = analysis.epsilon_trace(point_z, sweep_z, [False] * len(point_z))
    hit = np.flatnonzero(trace <= MATCH_TOL)
    if not len(hit):
        return math.nan, math.nan
    n = int(hit[0]) + 1
    return float(n), float(seconds.to_numpy(float)[:n].sum())


def _add_delta_m_and_rank(
    table: pd.DataFrame, names: list[str], hib: list[bool], baseline: str, notes: list[str]
) -> pd.DataFrame:
    directions = dict(zip(names, hib))
    metrics = table.set_index("method")[names]
    if baseline in metrics.index:
        table["delta_m"] = analysis.delta_m(metrics, baseline, directions).to_numpy()
    else:
        table["delta_m"] = math.nan
        if baseline == "stl":
            notes.append(
                "no STL rows: Δm% not available — run `paretokit compare stl` with the same setting"
            )
        else:
            notes.append(f"baseline {baseline!r} has no rows: Δm% not available")
    table["mean_rank"] = analysis.mean_rank(metrics, directions).to_numpy()
    return table


def _verdict(row: dict[str, Any], have_sweep: bool, sweep_points: int) -> str:
    if row["method"] == "stl":
        return "baseline: one single-task model per task"
    if not have_sweep:
        return "no sweep to compare with"
    n, d = int(row["seeds"]), int(row["dominated_seeds"])
    if d == n:
        text = f"inside the sweep front on all seeds ({d} of {n} dominated)"
    elif d > 0:
        text = f"dominated by the sweep front in {d} of {n} seeds"
    elif row["mean_dominated"]:
        text = "no seed dominated, but the sweep front dominates its mean point"
    elif row["epsilon"] > MATCH_TOL:
        text = f"extends the front (+{row['hv_contribution_pct']:.2f}% hypervolume)"
    else:
        text = "on the sweep front: a sweep point equals its mean in some metric, worse in none"
    trials = row["sweep_trials_to_match"]
    own = f"the method trained {row['train_seconds']:.0f} s per seed"
    if math.isnan(trials):
        text += f"; the sweep did not reach it within {plural(sweep_points, 'trial')} ({own})"
    else:
        text += (
            f"; the sweep matched it after {plural(int(trials), 'trial')}, "
            f"{row['sweep_seconds_to_match']:.0f} s of training ({own})"
        )
    return text


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
