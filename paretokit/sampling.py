"""Samplers of the weight simplex: where a sweep puts its next loss weights.

**One parametrization for every sampler.** A trial suggests K numbers ``u_k ∈ [0, 1]`` (Optuna
parameters ``u0 … u{K−1}``) and trains on the weights

    E_k = −log(1 − u_k),    w = E / Σ_j E_j.

For independent uniform u_k, E_k ~ Exp(1) and w ~ Dirichlet(1, …, 1), the uniform distribution
on the simplex (Devroye, *Non-Uniform Random Variate Generation*, 1986, §V.2 and §XI.4). The
inverse ``u_k = 1 − exp(−w_k)`` maps any point of the simplex back to parameters that
reproduce it (E = w, Σ E = 1), so samplers that choose weights directly (``grid``,
``adaptive``) store ordinary ``u`` parameters and every study reads the same way.

**Samplers** (:data:`SAMPLERS`, built by :func:`make_sampler`):

- ``dirichlet`` — uniform on the simplex: u drawn from a generator seeded with
  (seed, trial number), so parallel workers with one seed never draw the same weights.
  ``random`` is an alias (older studies).
- ``qmc`` — the trial-number-th point of one scrambled Sobol sequence in [0, 1)^K (Owen
  scrambling, scipy's ``qmc.Sobol``), mapped as above: low discrepancy in u, even coverage of
  the simplex for small budgets; race-free across workers for the same reason.
- ``tpe``, ``nsga2`` — Optuna's TPE (multivariate, constant liar for parallel workers) and
  NSGA-II on the u parameters.
- ``grid`` — the simplex lattice ``{w : w_k = i_k/n, Σ i_k = n}`` with ``C(n+K−1, K−1)``
  points, each trained once (see :class:`SimplexGridSampler`).
- ``adaptive`` — dichotomic search for the front's largest gap (see :class:`AdaptiveSampler`;
  experimental).
"""

from __future__ import annotations

import itertools
import math
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, FloatDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState
from scipy.spatial import Delaunay, QhullError
from scipy.stats import qmc

from paretokit.errors import ParetokitError

SAMPLERS: tuple[str, ...] = ("dirichlet", "grid", "qmc", "tpe", "nsga2", "adaptive")
ALIASES: dict[str, str] = {"random": "dirichlet"}
MAX_GRID_POINTS = 200_000  # a lattice larger than this is not a sweep anyone can run

_U_MAX = 1.0 - 2.0**-53  # the largest float below 1: keeps −log(1 − u) finite
_FIXED = "fixed_params"  # Optuna's system attribute of an enqueued trial


# ---------------------------------------------------------------------------------------------
# The one parametrization


def param_names(k: int) -> list[str]:
    """The Optuna parameter names of K weights: ``u0 … u{K−1}``."""
    return [f"u{i}" for i in range(k)]


def search_space(k: int) -> dict[str, BaseDistribution]:
    """The u parameters' distributions: K uniforms on [0, 1]."""
    return {name: FloatDistribution(0.0, 1.0) for name in param_names(k)}


def params_to_weights(u: Sequence[float]) -> list[float]:
    """``w = E / ΣE`` with ``E_k = −log(1 − u_k)`` (module docstring). All u_k = 0 carries no
    direction and gives the centre of the simplex."""
    e = [-math.log1p(-min(float(x), _U_MAX)) for x in u]
    total = math.fsum(e)
    if total <= 0.0:
        return [1.0 / len(e)] * len(e)
    return [x / total for x in e]


def suggest_weights(trial: optuna.Trial, k: int) -> list[float]:
    """Suggest ``u0 … u{K−1}`` on ``trial`` and return the weights they map to (a point of the
    simplex, Σ w = 1, w ≥ 0). Every sampler of this module goes through this one mapping."""
    return params_to_weights([trial.suggest_float(name, 0.0, 1.0) for name in param_names(k)])


def weights_to_params(w: Sequence[float]) -> dict[str, float]:
    """The parameters that reproduce ``w``: ``u_k = 1 − exp(−w_k)`` (so E = w). ``w`` must be
    non-negative and finite with a positive sum; it is scaled to sum 1 first."""
    arr = np.asarray(w, dtype=float)
    if arr.ndim != 1 or len(arr) < 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ParetokitError(f"weights must be finite and non-negative, got {list(arr)}")
    total = math.fsum(arr)
    if total <= 0.0:
        raise ParetokitError("weights must not all be zero")
    if abs(total - 1.0) > 1e-12:
        arr = arr / total
    return {name: float(-math.expm1(-x)) for name, x in zip(param_names(len(arr)), arr)}


def trial_weights(trial: FrozenTrial, k: int) -> np.ndarray | None:
    """The weights a trial trained (or will train, for an enqueued trial), or None if its u
    parameters are not set yet."""
    names = param_names(k)
    for source in (trial.params, trial.system_attrs.get(_FIXED) or {}):
        if all(name in source for name in names):
            return np.array(params_to_weights([source[name] for name in names]))
    return None


# ---------------------------------------------------------------------------------------------
# Building samplers


def make_sampler(
    name: str,
    seed: int,
    n_tasks: int,
    *,
    grid_resolution: int | None = None,
    trials: int | None = None,
) -> BaseSampler:
    """The sampler ``name`` (one of :data:`SAMPLERS`, or an alias) for K = ``n_tasks`` weights.

    ``grid`` uses ``grid_resolution`` n, or by default the smallest n whose lattice has at least
    ``trials`` points; it is an error when the lattice has fewer points than ``trials``.
    ``nsga2`` sizes its population from ``trials`` (a fifth of the budget, 10 to 50).
    """
    key = ALIASES.get(name, name)
    if key not in SAMPLERS:
        known = ", ".join(SAMPLERS) + " (" + ", ".join(f"{a} = {b}" for a, b in ALIASES.items())
        raise ParetokitError(f"unknown sampler {name!r}; known: {known})")
    if n_tasks < 1:
        raise ParetokitError(f"a sampler needs at least one task, got {n_tasks}")
    if key == "dirichlet":
        return DirichletSampler(n_tasks, seed)
    if key == "qmc":
        return SobolSampler(n_tasks, seed)
    if key == "grid":
        return SimplexGridSampler(n_tasks, _grid_resolution(n_tasks, grid_resolution, trials))
    if key == "adaptive":
        return AdaptiveSampler(n_tasks, seed)
    if key == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
    population = 50 if trials is None else max(10, min(50, trials // 5))
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=population)


def _grid_resolution(k: int, resolution: int | None, trials: int | None) -> int:
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


class _SimplexSampler(BaseSampler):
    """A sampler that knows the search space in advance (the K u parameters) and chooses all of
    them together in :meth:`sample_relative`. Parameters outside that space (none in a sweep)
    are drawn uniformly from a generator seeded with (seed, trial number, name)."""

    def __init__(self, n_tasks: int, seed: int = 0) -> None:
        self.n_tasks = n_tasks
        self.seed = int(seed) % 2**32  # generators take non-negative seeds
        self._space = search_space(n_tasks)

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return dict(self._space)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, float]:
        if not search_space:
            return {}
        return self._params(study, trial)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> float:
        key = [self.seed, trial.number, *param_name.encode()]
        draw = optuna.samplers.RandomSampler(seed=int(np.random.SeedSequence(key).entropy % 2**32))
        return draw.sample_independent(study, trial, param_name, param_distribution)

    @abstractmethod
    def _params(self, study: Study, trial: FrozenTrial) -> dict[str, float]:
        """The trial's u-parameters (its weights mapped by :func:`weights_to_params`)."""


class DirichletSampler(_SimplexSampler):
    """Uniform weights on the simplex (Dirichlet(1)): u ~ U[0, 1)^K from a generator seeded with
    (seed, trial number), so a trial's weights depend only on those two numbers."""

    def _params(self, study: Study, trial: FrozenTrial) -> dict[str, float]:
        u = np.random.default_rng([self.seed, trial.number]).random(self.n_tasks)
        return dict(zip(param_names(self.n_tasks), map(float, u)))


class SobolSampler(_SimplexSampler):
    """The trial-number-th point of a scrambled Sobol sequence in [0, 1)^K (Sobol' 1967; Owen
    1998 scrambling, as in ``scipy.stats.qmc.Sobol``), mapped to the simplex as every sampler
    is. Points are generated in blocks of powers of two, which keeps the sequence's balance."""

    def __init__(self, n_tasks: int, seed: int = 0) -> None:
        super().__init__(n_tasks, seed)
        self._points = np.empty((0, n_tasks))

    def _params(self, study: Study, trial: FrozenTrial) -> dict[str, float]:
        n = trial.number
        if n >= len(self._points):
            m = max(4, math.ceil(math.log2(n + 1)))
            engine = qmc.Sobol(d=self.n_tasks, scramble=True, seed=self.seed)
            self._points = engine.random_base2(m)
        u = np.minimum(self._points[n], _U_MAX)
        return dict(zip(param_names(self.n_tasks), map(float, u)))


# ---------------------------------------------------------------------------------------------
# The simplex lattice


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


class SimplexGridSampler(_SimplexSampler):
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
            elif other.number < trial.number and other.state in _PENDING:
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


_PENDING = (TrialState.RUNNING, TrialState.WAITING)


# ---------------------------------------------------------------------------------------------
# The adaptive sampler


@dataclass(frozen=True)
class Gap:
    """One gap of the front: a cell of the triangulation of the front trials' weights.

    ``trials`` index the complete trials (rows of the arrays given to
    :meth:`AdaptiveSampler.gaps`) whose weights span the cell, ``volume`` the hypervolume the
    gap leaves uncovered (see :class:`AdaptiveSampler`), ``normal`` the weights λ ≥ 0, Σ λ = 1
    under which the cell's K points tie (None when they do not face the origin), ``weights``
    the proposal for the next trial and ``pending`` the running trials inside the cell.
    """

    trials: tuple[int, ...]
    volume: float
    normal: np.ndarray | None
    weights: np.ndarray
    pending: int

    @property
    def priority(self) -> float:
        return self.volume * 0.5**self.pending


class AdaptiveSampler(_SimplexSampler):
    """Puts the next weights into the largest gap of the current front (dichotomic search).

    Experimental: the design and the bound below come from the literature; the only constants
    (the safeguard 1/(2K), the reference 1.1, ``min_distance``) are not fitted to a benchmark.

    **Two objectives** (Aneja & Nair, "Bicriteria transportation problem", Management Science
    25(1), 1979; the NISE method of Cohon, Church & Sheer, Water Resources Research 15(5),
    1979): between two neighbouring front points a and b, the weights λ ∝ (a₂ − b₂, b₁ − a₁),
    normal to the segment ab, make a and b tie under linear scalarization, so the
    scalarization optimum for λ is either a new point between them, strictly below the
    segment, or proves that the segment is part of the front's convex hull. The most
    hypervolume a point between them can add is the rectangle (b₁ − a₁)(a₂ − b₂).

    **K objectives** (after Solanki, Appino & Cohon, "Approximating the noninferior set in
    multiobjective linear programming problems", EJOR 68, 1993, who split facets of the
    front's convex hull the same way): neighbours are read in weight space. The weights of the
    non-dominated complete trials (and of the single-task trials, so that the cells cover the
    whole simplex) are triangulated — Delaunay in the first K − 1 coordinates; for K = 2
    consecutive weights — so every cell has K trials with objective points p_1 … p_K, and λ is
    the normal of the hyperplane through them (λ·p_i equal for all i). Neighbours in weight
    space are neighbours on the front wherever scalarization is monotone, and, unlike facets of
    the convex hull, cells also cover the unsupported and noisy parts of a trained front.

    **Gap size: the sandwich bound.** If p_i minimizes w_i·f over everything training can
    reach, every reachable point y satisfies w_i·y ≥ w_i·p_i: the K supporting hyperplanes of
    a cell's trials bound from below what a new trial between them can reach (the outer
    approximation of sandwich algorithms; Solanki et al. 1993 above; Ehrgott, Shao & Schöbel,
    "An approximation algorithm for convex multi-objective programming problems", J. Global
    Optimization 50(3), 2011; Rennen, van Dam & den Hertog, "Enhancement of sandwich
    algorithms for approximating higher-dimensional convex Pareto sets", INFORMS J. Computing
    23(4), 2011). Their meeting point y* (``W y* = (w_i·p_i)_i``, W the cell's weights as
    rows, unique because the weights are affinely independent) is the best case, and the gap
    is the hypervolume (up to the reference 1.1 in normalized units) that m = max(y*, z) would
    add to the cell's points, ``Π_k (r − m_k) − HV(max(p_i, m))`` by inclusion–exclusion over
    the 2^K − 1 subsets, and zero when a front point weakly dominates m. z = min_i p_i, the
    cell's corner, is the bound without convexity. Training is not an exact minimizer, so the
    hyperplanes are used only where the trials do not contradict them: when some trial j
    scores better on a cell trial's own weights (w_i·p_j < w_i·p_i, so p_i is not w_i's
    optimum and its hyperplane bounds nothing), the cell's bound is its corner z instead of
    y*; y* is also clipped at z (m = max(y*, z)). For K = 2, y* is the apex of
    the triangle that NISE measures (a, b and their supporting lines' intersection) and the
    gap is the rectangle (b₁ − y*₁)(a₂ − y*₂) between the apex and a, b. A cell whose trials already lie on one
    supporting hyperplane has y* on it and no gap; a cell next to a single-task trial keeps
    a gap as long as the hyperplanes leave room near that task's optimum.

    **What is observed.** Trials report the study's objectives (validation metrics, each with
    the study's direction; maximized ones are negated), not the training losses the weights
    multiply, and training is not an exact minimizer. So: (1) gap sizes use objectives
    normalized by the current front's range (ideal ↦ 0, nadir ↦ 1) and clipped at 1.1, so
    far-off points do not inflate a gap; (2) λ is computed in the objectives' own units (the
    exact tie weight when the objectives are the trained losses) and used through the weights
    that produced the cell: ``w = Σ_i α_i w_i`` with α the barycentric coordinates of λ in
    {w_i}; when some α_i is below 1/(2K) (λ is not safely inside the cell: other units, or an
    inexact optimizer) or the points do not face the origin, the cell's centroid in weight
    space instead — a safeguarded bisection that always shrinks the cell.

    **Order.** First a fixed design, the augmented simplex-centroid design of mixture
    experiments (Cornell, *Experiments with Mixtures*, 3rd ed., Wiley, 2002): the centre
    (every task trained equally: with nothing known, the one point symmetric in the tasks),
    then the K axial check blends halfway between the centre and each vertex (weight
    (K + 1)/(2K) on one task, 1/(2K) on each other: the front's extremes among weights that
    still train every task), then the K vertices (single-task weights: a task with weight 0 is
    not trained at all, so these points lie far from the front and add little hypervolume;
    they come last and make the cells cover the simplex's boundary). Then the gap of highest
    priority: its size, halved for each running trial whose weights lie inside the cell (so
    parallel workers spread over different gaps). An earlier-numbered running trial that has not chosen its weights yet
    makes this trial take the next candidate; proposals within ``min_distance`` of weights
    already used are skipped. When no gap is left (fewer than K front trials, degenerate
    geometry, or no cell with a positive size) a uniform draw seeded by (seed, trial number).
    Deterministic: the proposal depends only on the study's trials and the seed. The study
    must have K objectives (one per weight); otherwise only the start points and uniform draws
    are used.
    """

    def __init__(self, n_tasks: int, seed: int = 0, *, min_distance: float = 1e-3) -> None:
        super().__init__(n_tasks, seed)
        self.min_distance = min_distance

    def _params(self, study: Study, trial: FrozenTrial) -> dict[str, float]:
        k = self.n_tasks
        done_w, done_y, used, pending, unchosen = _read_trials(study, trial, k)
        skip = unchosen
        for w in self._startup(used):
            if skip == 0:
                return weights_to_params(w)
            skip -= 1
        if len(study.directions) == k and len(done_y):
            signs = [1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in study.directions]
            for gap in self.gaps(done_w, done_y * np.array(signs), used, pending):
                if skip == 0:
                    return weights_to_params(gap.weights)
                skip -= 1
        u = np.random.default_rng([self.seed, trial.number, 1]).random(k)
        return dict(zip(param_names(k), map(float, u)))

    def _startup(self, used: np.ndarray) -> Iterator[np.ndarray]:
        k = self.n_tasks
        for w in [np.full(k, 1.0 / k), *(np.eye(k) + 1.0 / k) / 2, *np.eye(k)]:
            if not _near_any(w[None], used, self.min_distance)[0]:
                yield w

    def gaps(
        self,
        weights: np.ndarray,
        values: np.ndarray,
        used: np.ndarray | None = None,
        pending: np.ndarray | None = None,
    ) -> Iterator[Gap]:
        """The front's open gaps, highest priority first (lazily: proposals are computed as the
        caller goes down the list).

        ``weights`` (N, K) and ``values`` (N, K, minimization) are the complete trials;
        ``used`` holds every weight vector trained or in training (default: ``weights``) and
        ``pending`` those still running. Gaps whose proposal is within ``min_distance`` of a
        used weight are left out.
        """
        k = self.n_tasks
        used = weights if used is None else used
        pending = np.empty((0, k)) if pending is None else pending
        on_front = np.flatnonzero(_non_dominated(values))
        corners = np.flatnonzero(weights.max(axis=1) >= 1.0 - 1e-9)  # single-task trials
        spanning = np.union1d(on_front, corners)  # the vertices keep the whole simplex covered
        cells = spanning[_weight_cells(weights[spanning])] if len(on_front) else []
        if len(cells) == 0:
            return
        front = values[on_front]
        lo, hi = front.min(axis=0), front.max(axis=0)
        z = np.minimum((values - lo) / np.where(hi - lo > 0, hi - lo, 1.0), _REFERENCE)
        points = z[cells]  # (C, K, K): cell, vertex, objective
        scale = np.where(hi - lo > 0, hi - lo, 1.0)
        bound = (_outer_vertex(weights[cells], values[cells]) - lo) / scale
        # a trial beaten on its own weights by another trial was not trained to its optimum:
        # its supporting hyperplane is no bound, so its cells keep the corner bound
        scalarized = weights @ values.T  # (N, N): trial i's weights on trial j's point
        beaten = np.diag(scalarized) > scalarized.min(axis=1) + 1e-12 * np.abs(scalarized).max()
        bound = np.where(beaten[cells].any(axis=1)[:, None], -np.inf, bound)
        bound = np.maximum(bound, points.min(axis=1))  # no better than the cell's corner
        volume = _uncovered(points, bound, z[on_front], _REFERENCE)
        inside = np.zeros(len(cells))
        if len(pending):
            for c in np.flatnonzero(volume > 0):
                inside[c] = np.count_nonzero(_in_hull(pending, weights[cells[c]]))
        priority = volume * 0.5**inside
        for c in np.argsort(-priority, kind="stable"):
            if volume[c] <= 1e-15:
                return
            bracket = weights[cells[c]]
            normal = _tie_normal(values[cells[c]])
            if normal is None:
                proposal = bracket.mean(axis=0)
            else:
                proposal = _safeguarded_combination(normal, bracket, 1.0 / (2 * k))
            if _near_any(proposal[None], used, self.min_distance)[0]:
                continue
            yield Gap(
                tuple(int(i) for i in cells[c]), float(volume[c]), normal, proposal, int(inside[c])
            )


_REFERENCE = 1.1  # the hypervolume reference point in normalized units: nadir + 10% of range


def _outer_vertex(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each cell (C, K weight vectors w_i, C, K objective points p_i): the point y* where
    the K supporting hyperplanes w_i·y = w_i·p_i meet (the vertex of the cell's outer
    approximation, see :class:`AdaptiveSampler`). A cell whose weights are affinely
    independent has a unique y*."""
    rhs = np.einsum("cik,cik->ci", weights, values)
    try:
        return np.linalg.solve(weights, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:  # some cell is singular: solve them one by one
        out = values.min(axis=1)
        for c in range(len(weights)):
            try:
                out[c] = np.linalg.solve(weights[c], rhs[c])
            except np.linalg.LinAlgError:
                pass
        return out


def _uncovered(
    points: np.ndarray, bound: np.ndarray, front: np.ndarray, reference: float
) -> np.ndarray:
    """For each cell (C, K points, K objectives; minimization, normalized): the hypervolume (up
    to ``reference``) that the point ``bound`` (C, K) would add to the cell's points,
    ``Π_k (r − m_k) − HV(max(p_1, m) … max(p_K, m))`` by inclusion–exclusion over the 2^K − 1
    subsets; zero when a front point weakly dominates m (see :class:`AdaptiveSampler`)."""
    c, k, _ = points.shape
    r = np.full(k, reference)
    limited = np.maximum(points, bound[:, None, :])
    box = np.prod(np.clip(r - bound, 0.0, None), axis=1)
    covered = np.zeros(c)
    for size in range(1, k + 1):
        for subset in itertools.combinations(range(k), size):
            joint = limited[:, list(subset), :].max(axis=1)
            covered += (-1) ** (size + 1) * np.prod(np.clip(r - joint, 0.0, None), axis=1)
    gap = np.clip(box - covered, 0.0, None)
    dominated = np.all(front[None, :, :] <= bound[:, None, :] + 1e-12, axis=2).any(axis=1)
    return np.where(dominated, 0.0, gap)


def _weight_cells(weights: np.ndarray) -> np.ndarray:
    """Cells (C, K) of trial indices triangulating the weights (N, K): for K = 2 consecutive
    weights, otherwise the Delaunay triangulation of the first K − 1 coordinates. Repeated
    weights enter once; degenerate sets (fewer than K distinct, or all in a flat) have none."""
    n, k = weights.shape
    _, first = np.unique(np.round(weights, 12), axis=0, return_index=True)
    first = np.sort(first)
    if len(first) < k:
        return np.empty((0, k), dtype=int)
    if k == 2:
        order = first[np.argsort(weights[first, 0], kind="stable")]
        return np.stack([order[:-1], order[1:]], axis=1)
    try:
        tri = Delaunay(weights[first, : k - 1])
    except (QhullError, ValueError):
        return np.empty((0, k), dtype=int)
    return first[tri.simplices]


def _tie_normal(points: np.ndarray) -> np.ndarray | None:
    """Weights λ ≥ 0, Σ λ = 1 with λ·p_i equal for the K points (rows), or None when the
    hyperplane through them does not face the origin (a λ component would be negative) or is
    not unique."""
    k = points.shape[1]
    system = np.vstack([points[1:] - points[0], np.ones((1, k))])
    rhs = np.zeros(k)
    rhs[-1] = 1.0
    try:
        normal = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(normal)) or np.any(normal < 0):
        return None
    return normal


def _read_trials(
    study: Study, trial: FrozenTrial, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Complete trials' weights and values, all used weights, pending weights, and the number of
    earlier running trials that have not chosen weights yet."""
    done_w, done_y, used, pending = [], [], [], []
    unchosen = 0
    for other in study.get_trials(deepcopy=False):
        if other.number == trial.number:
            continue
        w = trial_weights(other, k)
        if w is None:
            if other.number < trial.number and other.state in _PENDING:
                unchosen += 1
            continue
        used.append(w)
        if other.state in _PENDING:
            pending.append(w)
        elif other.state == TrialState.COMPLETE and other.values is not None:
            y = np.asarray(other.values, dtype=float)
            if np.all(np.isfinite(y)):
                done_w.append(w)
                done_y.append(y)
    m = len(done_y[0]) if done_y else k
    return (
        np.array(done_w).reshape(-1, k),
        np.array(done_y).reshape(-1, m),
        np.array(used).reshape(-1, k),
        np.array(pending).reshape(-1, k),
        unchosen,
    )


def _non_dominated(y: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``y`` (minimization) that no row dominates; of identical rows only
    the first is kept."""
    keep = np.ones(len(y), dtype=bool)
    for i in range(len(y)):
        others = np.delete(np.arange(len(y)), i)
        dominated = np.all(y[others] <= y[i], axis=1) & np.any(y[others] < y[i], axis=1)
        earlier_copy = np.all(y[:i] == y[i], axis=1)
        keep[i] = not dominated.any() and not earlier_copy.any()
    return keep


def _barycentric(w: np.ndarray, bracket: np.ndarray) -> np.ndarray:
    """Coefficients α with Σ α_i bracket_i ≈ w (least squares; Σ α = 1 since every weight
    vector sums to 1); ``w`` is one vector (K,) or columns (K, N)."""
    alpha, *_ = np.linalg.lstsq(bracket.T, w, rcond=None)
    return alpha


def _in_hull(w: np.ndarray, bracket: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Mask of the rows of ``w`` (N, K) that are convex combinations of the rows of
    ``bracket``."""
    if len(w) == 0:
        return np.zeros(0, dtype=bool)
    alpha = _barycentric(w.T, bracket)  # (K, N)
    exact = np.all(np.abs(bracket.T @ alpha - w.T) <= 1e-7, axis=0)
    return exact & np.all(alpha >= -tol, axis=0)


def _near_any(w: np.ndarray, others: np.ndarray, distance: float) -> np.ndarray:
    """Mask of the rows of ``w`` within ``distance`` of some row of ``others``."""
    if len(w) == 0 or len(others) == 0:
        return np.zeros(len(w), dtype=bool)
    d = np.linalg.norm(w[:, None, :] - others[None, :, :], axis=2)
    return d.min(axis=1) < distance


def _safeguarded_combination(normal: np.ndarray, bracket: np.ndarray, floor: float) -> np.ndarray:
    alpha = _barycentric(normal, bracket)
    if np.any(alpha < floor):  # λ is not safely inside the cell: bisect it instead
        alpha = np.full(len(bracket), 1.0 / len(bracket))
    w = np.maximum(bracket.T @ alpha, 0.0)
    return w / w.sum()
