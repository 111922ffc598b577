"""The verdict protocol's arithmetic: the three outcomes from the t-interval and their edge
cases, the paired ε, and the cost to match over trial orders against hand-computed cases
(every order of 3 trials enumerated), and its agreement with the report's own outcome."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from paretokit import analysis as A

T975_2 = 4.302652729911275  # Student t quantile, 0.975, 2 degrees of freedom


def test_outcome_edges():
    assert A.outcome_of(-0.3, -0.1) == "dominated"
    assert A.outcome_of(0.1, 0.3) == "beyond"
    assert A.outcome_of(-0.1, 0.3) == "within_noise"
    # an interval touching 0 is within noise on either side (an exact copy: [0, 0])
    assert A.outcome_of(0.0, 0.0) == "within_noise"
    assert A.outcome_of(0.0, 0.2) == "within_noise"
    assert A.outcome_of(-0.2, 0.0) == "within_noise"
    # no interval (fewer than two paired seeds): nothing can be told apart from noise
    assert A.outcome_of(math.nan, math.nan) == "within_noise"


def test_t_interval_by_hand():
    mean, low, high = A.t_interval(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0 and high - mean == pytest.approx(T975_2 / math.sqrt(3))
    assert low == pytest.approx(2.0 - T975_2 / math.sqrt(3))
    assert A.t_interval(np.array([0.5]))[0] == 0.5 and math.isnan(A.t_interval([0.5])[1])
    assert A.t_interval(np.array([0.2, 0.2, 0.2]))[1:] == (0.2, 0.2)  # zero width
    # the vectorized form agrees with the scalar one, row by row
    rows = np.random.default_rng(0).normal(size=(50, 3))
    m, lo, hi = A.t_bounds(rows)
    for k, r in enumerate(rows):
        assert (m[k], lo[k], hi[k]) == A.t_interval(r)


def test_paired_epsilon_and_an_exact_copy():
    # 3 trials × 2 seeds × 2 metrics (minimization); trial 1 and 2 chosen
    judge = np.array(
        [
            [[0.5, 0.5], [0.6, 0.4]],
            [[0.2, 0.8], [0.3, 0.7]],
            [[0.8, 0.1], [0.7, 0.2]],
        ]
    )
    chosen = np.array([False, True, True])
    ref = np.array([1.1, 1.1])
    copy = A.paired_verdict(judge, chosen, judge[1], ref)  # seed s = trial 1's seed s
    np.testing.assert_array_equal(copy.epsilon, [0.0, 0.0])
    assert copy.outcome == "within_noise" and copy.epsilon_ci95 == (0.0, 0.0)
    assert not copy.dominated.any() and np.all(copy.hv_contribution == 0)
    # trial 0 is not chosen: a copy of it is judged against trials 1 and 2 only
    v = A.paired_verdict(judge, chosen, judge[0], ref)
    # seed 0: min(max(0.2−0.5, 0.8−0.5), max(0.8−0.5, 0.1−0.5)) = 0.3;
    # seed 1: min(max(0.3−0.6, 0.7−0.4), max(0.7−0.6, 0.2−0.4)) = 0.1
    np.testing.assert_allclose(v.epsilon, [0.3, 0.1])
    # mean 0.2 ± t_{0.975,1} · 0.1414 / √2 = ± 1.27: two seeds cannot tell it from noise
    assert v.outcome == "within_noise"


# The hand-computed case of the report tests: 3 trials, 2 paired seeds. Validation points
# (minimization): trial 0 dominates trial 2; trial 1 is on the front with either.
CHOOSE = np.array([[2.0, -0.6], [6.0, -0.9], [3.0, -0.5]])
SECONDS = np.array([20.0, 40.0, 80.0])
ALL_ORDERS = np.array(list(itertools.permutations(range(3))))  # (0,1,2), (0,2,1), (1,0,2), …


def test_cost_to_match_every_order_by_hand():
    # g[t, s] = max_j (y_{t,s,j} − p_{s,j}): trial 0 within noise (0.1, 0.05), trial 1 beyond
    # (0.45, 0.44: t-interval [0.38, 0.51]), trial 2 dominates (−0.05, −0.06)
    g = np.array([[0.1, 0.05], [0.45, 0.44], [-0.05, -0.06]])
    (cost,) = A.cost_to_match(CHOOSE, [g], SECONDS, ALL_ORDERS)
    # orders starting with trial 0 or 2 match at once; starting with trial 1, at the second
    np.testing.assert_array_equal(cost.trials, [1, 1, 2, 2, 1, 1])
    np.testing.assert_array_equal(cost.seconds, [20, 20, 60, 120, 80, 80])
    assert cost.never_share == 0 and cost.orders == 6
    # order statistics (inverted CDF) of [1, 1, 1, 1, 2, 2] and [20, 20, 60, 80, 80, 120]
    assert cost.trials_median == 1 and cost.trials_iqr == (1, 2)
    assert cost.seconds_median == 60 and cost.seconds_iqr == (20, 80)


def test_cost_to_match_takes_the_first_match_and_censors_the_rest():
    """Trial 0 alone is beyond (0.1, 0.1 — zero width) and pushes trial 2 off the validation
    front: an order that reaches trial 2 first has matched at once, even though the full
    front (trials 0 and 1) leaves the method beyond."""
    g = np.array([[0.1, 0.1], [0.45, 0.44], [-0.05, -0.06]])
    (cost,) = A.cost_to_match(CHOOSE, [g], SECONDS, ALL_ORDERS)
    # (0,1,2) (0,2,1) (1,0,2): never; (1,2,0): at 2 (front {1, 2}); (2,0,1) (2,1,0): at 1
    np.testing.assert_array_equal(cost.trials, [np.inf, np.inf, np.inf, 2, 1, 1])
    assert cost.never_share == 0.5
    assert cost.trials_median == 2 and cost.trials_iqr[0] == 1
    assert math.isnan(cost.trials_iqr[1])  # the 75th percentile order never matched
    # the full front's outcome is beyond, as the report says
    judge = np.zeros((3, 2, 2))
    judge[:, :, 0] = g  # points whose gaps to the method at the origin are g
    judge[:, :, 1] = g
    v = A.paired_verdict(judge, A.chosen_trials(CHOOSE), np.zeros((2, 2)), np.ones(2) * 2)
    assert v.outcome == "beyond"


def test_one_paired_seed_has_no_cost():
    (cost,) = A.cost_to_match(CHOOSE, [np.array([[0.1], [0.2], [0.3]])], SECONDS, ALL_ORDERS)
    assert cost is None


@pytest.mark.parametrize("seed", range(6))
def test_the_full_prefix_agrees_with_the_report(seed):
    """On random instances: an order is matched at n = N exactly when the paired verdict
    against the validation-chosen front of all trials is not beyond."""
    rng = np.random.default_rng(seed)
    n, s, m = 9, 3, 2
    choose = rng.random((n, m))
    judge = choose[:, None, :] + 0.05 * rng.standard_normal((n, s, m))
    point = rng.random((s, m)) * 0.6
    v = A.paired_verdict(judge, A.chosen_trials(choose), point, np.full(m, 2.0))
    # the orders ending with an unmatched prefix never match, unless earlier prefixes did;
    # an order whose prefixes are all beyond before N matches at N iff the verdict is not
    orders = A.random_orders(n, 200, seed)
    (cost,) = A.cost_to_match(choose, [A.gaps(judge, point)], np.ones(n), orders)
    if v.outcome != "beyond":
        assert np.isfinite(cost.trials).all()
    reached_only_at_end = cost.trials == n
    assert v.outcome != "beyond" or not reached_only_at_end.any()


def test_random_orders_are_seeded_permutations():
    a, b = A.random_orders(7, 50, seed=3), A.random_orders(7, 50, seed=3)
    np.testing.assert_array_equal(a, b)
    assert (np.sort(a, axis=1) == np.arange(7)).all()
    assert not np.array_equal(a, A.random_orders(7, 50, seed=4))


def test_the_sweeps_resolution():
    """Three chosen trials A (0, 1), B (0.4, 0.4), C (1, 0), the same in both seeds. A and C
    hold a metric's best value (extreme); B, interior, lies beyond the other two by
    ε = min(max(0 − 0.4, 1 − 0.4), max(1 − 0.4, 0 − 0.4)) = 0.6: δ = 0.6."""
    pts = np.array([[0.0, 1.0], [0.4, 0.4], [1.0, 0.0]])
    judge = np.repeat(pts[:, None, :], 2, axis=1)
    chosen = np.ones(3, dtype=bool)
    delta = A.resolution(judge, chosen, pts)
    assert delta == pytest.approx(0.6)
    ref = np.full(2, 2.0)
    # (0.3, 0.3) is beyond B by 0.1 in both seeds: above 0, not above δ
    inside = A.paired_verdict(judge, chosen, np.full((2, 2), 0.3), ref, delta)
    np.testing.assert_allclose(inside.epsilon, [0.1, 0.1])
    assert inside.outcome == "within_noise"
    assert A.paired_verdict(judge, chosen, np.full((2, 2), 0.3), ref).outcome == "beyond"
    # (−0.7, −0.7): 1.1 beyond B, more than δ
    far = A.paired_verdict(judge, chosen, np.full((2, 2), -0.7), ref, delta)
    assert far.epsilon_mean == pytest.approx(1.1) and far.outcome == "beyond"
    # the cost to match uses the same threshold: B alone already matches (0.3, 0.3)
    g = A.gaps(judge, np.full((2, 2), 0.3))
    (cost,) = A.cost_to_match(pts, [g], np.ones(3), ALL_ORDERS, delta)
    # A alone: ε = max(−0.3, 0.7) = 0.7 > δ, C alone and {A, C} too; any front with B: 0.1
    # orders ABC, ACB, BAC, BCA, CAB, CBA
    np.testing.assert_array_equal(cost.trials, [2, 3, 1, 1, 3, 2])
    # with no interior trial there is no resolution to allow for
    assert A.resolution(judge[[0, 2]], np.ones(2, dtype=bool), pts[[0, 2]]) == 0.0
