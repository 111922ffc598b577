"""The adaptive sampler: the next weights go into the largest gap of the current front."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState
from scipy.spatial import Delaunay, QhullError

from paretokit.analysis.dominance import non_dominated
from paretokit.analysis.hypervolume import hypervolume_contribution
from paretokit.sampling.simple import SimplexSampler
from paretokit.sampling.simplex import PENDING, param_names, trial_weights, weights_to_params


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


class AdaptiveSampler(SimplexSampler):
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
    ``Π_k (r − m_k) − HV(max(p_1, m) … max(p_K, m))`` (the exclusive contribution,
    :func:`~paretokit.analysis.hypervolume.hypervolume_contribution`); zero when a front point
    weakly dominates m (see :class:`AdaptiveSampler`)."""
    k = points.shape[2]
    r, minimize = np.full(k, reference), [False] * k
    dominated = np.all(front[None, :, :] <= bound[:, None, :] + 1e-12, axis=2).any(axis=1)
    return np.array(
        [
            0.0 if dominated[c] else hypervolume_contribution(points[c], bound[c], r, minimize)
            for c in range(len(points))
        ]
    )


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
            if other.number < trial.number and other.state in PENDING:
                unchosen += 1
            continue
        used.append(w)
        if other.state in PENDING:
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
    """Mask of the rows of ``y`` (minimization) that no row dominates
    (:func:`~paretokit.analysis.dominance.non_dominated`); of identical rows only the first is
    kept, so a repeated point spans no cell twice."""
    _, first = np.unique(y, axis=0, return_index=True)
    once = np.zeros(len(y), dtype=bool)
    once[first] = True
    return non_dominated(y, [False] * y.shape[1]) & once


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
