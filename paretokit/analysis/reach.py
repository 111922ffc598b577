"""Runs against a *known* Pareto front (problems whose front is computed exactly, such as
``toy``): does a run's end point lie on the front, where on it, and how much of it do a
method's end points cover.

Distances are measured in loss space with each loss divided by its range along the front
(so both losses count alike, whatever their scales: ``toy`` scales f₁ by 0.1): the distance of
a point p to the front is min over the front's segments of ‖(p − q) / range‖₂ (the front is
a polyline through its exactly computed points; with the default 2001 points the chords lie
within 10⁻⁶ of the curve). A run **reaches** the front when that distance is at most
:data:`REACH_TOLERANCE` (1% of the ranges). Its **position** is where the nearest point of
the front lies, as the fraction of the front's arc length (in the same scaled coordinates)
from the end best for the first loss (0) to the end best for the second (1). The
**coverage** of a set of end points is the share of :data:`COVERAGE_BINS` equal stretches of
that arc length that hold the position of at least one end point that reaches the front.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paretokit.analysis import toy

REACH_TOLERANCE = 0.01  # in units of each loss's range along the front
COVERAGE_BINS = 10


@dataclass(frozen=True)
class KnownFront:
    """A front in loss space, ordered from the first loss's optimum to the second's, with a
    description of where it comes from (for reports)."""

    points: np.ndarray  # (n, 2)
    source: str
    starts: tuple[tuple[float, ...], ...] = ()  # seed s starts at starts[s], where known
    pareto_set: np.ndarray | None = None  # (n, D) where each point lies in parameter space

    @property
    def ranges(self) -> np.ndarray:
        return self.points.max(axis=0) - self.points.min(axis=0)


def known_front(problem: str, tasks: Sequence[str], metrics: Sequence[str]) -> KnownFront | None:
    """The exact front of a results file's problem, when paretokit knows it: ``toy`` (any
    scale) with tasks f1, f2 whose metrics are the losses themselves (``value``)."""
    scale = toy.scale_of(problem)
    if scale is None or list(tasks) != ["f1", "f2"] or set(metrics) != {"value"}:
        return None
    front = toy.front(scale)
    source = (
        f"exact Pareto front of the CAGrad toy (f1 scaled by {scale:g}): x1 = 14λ − 7 and x2 "
        f"the exact minimizer along x2, {len(front.points)} points, loss values exact to "
        f"{front.precision:.0e}"
    )
    return KnownFront(front.points, source, toy.STARTS, front.x)


@dataclass(frozen=True)
class Nearest:
    """For each of n points: scaled distance to the front, position along it (0…1), and the
    nearest front point (n, 2) in loss units."""

    distance: np.ndarray
    position: np.ndarray
    nearest: np.ndarray


def nearest_on_front(points: np.ndarray, front: KnownFront) -> Nearest:
    """Distance, position and nearest point of each row of ``points`` (n, 2) (see the module
    docstring); NaN rows give NaN."""
    rng = np.where(front.ranges > 0, front.ranges, 1.0)
    f = front.points / rng
    p = np.atleast_2d(np.asarray(points, dtype=float)) / rng
    a, seg = f[:-1], np.diff(f, axis=0)  # segments a + t·seg, t ∈ [0, 1]
    length = np.einsum("ij,ij->i", seg, seg)
    t = np.einsum("nij,ij->ni", p[:, None, :] - a[None], seg) / np.where(length > 0, length, 1)
    t = np.clip(t, 0.0, 1.0)
    closest = a[None] + t[..., None] * seg[None]  # (n, m − 1, 2)
    d = np.linalg.norm(p[:, None, :] - closest, axis=2)
    best = np.argmin(np.where(np.isfinite(d), d, np.inf), axis=1)
    rows = np.arange(len(p))
    arc = np.concatenate([[0.0], np.cumsum(np.sqrt(length))])
    along = arc[best] + t[rows, best] * np.sqrt(length[best])
    bad = ~np.isfinite(p).all(axis=1)
    distance = np.where(bad, np.nan, d[rows, best])
    position = np.where(bad, np.nan, along / arc[-1])
    nearest = np.where(bad[:, None], np.nan, closest[rows, best] * rng)
    return Nearest(distance, position, nearest)


def coverage(positions: np.ndarray, bins: int = COVERAGE_BINS) -> float:
    """The share of ``bins`` equal stretches of [0, 1] holding at least one of ``positions``."""
    pos = np.asarray(positions, dtype=float)
    pos = pos[np.isfinite(pos)]
    if not len(pos):
        return 0.0
    hit = np.unique(np.minimum((pos * bins).astype(int), bins - 1))
    return len(hit) / bins
