"""A method against the sweep front, seed by seed: the front is chosen on one split (seed
means) and judged on another (seed by seed), and seed s of the method meets seed s of the
sweep only.

All points here are in normalized minimization coordinates (:class:`Normalization`), so
ε-distances and hypervolumes of different seeds and methods are in one unit.

For seed s, with C the trials chosen on the choice split and ``y_{t,s}`` trial t's seed-s
point on the judged split, the paired additive ε-indicator (Zitzler et al., IEEE TEVC 2003)
of the method's seed-s point ``p_s`` is

    ε_s = min_{t ∈ C} max_j (y_{t,s,j} − p_{s,j}):

ε_s > 0 when ``p_s`` lies beyond the seed-s front (every front point is worse by ε_s in some
metric), ε_s ≤ 0 when a front point weakly dominates it. The verdict is read from the
Student-t interval of the mean of ε_1 … ε_S (:func:`paretokit.analysis.seeds.outcome_of`),
against 0 (dominated) and against the sweep's **resolution** δ (beyond).

Why a resolution: a sweep samples finitely many weights, so a point *on* the front between two
sampled trials is dominated by neither and has ε_s > 0 in every seed; with seeds paired (same
initialization and data order) the spread of ε_s is small, and such a point would be called a
win. Equal-weight LS against a 10-trial LS sweep on ``synthetic`` does exactly that (ε +0.012,
interval [+0.010, +0.015]) while the sweep's own trial at w = 0.475 lies +0.089 beyond the
other trials. δ is the largest paired-mean ε of a chosen *interior* trial (one that holds
no metric's best value among the chosen trials on the choice split) against the other chosen
trials: how far beyond the rest of its front a point the sweep itself found can lie. A method
is ``beyond`` only when its whole interval lies above δ. Extreme trials are left out because
they set the front's extent (nothing else reaches their best metric), not its resolution;
with no interior trial (a front of one point per metric), δ = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paretokit.analysis.dominance import non_dominated
from paretokit.analysis.hypervolume import hypervolume, hypervolume_contribution
from paretokit.analysis.seeds import Outcome, outcome_of, t_interval


def chosen_trials(choose: np.ndarray) -> np.ndarray:
    """Mask (N,) of the trials non-dominated on the choice split: ``choose`` (N, M) holds each
    trial's seed-mean point there (minimization). NaN rows are never chosen."""
    if len(choose) == 0:
        return np.zeros(0, dtype=bool)
    return non_dominated(choose, [False] * choose.shape[1])


def gaps(judge: np.ndarray, point: np.ndarray) -> np.ndarray:
    """``g[t, s] = max_j (y_{t,s,j} − p_{s,j})`` for trials ``judge`` (N, S, M) and the
    method's per-seed points ``point`` (S, M): ε_s is the minimum of ``g[:, s]`` over the
    chosen trials. A NaN anywhere gives ``+inf`` (that trial cannot judge that seed)."""
    g = np.max(np.asarray(judge, float) - np.asarray(point, float)[None, :, :], axis=2)
    return np.where(np.isfinite(g), g, np.inf)


def resolution(judge: np.ndarray, chosen: np.ndarray, choose: np.ndarray) -> float:
    """δ ≥ 0: the largest mean over seeds of ε_s of a chosen interior trial's seed-s point
    against the other chosen trials' seed-s points (``judge`` (N, S, M), ``choose`` (N, M),
    minimization); 0 without an interior trial. See the module docstring."""
    idx = np.flatnonzero(chosen)
    if len(idx) < 2:
        return 0.0
    best = np.asarray(choose, float)[idx].min(axis=0)
    delta = 0.0
    for t in idx:
        if np.any(choose[t] == best):
            continue  # an extreme trial: it sets the front's extent
        others = idx[idx != t]
        eps = gaps(judge[others], judge[t]).min(axis=0)
        delta = max(delta, float(np.mean(eps)))
    return delta


@dataclass(frozen=True)
class PairedVerdict:
    """One method against the front, over its S paired seeds (per-seed arrays are (S,))."""

    epsilon: np.ndarray  # ε_s
    dominated: np.ndarray  # whether a front point of seed s Pareto-dominates the method's
    hv_contribution: np.ndarray  # HV(F_s ∪ {p_s}) − HV(F_s), normalized units
    hv_contribution_pct: np.ndarray  # the same, in % of HV(F_s)
    front_hypervolume: np.ndarray  # HV(F_s)
    epsilon_mean: float
    epsilon_ci95: tuple[float, float]
    hv_pct_mean: float
    hv_pct_ci95: tuple[float, float]
    outcome: Outcome


def paired_verdict(
    judge: np.ndarray,
    chosen: np.ndarray,
    point: np.ndarray,
    reference: np.ndarray,
    delta: float = 0.0,
    front_hypervolume: np.ndarray | None = None,
) -> PairedVerdict:
    """The paired verdict of a method with per-seed points ``point`` (S, M) against the
    chosen trials' per-seed points ``judge[chosen]`` (judge: (N, S, M), same seed order),
    with the hypervolume reference ``reference`` (M,) and the sweep's resolution ``delta``
    (:func:`resolution`); every chosen trial must have every seed (the report keeps complete
    trials only). ``front_hypervolume`` (S,): HV of each seed's front, when the caller has it
    already (the report computes it once for every method)."""
    front = np.asarray(judge, float)[chosen]
    point = np.asarray(point, float)
    s_count, m = point.shape
    minimize = [False] * m
    eps = gaps(front, point).min(axis=0) if len(front) else np.full(s_count, np.inf)
    dominated = np.zeros(s_count, dtype=bool)
    contrib, pct, front_hv = (np.full(s_count, np.nan) for _ in range(3))
    for s in range(s_count):
        fs, ps = front[:, s, :], point[s]
        dominated[s] = bool(np.any(np.all(fs <= ps, axis=1) & np.any(fs < ps, axis=1)))
        front_hv[s] = (
            hypervolume(fs, reference, minimize)
            if front_hypervolume is None
            else front_hypervolume[s]
        )
        contrib[s] = hypervolume_contribution(fs, ps, reference, minimize)
        pct[s] = 100.0 * contrib[s] / front_hv[s] if front_hv[s] > 0 else np.nan
    e_mean, e_low, e_high = t_interval(eps)
    h_mean, h_low, h_high = t_interval(pct)
    return PairedVerdict(
        epsilon=eps,
        dominated=dominated,
        hv_contribution=contrib,
        hv_contribution_pct=pct,
        front_hypervolume=front_hv,
        epsilon_mean=e_mean,
        epsilon_ci95=(e_low, e_high),
        hv_pct_mean=h_mean,
        hv_pct_ci95=(h_low, h_high),
        outcome=outcome_of(e_low, e_high, delta),
    )
