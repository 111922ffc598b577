"""What the sweep would have cost to match a method, over random orders of its trials.

The trials of a sweep finished in one order, but any order was as likely: the cost read off
the one recorded order is luck. For each of P orders π (uniform random permutations from a
seeded generator, or every order when given), and each prefix length n = 1 … N:

1. the front is chosen on the choice split among the first n trials of π (seed means);
2. for each paired seed s, ε_s(n) = min over that front of ``g[t, s]``
   (:func:`paretokit.analysis.paired.gaps`);
3. the outcome at n is the report's own (:func:`~paretokit.analysis.seeds.t_bounds`, then
   ``beyond`` iff the interval's low end is above the resolution δ of the *whole* sweep,
   :func:`paretokit.analysis.paired.resolution`: a prefix has matched the method once it
   comes within the resolution the full sweep reached).

The cost of order π is the first n at which the outcome is no longer ``beyond`` (the sweep
has matched the method, within seed noise or better), in trials and in the summed training
seconds of those n trials (every seed of each); an order that never gets there within the N
trials run is *censored*. The front is not monotone in n — a new trial can push an earlier
one off the choice-split front — so the first such n is what a user stopping the sweep as soon
as it matched would pay.

Fast by construction: trial b is on the choice front of a prefix exactly while it is in the
prefix and none of the trials that dominate it (on the choice split) are, i.e. for prefix
lengths ``pos_π(b) < n ≤ min_{a ≻ b} pos_π(a)``. The N×N dominance matrix is computed once,
then every (order, prefix, trial) activity is one vectorized comparison, and each seed's
ε_s(n) is a masked minimum: O(P·N²·S) array work with no Python loop over orders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from paretokit.analysis.seeds import MIN_SEEDS, t_bounds

DEFAULT_ORDERS = 1000
_CHUNK_CELLS = 4_000_000  # orders × prefixes × trials per vectorized chunk (memory bound)


def dominance_matrix(choose: np.ndarray) -> np.ndarray:
    """``d[a, b]``: trial a Pareto-dominates trial b on ``choose`` (N, M), minimization.
    A row with a NaN dominates nothing and is dominated by every finite row (it is never on
    a front)."""
    c = np.asarray(choose, float)
    le = np.all(c[:, None, :] <= c[None, :, :], axis=2)
    lt = np.any(c[:, None, :] < c[None, :, :], axis=2)
    finite = np.isfinite(c).all(axis=1)
    d = le & lt & finite[:, None] & finite[None, :]
    d |= finite[:, None] & ~finite[None, :]
    return d


def random_orders(n_trials: int, n_orders: int = DEFAULT_ORDERS, seed: int = 0) -> np.ndarray:
    """``n_orders`` uniform random permutations of ``range(n_trials)`` (n_orders, N), from
    ``numpy.random.default_rng(seed)``: the same orders on every run."""
    rng = np.random.default_rng(seed)
    return np.argsort(rng.random((n_orders, n_trials)), axis=1)


@dataclass(frozen=True)
class CostToMatch:
    """Per order: trials and training seconds until the method is matched (``inf`` where the
    order never matches it within the trials run), and their summaries over orders.

    Quantiles are order statistics (``inverted_cdf``: an observed value, no interpolation)
    with never-matching orders counted as ``+inf``, which is exact for a right-censored
    sample: the median is finite when fewer than half the orders never match, and NaN
    (not reached) otherwise; likewise each quartile."""

    trials: np.ndarray  # (P,) float, inf = never
    seconds: np.ndarray  # (P,) float, inf = never
    orders: int
    never_share: float
    trials_median: float
    trials_iqr: tuple[float, float]
    seconds_median: float
    seconds_iqr: tuple[float, float]


def _quantile(v: np.ndarray, q: float) -> float:
    x = float(np.quantile(v, q, method="inverted_cdf"))
    return x if math.isfinite(x) else math.nan


def _summarize(trials: np.ndarray, seconds: np.ndarray) -> CostToMatch:
    return CostToMatch(
        trials=trials,
        seconds=seconds,
        orders=len(trials),
        never_share=float(np.mean(~np.isfinite(trials))),
        trials_median=_quantile(trials, 0.5),
        trials_iqr=(_quantile(trials, 0.25), _quantile(trials, 0.75)),
        seconds_median=_quantile(seconds, 0.5),
        seconds_iqr=(_quantile(seconds, 0.25), _quantile(seconds, 0.75)),
    )


def _prefix_fronts(orders: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """Step 1 of the module docstring, for P orders (P, N) at once: ``a[p, j, t]`` is True when
    trial t is on the choice front of the first j + 1 trials of order p, i.e. when
    ``pos_p(t) < j + 1 ≤ min_{a ≻ t} pos_p(a)`` (``dom``: :func:`dominance_matrix`)."""
    n = orders.shape[1]
    prefix = np.arange(1, n + 1)  # prefix lengths
    rows = np.arange(len(orders))[:, None]
    pos = np.empty_like(orders)
    pos[rows, orders] = np.arange(n)  # pos[p, t]: 0-based place of trial t in order p
    # first place at which a dominator of t appears (n: never)
    first_dom = np.where(dom[None, :, :], pos[:, :, None], n).min(axis=1)
    return (prefix[None, :, None] > pos[:, None, :]) & (
        prefix[None, :, None] <= first_dom[:, None, :]
    )  # (P, n, N): trial t on the choice front of the first `prefix` trials


def _first_match(active: np.ndarray, g: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Steps 2 and 3 for one method with gaps ``g`` (N, S), given the prefix fronts ``active``
    (P, n, N) of :func:`_prefix_fronts`: per order, whether some prefix matched the method
    (its outcome is no longer ``beyond``), and the first that did (0-based; 0 where none)."""
    eps = np.stack(
        [np.where(active, g[None, None, :, s], np.inf).min(axis=2) for s in range(g.shape[1])],
        axis=-1,
    )  # (P, n, S)
    _, low, _ = t_bounds(np.where(np.isfinite(eps), eps, 0.0))
    beyond = ~np.isfinite(eps).all(axis=-1) | (low > max(delta, 0.0))
    matched = ~beyond
    return matched.any(axis=1), matched.argmax(axis=1)


def cost_to_match(
    choose: np.ndarray,
    gaps: list[np.ndarray],
    seconds: np.ndarray,
    orders: np.ndarray,
    delta: float = 0.0,
) -> list[CostToMatch | None]:
    """The cost to match each method over ``orders`` (P, N) of the N trials.

    ``choose`` (N, M): each trial's seed-mean point on the choice split (minimization);
    ``gaps``: per method, ``g`` (N, S_m) over its S_m paired seeds
    (:func:`paretokit.analysis.paired.gaps`, finite); ``seconds`` (N,): each trial's training
    seconds over all its seeds; ``delta``: the sweep's resolution. None for a method with fewer than two paired seeds (its
    outcome can never be ``beyond``, so a cost would mean nothing).
    """
    orders = np.asarray(orders, dtype=np.intp)
    p_count, n = orders.shape
    dom = dominance_matrix(choose)
    secs = np.asarray(seconds, float)
    results: list[list[np.ndarray]] = [[] for _ in gaps]
    chunk = max(1, _CHUNK_CELLS // max(n * n, 1))
    for start in range(0, p_count, chunk):
        part = orders[start : start + chunk]
        active = _prefix_fronts(part, dom)
        cum_secs = np.cumsum(secs[part], axis=1)
        for i, g in enumerate(gaps):
            g = np.asarray(g, float)
            if g.shape[1] < MIN_SEEDS:
                continue
            hit, first = _first_match(active, g, delta)
            trials = np.where(hit, first + 1.0, np.inf)
            spent = np.where(hit, cum_secs[np.arange(len(part)), first], np.inf)
            results[i].append(np.stack([trials, spent]))
    out: list[CostToMatch | None] = []
    for i, g in enumerate(gaps):
        if np.asarray(g).shape[1] < MIN_SEEDS or not results[i]:
            out.append(None)
            continue
        both = np.concatenate(results[i], axis=1)
        out.append(_summarize(both[0], both[1]))
    return out
