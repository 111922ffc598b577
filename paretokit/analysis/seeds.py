"""Statistics over training seeds: per-metric summaries, the paired Student-t interval, and
the three-way outcome of a method against the sweep front.

Why Student t and not a bootstrap: a verdict rests on S paired seeds, typically 3 to 5. A
percentile bootstrap of 3 values has only 10 distinct resamples, and its interval can never
be wider than the range of the 3 values themselves: it is far too narrow at this S and would
call seed noise a win. The t interval with S − 1 degrees of freedom widens honestly as S
shrinks (t_{0.975,2} = 4.30), assuming only that the per-seed differences are roughly normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

Outcome = Literal["dominated", "beyond", "within_noise"]
OUTCOMES: tuple[Outcome, ...] = ("dominated", "beyond", "within_noise")
MIN_SEEDS = 2  # an interval, hence a verdict other than within_noise, needs two paired seeds


@dataclass(frozen=True)
class SeedSummary:
    """Mean, sample standard deviation and 95% confidence half-width (Student t, n − 1
    degrees of freedom; NaN for one seed) of each metric over seeds."""

    n: int
    mean: np.ndarray
    std: np.ndarray
    ci95: np.ndarray


def summarize_seeds(values: np.ndarray) -> SeedSummary:
    """Summarize per-seed metric rows (n_seeds, M); NaN rows (failed seeds) are dropped."""
    v = np.atleast_2d(np.asarray(values, dtype=float))
    v = v[np.isfinite(v).all(axis=1)]
    n = len(v)
    m = v.shape[1]
    if n == 0:
        nan = np.full(m, np.nan)
        return SeedSummary(0, nan, nan, nan)
    mean = v.mean(axis=0)
    if n == 1:
        return SeedSummary(1, mean, np.full(m, np.nan), np.full(m, np.nan))
    std = v.std(axis=0, ddof=1)
    half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return SeedSummary(n, mean, std, half)


def t_bounds(values: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and two-sided Student-t interval ``mean ± t_{(1+level)/2, S−1} · sd / √S`` along
    the last axis of ``values`` (..., S) (sample sd, ``ddof = 1``): arrays of shape (...).
    Every value must be finite. With S < 2 the interval is NaN; equal values give the
    zero-width interval ``[mean, mean]``. The report and the cost-to-match share this one
    function, so that they always agree on an outcome."""
    v = np.asarray(values, dtype=float)
    n = v.shape[-1]
    mean = v.mean(axis=-1) if n else np.full(v.shape[:-1], np.nan)
    if n < MIN_SEEDS:
        nan = np.full(v.shape[:-1], np.nan)
        return mean, nan, nan.copy()
    # equal values have no spread (the computed sd of equal floats can be 1e-17, not 0)
    sd = np.where(v.max(axis=-1) == v.min(axis=-1), 0.0, v.std(axis=-1, ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    mean = np.where(sd == 0, v[..., 0], mean)
    return mean, mean - half, mean + half


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """:func:`t_bounds` of the finite ``values`` (S,) as three floats."""
    v = np.asarray(values, dtype=float)
    mean, low, high = t_bounds(v[np.isfinite(v)], level)
    return float(mean), float(low), float(high)


def outcome_of(low: float, high: float, resolution: float = 0.0) -> Outcome:
    """The outcome from the 95% interval ``[low, high]`` of a method's mean paired ε against
    the front (ε > 0: beyond the front, ε ≤ 0: weakly dominated by a front point), and the
    sweep's ``resolution`` δ ≥ 0 (:func:`paretokit.analysis.paired.resolution`: how far the
    sweep's own interior points lie beyond the rest of its front):

    - ``dominated``: ``high < 0``, a front point is better in every metric on every plausible
      mean;
    - ``beyond``: ``low > δ``, the method lies outside the front by more than seed noise and
      more than the sweep's own points lie beyond one another — a point the sweep would not
      reach by sampling one more weight between its trials;
    - ``within_noise``: otherwise, including an interval that touches 0 (an exact copy of a
      front point has ε = 0 in every seed), one that lies above 0 but not above δ, and a NaN
      interval (fewer than two paired seeds: nothing can be told apart from noise).
    """
    if math.isnan(low) or math.isnan(high):
        return "within_noise"
    if high < 0:
        return "dominated"
    if low > max(resolution, 0.0):
        return "beyond"
    return "within_noise"
