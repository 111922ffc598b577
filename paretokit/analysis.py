"""Pure analysis of a results table: dominance, the sweep frontier, Δm% and mean rank.

Every function takes arrays or DataFrames and returns data; nothing here trains or prints.
Directions come from the results file's metadata (``higher_is_better`` per task); internally
points are mapped to minimization by negating higher-is-better metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

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
