"""Pure analysis of a results table: dominance, the sweep frontier, Δm% and mean rank.

Every function takes arrays or DataFrames and returns data; nothing here trains or prints.
Directions come from the results file's metadata (``higher_is_better`` per task); internally
points are mapped to minimization by negating higher-is-better metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from paretokit.results import Results


def as_minimization(points: np.ndarray, higher_is_better: Sequence[bool]) -> np.ndarray:
    """Points (N, K) with higher-is-better columns negated, so that lower is better everywhere."""
    sign = np.where(np.asarray(higher_is_better, dtype=bool), -1.0, 1.0)
    return np.asarray(points, dtype=float) * sign


def dominates(a: np.ndarray, b: np.ndarray, higher_is_better: Sequence[bool]) -> bool:
    """Pareto dominance: ``a`` is no worse than ``b`` on every metric and better on one."""
    am, bm = (
        as_minimization(np.atleast_2d(a), higher_is_better)[0],
        as_minimization(np.atleast_2d(b), higher_is_better)[0],
    )
    return bool(np.all(am <= bm) and np.any(am < bm))


def non_dominated_mask(points: np.ndarray, higher_is_better: Sequence[bool]) -> np.ndarray:
    """Boolean mask (N,) of the points that no other point dominates. Duplicated points do not
    dominate each other, so all copies of a frontier point are kept. Rows with NaN are never
    on the frontier."""
    p = as_minimization(points, higher_is_better)
    finite = np.isfinite(p).all(axis=1)
    mask = finite.copy()
    for i in np.flatnonzero(finite):
        others = p[finite]
        dominated = np.all(others <= p[i], axis=1) & np.any(others < p[i], axis=1)
        mask[i] = not dominated.any()
    return mask


def dominated_by_any(
    point: np.ndarray, others: np.ndarray, higher_is_better: Sequence[bool]
) -> np.ndarray:
    """Indices of the rows of ``others`` (M, K) that dominate ``point`` (K,)."""
    p = as_minimization(np.atleast_2d(point), higher_is_better)[0]
    o = as_minimization(np.atleast_2d(others), higher_is_better)
    hit = np.all(o <= p, axis=1) & np.any(o < p, axis=1)
    return np.flatnonzero(hit)


def sweep_points(results: Results, split: str, study: str | None = None) -> pd.DataFrame:
    """Finished sweep rows of ``split`` (optionally of one study)."""
    df = results.ok(split=split, kind="sweep")
    if study is not None:
        df = df[df["study"] == study]
    return df.reset_index(drop=True)


def sweep_frontier(results: Results, split: str, study: str | None = None) -> pd.DataFrame:
    """The non-dominated sweep rows of ``split`` on the primary metrics, sorted by the first
    metric (best first)."""
    df = sweep_points(results, split, study)
    if df.empty:
        return df
    hib = [t.higher_is_better for t in results.meta.tasks]
    mask = non_dominated_mask(df[results.metric_columns()].to_numpy(), hib)
    front = df[mask]
    first = results.metric_columns()[0]
    return front.sort_values(first, ascending=not hib[0]).reset_index(drop=True)


def delta_m(
    metrics: np.ndarray, baseline: np.ndarray, higher_is_better: Sequence[bool]
) -> np.ndarray | float:
    """Δm% (Maninis et al., CVPR 2019; Navon et al., ICML 2022 §6):

    ``Δm = 100/K · Σ_k (−1)^{h_k} (M_k − B_k) / B_k``, with ``h_k = 1`` when higher is better,
    so lower Δm is better and 0 means "as good as the baseline (STL) on average".
    ``metrics`` may be (K,) or (N, K); returns a float or (N,).
    """
    m = np.asarray(metrics, dtype=float)
    b = np.asarray(baseline, dtype=float)
    sign = np.where(np.asarray(higher_is_better, dtype=bool), -1.0, 1.0)
    rel = sign * (m - b) / b
    out = 100.0 * rel.mean(axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def mean_rank(table: np.ndarray, higher_is_better: Sequence[bool]) -> np.ndarray:
    """Mean rank (Navon et al., ICML 2022 §6): for each metric, rank the M rows (1 = best,
    ties share their average rank), then average each row's ranks over the K metrics."""
    t = as_minimization(np.asarray(table, dtype=float), higher_is_better)
    ranks = np.column_stack(
        [pd.Series(t[:, k]).rank(method="average").to_numpy() for k in range(t.shape[1])]
    )
    return ranks.mean(axis=1)


def setting_rows(
    frame: pd.DataFrame, setting: dict[str, Any], kind: str | None = None
) -> pd.DataFrame:
    """Rows trained under ``setting`` (problem, epochs, batch size, lr), optionally of one kind."""
    mask = (
        (frame["problem"] == setting["problem"])
        & (frame["epochs"] == setting["epochs"])
        & (frame["batch_size"] == setting["batch_size"])
        & (frame["lr"] == setting["lr"])
    )
    if kind is not None:
        mask &= frame["kind"] == kind
    return frame[mask]


def stl_baseline(
    results: Results, split: str, setting: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Per task: the STL metric (mean and std over seeds of the run trained on that task
    alone, ``method == "stl:<task>"``) and the number of seeds; tasks without STL runs absent."""
    df = results.ok(split=split, kind="stl")
    if setting is not None:
        df = setting_rows(df, setting)
    out = {}
    for t in results.meta.task_names:
        vals = df.loc[df["method"] == f"stl:{t}", f"metric.{t}"]
        if len(vals):
            out[t] = {
                "mean": float(vals.mean()),
                "std": float(vals.std(ddof=0)),
                "seeds": len(vals),
            }
    return pd.DataFrame.from_dict(out, orient="index")


def compare_table(
    results: Results, setting: dict[str, Any], labels: Sequence[str], split: str = "test"
) -> pd.DataFrame:
    """The comparison of methods under one setting on ``split``, one row per method plus STL.

    Columns: ``method``, ``seeds``, per task ``<task>`` (mean over seeds) and ``<task>.std``,
    ``delta_m`` (Δm% of the mean point against the STL means; NaN without STL runs),
    ``mean_rank`` (among the rows of this table, STL included as in Navon et al. 2022),
    ``dominated`` (seeds whose point some sweep point of the same setting dominates, as
    "d/n"; "" without a sweep; "-" for STL, which is K separate models, not one point), ``dominating_sweep_points`` (how many sweep points dominate
    the mean point), ``step_ms`` and ``train_seconds`` (means over seeds).
    """
    tasks = results.meta.task_names
    hib = [t.higher_is_better for t in results.meta.tasks]
    cols = results.metric_columns()
    rows_all = setting_rows(results.ok(split=split), setting)
    sweep = rows_all[rows_all["kind"] == "sweep"][cols].to_numpy(float)
    stl = stl_baseline(results, split, setting)
    base = np.array([stl.loc[t, "mean"] if t in stl.index else np.nan for t in tasks])
    records = []
    if len(stl) == len(tasks):
        stl_runs = rows_all[rows_all["kind"] == "stl"]
        rec: dict[str, Any] = {"method": "stl", "seeds": int(stl["seeds"].min())}
        for t in tasks:
            rec[t], rec[f"{t}.std"] = stl.loc[t, "mean"], stl.loc[t, "std"]
        rec.update(
            delta_m=0.0,
            dominated="-",
            dominating_sweep_points=np.nan,
            step_ms=float(stl_runs["step_ms"].mean()),
            train_seconds=float(stl_runs["train_seconds"].sum() / stl["seeds"].min()),
        )
        records.append(rec)
    for label in labels:
        runs = rows_all[(rows_all["kind"] == "method") & (rows_all["method"] == label)]
        if runs.empty:
            continue
        points = runs[cols].to_numpy(float)
        mean = points.mean(axis=0)
        rec = {"method": label, "seeds": len(runs)}
        for k, t in enumerate(tasks):
            rec[t], rec[f"{t}.std"] = mean[k], float(points[:, k].std())
        rec["delta_m"] = delta_m(mean, base, hib) if np.isfinite(base).all() else np.nan
        if len(sweep):
            hit = sum(len(dominated_by_any(p, sweep, hib)) > 0 for p in points)
            rec["dominated"] = f"{hit}/{len(points)}"
            rec["dominating_sweep_points"] = len(dominated_by_any(mean, sweep, hib))
        else:
            rec["dominated"], rec["dominating_sweep_points"] = "", np.nan
        rec["step_ms"] = float(runs["step_ms"].mean())
        rec["train_seconds"] = float(runs["train_seconds"].mean())
        records.append(rec)
    table = pd.DataFrame.from_records(records)
    if not table.empty:
        table.insert(
            len(table.columns) - 4, "mean_rank", mean_rank(table[tasks].to_numpy(float), hib)
        )
    return table
