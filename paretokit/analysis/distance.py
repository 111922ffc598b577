"""One normalization for a whole report, its hypervolume reference point, and the additive
ε-indicator of a point against a front."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paretokit.analysis.dominance import as_minimization
from paretokit.errors import ParetokitError


@dataclass(frozen=True)
class Normalization:
    """An affine map of every metric to minimization with the ideal at 0 and the nadir at 1:
    ``z_j = (s_j m_j − ideal_j) / (nadir_j − ideal_j)`` with ``s_j = −1`` for higher-is-better
    metrics. ``ideal``/``nadir`` are in minimization space (signed metrics). One map is used
    for every row of a report, so hypervolumes and ε-distances are comparable across rows."""

    higher_is_better: tuple[bool, ...]
    ideal: np.ndarray
    nadir: np.ndarray

    @classmethod
    def from_points(cls, points: np.ndarray, higher_is_better: Sequence[bool]) -> Normalization:
        """Ideal and nadir (per-metric best and worst) of the finite rows of ``points``."""
        p = as_minimization(np.atleast_2d(points), higher_is_better)
        p = p[np.isfinite(p).all(axis=1)]
        if len(p) == 0:
            raise ParetokitError("no finite points to normalize by")
        ideal, nadir = p.min(axis=0), p.max(axis=0)
        return cls(tuple(bool(h) for h in higher_is_better), ideal, nadir)

    @property
    def span(self) -> np.ndarray:
        """``nadir − ideal``; where all points agree on a metric, its absolute value (or 1 at
        0), so that the reference margin stays relative to the metric's size."""
        s = self.nadir - self.ideal
        flat = np.where(np.abs(self.ideal) > 0, np.abs(self.ideal), 1.0)
        return np.where(s > 0, s, flat)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Normalized minimization coordinates of metric rows (n, M) or (M,)."""
        return (as_minimization(np.atleast_2d(points), self.higher_is_better) - self.ideal) / (
            self.span
        )

    def to_metrics(self, z: np.ndarray) -> np.ndarray:
        """The inverse map: normalized minimization coordinates back to metric units."""
        signed = np.atleast_2d(z) * self.span + self.ideal
        return as_minimization(signed, self.higher_is_better)  # the sign flip is its own inverse


def reference_point(norm: Normalization, margin: float = 0.1) -> np.ndarray:
    """The default hypervolume reference in normalized coordinates: the nadir plus
    ``margin`` of each metric's range (``1 + margin`` where the points span a range, so that
    boundary points still count; ``margin`` of the value itself where they all agree)."""
    return (norm.nadir - norm.ideal) / norm.span + margin


def epsilon_indicator(
    point: np.ndarray, front: np.ndarray, higher_is_better: Sequence[bool]
) -> float:
    """Additive ε-indicator of ``point`` against ``front`` (Zitzler et al., IEEE TEVC 2003),
    ``ε = min_{f ∈ front} max_j (f_j − p_j)`` in minimization space (normalize first).

    ε ≤ 0 exactly when some front point weakly dominates ``point`` (no worse in any metric).
    ε < 0: some front point is better by at least |ε| in every metric — every metric of
    ``point`` must improve by |ε| for it to reach the front. ε = 0: the best front point is
    no worse anywhere and equal in at least one metric (it may still be strictly better in
    the others, i.e. dominate ``point``). ε > 0: ``point`` lies beyond the front; every front
    point would have to improve by ε in some metric to weakly dominate it. ``inf`` for an
    empty front.
    """
    return float(epsilon_trace(point, front, higher_is_better)[-1]) if len(front) else math.inf


def epsilon_trace(
    point: np.ndarray, ordered: np.ndarray, higher_is_better: Sequence[bool]
) -> np.ndarray:
    """ε of ``point`` against the first 1, 2, …, n rows of ``ordered`` (n, M): the running
    minimum of ``max_j (f_j − p_j)``, since dominated front points never lower it. NaN rows
    are skipped (they keep the previous value)."""
    p = as_minimization(np.atleast_2d(point), higher_is_better)[0]
    o = as_minimization(np.atleast_2d(ordered), higher_is_better)
    gap = np.max(o - p, axis=1)
    gap = np.where(np.isfinite(gap), gap, np.inf)
    return np.minimum.accumulate(gap)
