"""Dominance, frontier, Δm% and mean rank against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from paretokit import analysis as A
from paretokit.errors import ParetokitError
from paretokit.plot import staircase


def test_non_dominated_minimization():
    pts = np.array([[1, 5], [2, 3], [3, 4], [4, 1], [2, 3], [5, 5]], float)
    mask = A.non_dominated(pts, [False, False])
    # (3,4) is dominated by (2,3); (5,5) by everything; the duplicate (2,3) stays
    assert mask.tolist() == [True, True, False, True, True, False]


def test_non_dominated_mixed_directions_and_nan():
    pts = np.array([[0.1, 0.90], [0.2, 0.95], [0.2, 0.80], [np.nan, 0.99]])
    mask = A.non_dominated(pts, [False, True])  # MAE lower, accuracy higher
    assert mask.tolist() == [True, True, False, False]


def test_dominates_and_dominated_by_any():
    assert A.dominates(np.array([1, 1]), np.array([1, 2]), [False, False])
    assert not A.dominates(np.array([1, 2]), np.array([1, 2]), [False, False])
    assert A.dominates(np.array([1, 0.9]), np.array([1, 0.8]), [False, True])
    others = np.array([[0.5, 0.5], [2, 0], [1, 1]])
    assert A.dominated_by_any(np.array([1, 1]), others, [False, False]).tolist() == [0]


def test_delta_m_by_hand():
    # task 1 MAE 10% worse than STL, task 2 accuracy 5% better: Δm = 100/2 (0.10 − 0.05) = 2.5
    hib = {"mae": False, "acc": True}
    table = pd.DataFrame({"mae": [1.0, 1.1, 0.9], "acc": [0.8, 0.84, 0.8]}, index=["stl", "a", "b"])
    np.testing.assert_allclose(A.delta_m(table, "stl", hib), [0.0, 2.5, -5.0])
    # a zero baseline metric has no relative change: NaN, never ±inf
    zero = pd.DataFrame({"mae": [0.0, 1.0], "acc": [0.8, 0.8]}, index=["stl", "a"])
    assert np.isnan(A.delta_m(zero, "stl", hib)["a"])


def test_delta_m_is_undefined_on_a_nonpositive_baseline():
    """A negative baseline flips the relative change's sign (the toy's negative losses): a
    method 0.5 lower (better) than STL's −1 would read as +50% worse. Δm is NaN for every row
    then, both variants, and nonpositive_baselines names the metric and its value."""
    hib = {"f1": False, "f2": False}
    table = pd.DataFrame({"f1": [-1.0, -1.5], "f2": [2.0, 1.0]}, index=["stl", "better"])
    assert np.isnan(A.delta_m(table, "stl", hib)).all()
    assert np.isnan(A.delta_m(table, "stl", hib, tasks={"f1": "f1", "f2": "f2"})).all()
    assert A.nonpositive_baselines(table, "stl") == {"f1": -1.0}
    positive = table.assign(f1=[1.0, 0.5])
    np.testing.assert_allclose(A.delta_m(positive, "stl", hib), [0.0, -50.0], atol=1e-12)
    assert A.nonpositive_baselines(positive, "stl") == {}
    # higher-is-better metrics too: an accuracy-like score of −0.2 is no ratio's denominator
    acc = pd.DataFrame({"r2": [-0.2, 0.1]}, index=["stl", "a"])
    assert np.isnan(A.delta_m(acc, "stl", {"r2": True})["a"])
    assert A.nonpositive_baselines(acc, "stl") == {"r2": -0.2}
    # zero counts; a NaN baseline is a missing value, not a sign problem
    both = pd.DataFrame({"a": [0.0, 1.0], "b": [np.nan, 1.0]}, index=["stl", "m"])
    assert A.nonpositive_baselines(both, "stl") == {"a": 0.0}
    assert A.nonpositive_baselines(both, "nope") == {}


def test_delta_m_bad_input_is_one_clear_error():
    table = pd.DataFrame({"mae": [1.0, 1.1]}, index=["stl", "a"])
    with pytest.raises(ParetokitError, match="baseline 'nope' is not a row of the table"):
        A.delta_m(table, "nope", {"mae": False})
    with pytest.raises(ParetokitError, match="no direction given for metric"):
        A.delta_m(table, "stl", {})


def test_mean_rank_with_ties():
    table = pd.DataFrame({"mae": [1.0, 2.0, 3.0], "acc": [0.9, 0.9, 0.5]})  # ↓, ↑
    # MAE ranks 1,2,3; accuracy ranks 1.5,1.5,3
    ranks = A.mean_rank(table, {"mae": False, "acc": True})
    np.testing.assert_allclose(ranks, [1.25, 1.75, 3.0])


def test_staircase_vertices():
    front = np.array([[3.0, 1.0], [1.0, 3.0], [2.0, 2.0]])
    v = staircase(front, (False, False))
    expected = [[1, 3], [2, 3], [2, 2], [3, 2], [3, 1]]
    np.testing.assert_allclose(v, expected)


# --- the DataFrame API of issue 5 -----------------------------------------------------------


def test_delta_m_table_and_libmtl_variant():
    # rows = methods, columns = metrics; seg: mIoU ↑ and pixel acc ↑, depth: abs err ↓
    table = pd.DataFrame(
        {
            "seg.miou": [0.40, 0.44, 0.36],
            "seg.acc": [0.80, 0.80, 0.88],
            "depth.err": [0.5, 0.45, 0.6],
        },
        index=["stl", "a", "b"],
    )
    hib = {"seg.miou": True, "seg.acc": True, "depth.err": False}
    # a: miou +10% (good → −10), acc 0, err −10% (good → −10): all-metric mean = −20/3
    # b: miou −10% (bad → +10), acc +10% (good → −10), err +20% (bad → +20): mean = 20/3
    dm = A.delta_m(table, "stl", hib)
    np.testing.assert_allclose(dm.to_numpy(), [0.0, -20 / 3, 20 / 3])
    assert list(dm.index) == ["stl", "a", "b"]
    # LibMTL: per task first. a: seg (−10 + 0)/2 = −5, depth −10 → −7.5;
    # b: seg (10 − 10)/2 = 0, depth +20 → +10
    tasks = {"seg.miou": "seg", "seg.acc": "seg", "depth.err": "depth"}
    np.testing.assert_allclose(A.delta_m(table, "stl", hib, tasks=tasks), [0.0, -7.5, 10.0])
    # one metric per task: both variants agree
    one = table[["seg.miou", "depth.err"]]
    np.testing.assert_allclose(A.delta_m(one, "stl", hib), A.delta_m(one, "stl", hib, tasks=tasks))
    with pytest.raises(ParetokitError):
        A.delta_m(table, "nope", hib)


def test_mean_rank_table_mixed_directions_and_nan():
    table = pd.DataFrame(
        {"mae": [1.0, 2.0, 2.0, np.nan], "acc": [0.5, 0.9, 0.9, 0.7]}, index=list("abcd")
    )
    mr = A.mean_rank(table, {"mae": False, "acc": True})
    # mae ranks a 1, b 2.5, c 2.5 (d NaN); acc ranks b 1.5, c 1.5, d 3, a 4
    np.testing.assert_allclose(mr.to_numpy(), [2.5, 2.0, 2.0, 3.0])


def _brute_non_dominated(p, hib):
    q = A.as_minimization(p, hib)
    out = []
    for i in range(len(q)):
        if not np.isfinite(q[i]).all():
            out.append(False)
            continue
        out.append(
            not any(
                np.isfinite(q[j]).all() and np.all(q[j] <= q[i]) and np.any(q[j] < q[i])
                for j in range(len(q))
            )
        )
    return np.array(out)


@pytest.mark.parametrize("seed", range(12))
def test_non_dominated_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    m = 2 + seed % 3
    p = rng.integers(0, 4, size=(30, m)).astype(float)  # small integers: many ties/duplicates
    if seed % 4 == 0:
        p[rng.integers(0, 30, 3), rng.integers(0, m)] = np.nan
    hib = [bool(b) for b in rng.integers(0, 2, m)]
    np.testing.assert_array_equal(A.non_dominated(p, hib), _brute_non_dominated(p, hib))
    for a, b in rng.integers(0, 30, size=(20, 2)):
        qa, qb = A.as_minimization(p[[a, b]], hib)
        expected = bool(np.all(qa <= qb) and np.any(qa < qb))
        assert A.dominates(p[a], p[b], hib) == expected


def _hv_inclusion_exclusion(p, r):
    """Exact HV of minimization points by inclusion–exclusion over all subsets (small n)."""
    from itertools import combinations

    p = p[np.all(p < r, axis=1)]
    total = 0.0
    for size in range(1, len(p) + 1):
        for sub in combinations(range(len(p)), size):
            corner = p[list(sub)].max(axis=0)
            total += (-1) ** (size + 1) * np.prod(r - corner)
    return total


def test_hypervolume_by_hand_2d_and_3d():
    # 2-D minimization, ref (4, 4): boxes [1,4]×[3,4] ∪ [2,4]×[2,4] ∪ [3,4]×[1,4] = 3 + 4 + 3 − 2 − 1... = 6
    pts = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    assert A.hypervolume(pts, np.array([4.0, 4.0]), [False, False]) == pytest.approx(6.0)
    # the same in "higher is better" units: negate the metric and the reference
    assert A.hypervolume(-pts, -np.array([4.0, 4.0]), [True, True]) == pytest.approx(6.0)
    # mixed: first metric accuracy ↑ (negated), second loss ↓
    mixed = pts * np.array([-1.0, 1.0])
    assert A.hypervolume(mixed, np.array([-4.0, 4.0]), [True, False]) == pytest.approx(6.0)
    # a dominated point, a duplicate, a NaN row and a point beyond the reference add nothing
    extra = np.vstack([pts, [[3.0, 3.0], [2.0, 2.0], [np.nan, 0.0], [0.0, 5.0]]])
    assert A.hypervolume(extra, np.array([4.0, 4.0]), [False, False]) == pytest.approx(6.0)
    # 3-D: unit cube corners. One point (0,0,0) with ref (2,2,2): 8
    assert A.hypervolume(np.zeros((1, 3)), np.full(3, 2.0), [False] * 3) == pytest.approx(8.0)
    # (0,1,1), (1,0,1), (1,1,0), ref (2,2,2): each box 2·1·1 = 2; pairwise overlaps 1·1·1 = 1,
    # triple overlap 1 → 3·2 − 3·1 + 1 = 4
    tri = np.array([[0.0, 1, 1], [1, 0, 1], [1, 1, 0]])
    assert A.hypervolume(tri, np.full(3, 2.0), [False] * 3) == pytest.approx(4.0)
    assert A.hypervolume(np.empty((0, 3)), np.ones(3), [False] * 3) == 0.0


@pytest.mark.parametrize("m", [2, 3, 4, 5])
@pytest.mark.parametrize("seed", range(4))
def test_hypervolume_against_inclusion_exclusion(m, seed):
    rng = np.random.default_rng(100 * m + seed)
    # points on a concave-ish front plus dominated noise, 9 points (2^9 subsets)
    w = rng.dirichlet(np.ones(m), size=9)
    p = 1.0 - np.sqrt(w) + 0.05 * rng.random((9, m))
    r = np.full(m, 1.2)
    assert A.hypervolume(p, r, [False] * m) == pytest.approx(
        _hv_inclusion_exclusion(p, r), rel=1e-10
    )


def test_hypervolume_4d_against_monte_carlo():
    rng = np.random.default_rng(7)
    w = rng.dirichlet(np.ones(4), size=40)
    p = 1.0 - np.sqrt(w)  # 40 mutually non-dominated points on a concave front
    r = np.full(4, 1.1)
    exact = A.hypervolume(p, r, [False] * 4)
    n = 400_000
    x = rng.random((n, 4)) * r  # the box [0, r]
    covered = np.zeros(n, dtype=bool)
    for q in p:
        covered |= np.all(x >= q, axis=1)
    mc = covered.mean() * np.prod(r)
    stderr = np.sqrt(covered.mean() * (1 - covered.mean()) / n) * np.prod(r)
    assert abs(exact - mc) < 4 * stderr


@pytest.mark.parametrize("m", [6, 8])
def test_hypervolume_is_estimated_from_six_metrics_within_its_error(m):
    """From M = 6 and 17 points the hypervolume and a contribution are seeded Monte Carlo
    estimates: within
    4 standard errors of the exact WFG value (the same front, small enough for WFG), the same
    number on every call."""
    from paretokit.analysis.hypervolume import MONTE_CARLO_SAMPLES, _hv_min, is_estimated

    assert not is_estimated(5, 100) and not is_estimated(m, 16) and is_estimated(m, 20)
    rng = np.random.default_rng(m)
    p = 1.0 - np.sqrt(rng.dirichlet(np.ones(m), size=20))  # mutually non-dominated
    r = np.full(m, 1.1)
    exact = _hv_min(p, r)
    volume = np.prod(r - p.min(axis=0))  # the sampled box [min p, r]
    f = exact / volume  # the dominated share of the sampled box
    stderr = volume * np.sqrt(f * (1 - f) / MONTE_CARLO_SAMPLES)
    estimate = A.hypervolume(p, r, [False] * m)
    assert abs(estimate - exact) < 4 * stderr and estimate == A.hypervolume(p, r, [False] * m)
    p = np.vstack([np.full((1, m), 0.02), p])  # a point near the ideal against the 20
    limited = np.maximum(p[1:], p[0])
    assert A.front_mask_min(limited).sum() > 16  # so the contribution is estimated too
    exact_c = np.prod(r - p[0]) - _hv_min(limited[A.front_mask_min(limited)], r)
    box = np.prod(r - p[0])
    fc = 1 - exact_c / box
    c = A.hypervolume_contribution(p[1:], p[0], r, [False] * m)
    assert abs(c - exact_c) < 4 * box * np.sqrt(fc * (1 - fc) / MONTE_CARLO_SAMPLES) + 1e-15


def test_hypervolume_contribution_and_epsilon():
    hib = [False, False]
    front = np.array([[1.0, 3.0], [3.0, 1.0]])
    r = np.array([4.0, 4.0])
    # (2,2) adds the unit square [2,3]×[2,3]
    assert A.hypervolume_contribution(front, np.array([2.0, 2.0]), r, hib) == pytest.approx(1.0)
    assert A.hypervolume_contribution(front, np.array([3.0, 3.0]), r, hib) == pytest.approx(0.0)
    # ε: (3.5, 3.5) is dominated with a margin of 0.5 in every metric by (3, 1)... max(3−3.5, 1−3.5)
    assert A.epsilon_indicator(np.array([3.5, 3.5]), front, hib) == pytest.approx(-0.5)
    assert A.epsilon_indicator(np.array([3.0, 1.0]), front, hib) == pytest.approx(0.0)
    # (2, 2) is beyond the front: the best front point needs +1 in one metric
    assert A.epsilon_indicator(np.array([2.0, 2.0]), front, hib) == pytest.approx(1.0)
    # a running trace over points in order: only the second point reaches ε ≤ 0
    trace = A.epsilon_trace(np.array([2.5, 2.5]), np.array([[1.0, 3.0], [2.0, 2.0]]), hib)
    np.testing.assert_allclose(trace, [0.5, -0.5])
    assert A.epsilon_indicator(np.array([1.0, 1.0]), np.empty((0, 2)), hib) == np.inf


def test_normalization_round_trip_and_reference():
    pts = np.array([[1.0, 0.9], [3.0, 0.5], [2.0, 0.7]])  # MAE ↓, accuracy ↑
    norm = A.Normalization.from_points(pts, [False, True])
    z = norm(pts)
    np.testing.assert_allclose(z, [[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    np.testing.assert_allclose(norm.to_metrics(z), pts)
    np.testing.assert_allclose(A.reference_point(norm, 0.1), [1.1, 1.1])


def test_summarize_seeds_t_interval():
    v = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [np.nan, 0.0]])
    s = A.summarize_seeds(v)
    assert s.n == 3
    np.testing.assert_allclose(s.mean, [2.0, 10.0])
    np.testing.assert_allclose(s.std, [1.0, 0.0])
    # t_{0.975, 2} = 4.302652729911275
    np.testing.assert_allclose(s.ci95, [4.302652729911275 / np.sqrt(3), 0.0])
    one = A.summarize_seeds(np.array([[1.0, 2.0]]))
    assert one.n == 1 and np.isnan(one.ci95).all()
