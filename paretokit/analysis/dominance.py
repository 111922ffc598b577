"""Pareto dominance and non-dominated sets, in any mix of metric directions.

Directions come from the results file's metadata (``higher_is_better`` per metric); nothing
assumes "lower is better": points are mapped to minimization by negating the
higher-is-better metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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


def non_dominated(points: np.ndarray, higher_is_better: Sequence[bool]) -> np.ndarray:
    """Boolean mask (n,) of the rows of ``points`` (n, M) that no other row dominates.

    Duplicated points do not dominate each other, so every copy of a frontier point is kept.
    Rows with a NaN or infinite metric are never on the frontier (and dominate nothing).
    """
    p = as_minimization(np.atleast_2d(points), higher_is_better)
    finite = np.isfinite(p).all(axis=1)
    mask = finite.copy()
    q = p[finite]
    for i in np.flatnonzero(finite):
        dominated = np.all(q <= p[i], axis=1) & np.any(q < p[i], axis=1)
        mask[i] = not dominated.any()
    return mask


def dominated_by_any(
    point: np.ndarray, others: np.ndarray, higher_is_better: Sequence[bool]
) -> np.ndarray:
    """Indices of the rows of ``others`` (n, M) that dominate ``point`` (M,)."""
    p = as_minimization(np.atleast_2d(point), higher_is_better)[0]
    o = as_minimization(np.atleast_2d(others), higher_is_better)
    hit = np.all(o <= p, axis=1) & np.any(o < p, axis=1)
    return np.flatnonzero(hit)


def front_mask_min(p: np.ndarray) -> np.ndarray:
    """Non-dominated mask of minimization points without duplicates (all pairs at once)."""
    if len(p) <= 1:
        return np.ones(len(p), dtype=bool)
    le = np.all(p[:, None, :] <= p[None, :, :], axis=2)  # le[i, j]: p_i ≤ p_j everywhere
    lt = np.any(p[:, None, :] < p[None, :, :], axis=2)
    return ~np.any(le & lt, axis=0)  # j is dominated when some i is ≤ everywhere and < once
