"""The simplex lattice and the grid sampler that trains each of its points once."""

from __future__ import annotations

import itertools
import math

import numpy as np
from optuna.study import Study
from optuna.trial import FrozenTrial

from paretokit.errors import ParetokitError
from paretokit.sampling.simple import SimplexSampler
from paretokit.sampling.simplex import PENDING, trial_weights, weights_to_params

MAX_GRID_POINTS = 200_000  # a lattice larger than this is not a sweep anyone can run


def grid_resolution_for(k: int, resolution: int | None, trials: int | None) -> int:
    """The lattice resolution for K = ``k`` tasks: ``resolution``, or the smallest whose
    lattice holds ``trials`` points; an error for a lattice too large or too small."""
    if resolution is None:
        if trials is None:
            raise ParetokitError("the grid sampler needs a grid resolution or a trial budget")
        if trials > MAX_GRID_POINTS:  # checked first: finding the resolution would take ages
            raise ParetokitError(
                f"a grid for {trials:,} trials would have more than {MAX_GRID_POINTS:,} points; "
                "ask for fewer trials or choose another sampler"
            )
        resolution = lattice_resolution(k, trials)
    if resolution < 1:
        raise ParetokitError(f"the grid resolution must be at least 1, got {resolution}")
    size = lattice_size(k, resolution)
    if size > MAX_GRID_POINTS:
        raise ParetokitError(
            f"a grid of resolution {resolution} for {k} tasks has {size:,} points "
            f"(more than {MAX_GRID_POINTS:,}); choose a smaller resolution"
        )
    if trials is not None and size < trials:
        need = lattice_resolution(k, trials)
        raise ParetokitError(
            f"a grid of resolution {resolution} for {k} tasks has only {size} points, fewer "
            f"than the {trials} trials asked for; choose resolution {need} "
            f"({lattice_size(k, need)} points) or at most {size} trials"
        )
    return resolution


def lattice_size(k: int, n: int) -> int:
    """Points of the simplex lattice of resolution n in K dimensions: ``C(n+K−1, K−1)``."""
    return math.comb(n + k - 1, k - 1)


def lattice_resolution(k: int, points: int) -> int:
    """The smallest resolution n ≥ 1 whose lattice has at least ``points`` points (1 for K < 2,
    whose lattice is one point at any n)."""
    if k < 2:
        return 1
    n = 1
    while lattice_size(k, n) < points:
        n += 1
    return n


def lattice(k: int, n: int) -> np.ndarray:
    """All integer vectors i ≥ 0 with Σ i = n, shape (C(n+K−1, K−1), K), in lexicographic order
    of their stars-and-bars bar positions (Feller 1968, §II.5)."""
    rows = []
    for bars in itertools.combinations(range(n + k - 1), k - 1):
        edges = (-1, *bars, n + k - 1)
        rows.append([edges[j + 1] - edges[j] - 1 for j in range(k)])
    return np.array(rows, dtype=np.int64).reshape(-1, k)


_MAXMIN_LIMIT = 5_000


def lattice_order(k: int, n: int, seed: int = 0) -> np.ndarray:
    """The lattice of resolution n in the order the grid sampler trains it: the K vertices
    (e_1 … e_K), then greedy farthest-point order (each next point is the one farthest, in
    Euclidean distance of weights, from all points before it; ties to the lexicographically
    first), so that any prefix covers the simplex about evenly, coarse to fine (Gonzalez 1985).
    Lattices of more than 5,000 points take the vertices first and the rest in a seeded
    shuffle."""
    points = lattice(k, n)
    vertices = [int(np.flatnonzero(points[:, j] == n)[0]) for j in range(k)]
    if len(points) > _MAXMIN_LIMIT:
        rest = np.setdiff1d(np.arange(len(points)), vertices)
        rest = np.random.default_rng(seed).permutation(rest)
        return points[np.concatenate([vertices, rest])]
    w = points / n
    order = list(vertices)
    dmin = np.full(len(points), np.inf)
    for v in vertices:
        dmin = np.minimum(dmin, ((w - w[v]) ** 2).sum(axis=1))
    dmin[vertices] = -1.0
    for _ in range(len(points) - len(vertices)):
        i = int(np.argmax(dmin))
        order.append(i)
        dmin = np.minimum(dmin, ((w - w[i]) ** 2).sum(axis=1))
        dmin[i] = -1.0
    return points[order]


class SimplexGridSampler(SimplexSampler):
    """Every point of the simplex lattice ``{w : w_k = i_k/n, Σ_k i_k = n}`` exactly once, in
    :func:`lattice_order` (vertices, then coarse to fine).

    A trial takes the first lattice point that no other trial of the study holds (any state,
    enqueued trials included), skipping one more point for each earlier-numbered trial that is
    running but has not chosen its weights yet. Workers that share a study therefore agree on
    who trains what even when they ask at the same moment: without retries, trial number j
    trains the j-th point. When every point is taken the trial fails with a
    :class:`ParetokitError` that says so.
    """

    def __init__(self, n_tasks: int, resolution: int, seed: int = 0) -> None:
        super().__init__(n_tasks, seed)
        self.resolution = resolution
        self._order: list[tuple[int, ...]] | None = None

    @property
    def size(self) -> int:
        return lattice_size(self.n_tasks, self.resolution)

    def _lattice_point(self, w: np.ndarray) -> tuple[int, ...] | None:
        scaled = w * self.resolution
        point = np.rint(scaled)
        if np.max(np.abs(scaled - point)) > 1e-6 or point.sum() != self.resolution:
            return None  # weights from another sampler: not a lattice point
        return tuple(int(x) for x in point)

    def _params(self, study: Study, trial: FrozenTrial) -> dict[str, float]:
        if self._order is None:
            order = lattice_order(self.n_tasks, self.resolution, self.seed)
            self._order = [tuple(int(x) for x in row) for row in order]
        taken: set[tuple[int, ...]] = set()
        unchosen = 0
        for other in study.get_trials(deepcopy=False):
            if other.number == trial.number:
                continue
            w = trial_weights(other, self.n_tasks)
            if w is not None:
                point = self._lattice_point(w)
                if point is not None:
                    taken.add(point)
            elif other.number < trial.number and other.state in PENDING:
                unchosen += 1
        free = [p for p in self._order if p not in taken]
        if unchosen >= len(free):
            raise ParetokitError(
                f"the grid is exhausted: all {self.size} points of the resolution-"
                f"{self.resolution} lattice for {self.n_tasks} tasks are trained or taken; "
                f"use a higher grid resolution (resolution {self.resolution + 1} has "
                f"{lattice_size(self.n_tasks, self.resolution + 1)} points) or stop here"
            )
        point = np.array(free[unchosen], dtype=float) / self.resolution
        return weights_to_params(point)
