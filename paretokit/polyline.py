"""Thinning a recorded path without changing its picture: the Ramer–Douglas–Peucker algorithm
(Ramer 1972, "An iterative procedure for the polygonal approximation of plane curves";
Douglas & Peucker 1973, *The Canadian Cartographer* 10(2)).

A path is N points in D coordinates (a toy run: its two losses and its two parameters per
recorded step). Each coordinate is first scaled by the path's own range in it (max − min; a
coordinate that does not move is left unscaled), so the tolerance is a share of the extent the
path covers, in every coordinate at once, whatever the units. RDP keeps the first and last
points, then recursively the point farthest from the chord between two kept points, as long
as it lies more than ``tolerance`` from it (Euclidean distance to the chord segment in the
scaled space). So every dropped point lies within ``tolerance`` of the polyline through the
kept ones, and the kept points are a subset of the recorded ones (each still an exact pair of
a position and its losses). NumPy only (no torch): the results file uses it when it stores a
path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from paretokit.errors import ParetokitError


def simplify(points: Sequence[Sequence[float]] | np.ndarray, tolerance: float) -> list[int]:
    """The indices (ascending, first and last included) of the points of an (N, D) path that
    RDP keeps at ``tolerance`` (a share of the path's range in each coordinate, ≥ 0; 0 keeps
    every point that is not exactly on a chord). Non-finite coordinates are kept as they are:
    a path holding one is returned whole."""
    p = np.asarray(points, dtype=float)
    if p.ndim != 2:
        raise ParetokitError(f"a path must be an (N, D) array of points, got shape {p.shape}")
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise ParetokitError(f"the tolerance must be a finite number ≥ 0, got {tolerance}")
    n = len(p)
    if n <= 2 or not np.isfinite(p).all():
        return list(range(n))
    span = np.ptp(p, axis=0)
    z = p / np.where(span > 0, span, 1.0)
    keep = np.zeros(n, dtype=bool)
    keep[[0, -1]] = True
    stack = [(0, n - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        far, distance = _farthest(z[a : b + 1])
        if distance > tolerance:
            keep[a + far] = True
            stack += [(a, a + far), (a + far, b)]
    return np.flatnonzero(keep).tolist()


def _farthest(z: np.ndarray) -> tuple[int, float]:
    """Among the inner points of ``z`` (its first and last are the chord's ends), the index of
    the one farthest from the chord segment and its distance."""
    chord = z[-1] - z[0]
    inner = z[1:-1] - z[0]
    length2 = float(chord @ chord)
    if length2 > 0:
        t = np.clip(inner @ chord / length2, 0.0, 1.0)
        d = np.linalg.norm(inner - t[:, None] * chord, axis=1)
    else:  # a closed loop: distance to its end point
        d = np.linalg.norm(inner, axis=1)
    i = int(np.argmax(d))
    return i + 1, float(d[i])
