"""The simplex samplers: the u ↦ w mapping, every sampler's weights, grid exhaustiveness and the
adaptive sampler's gap search. No training: objectives are closed-form fronts."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState, create_trial
from scipy import stats

from paretokit import analysis
from paretokit.errors import ParetokitError
from paretokit.sampling import (
    SAMPLERS,
    AdaptiveSampler,
    lattice,
    lattice_order,
    lattice_resolution,
    lattice_size,
    make_sampler,
    params_to_weights,
    search_space,
    suggest_weights,
    trial_weights,
    weights_to_params,
)
from paretokit.sampling.adaptive import _outer_vertex

optuna.logging.set_verbosity(optuna.logging.ERROR)


def ball_front(w: list[float]) -> list[float]:
    """The linear-scalarization optimum of min w·f over the ball ‖f − 1‖ ≤ 1: f = 1 − w/‖w‖.
    Its front is the part of the unit sphere around (1, …, 1) in [0, 1]^K (convex), and the
    hypervolume it dominates with reference (1, …, 1) is the unit ball's volume / 2^K."""
    v = np.asarray(w, dtype=float)
    return list(1.0 - v / np.linalg.norm(v))


def ball_hv(k: int) -> float:
    return math.pi ** (k / 2) / math.gamma(k / 2 + 1) / 2**k


def run(name: str, k: int, trials: int, seed: int = 0, **kw: int) -> optuna.Study:
    study = optuna.create_study(
        directions=["minimize"] * k,
        sampler=make_sampler(name, seed, k, trials=trials, **kw),
    )
    study.optimize(lambda t: ball_front(suggest_weights(t, k)), n_trials=trials)
    return study


def weights_of(study: optuna.Study, k: int) -> np.ndarray:
    return np.array([trial_weights(t, k) for t in study.trials])


def hv_fraction(study: optuna.Study, k: int) -> float:
    values = np.array([t.values for t in study.trials])
    return analysis.hypervolume(values, np.ones(k), [False] * k) / ball_hv(k)


# --- the mapping -------------------------------------------------------------------------------


def test_mapping_round_trip_is_exact() -> None:
    rng = np.random.default_rng(0)
    for k in (2, 3, 5, 10):
        for w in [*rng.dirichlet(np.ones(k), size=50), *np.eye(k), np.full(k, 1 / k)]:
            params = weights_to_params(w)
            assert list(params) == [f"u{i}" for i in range(k)]
            assert all(0.0 <= u < 1.0 for u in params.values())
            back = params_to_weights(list(params.values()))
            np.testing.assert_allclose(back, w, rtol=0, atol=4e-16)
        for v in np.eye(k):  # vertices come back exactly
            assert params_to_weights(list(weights_to_params(v).values())) == list(v)


def test_mapping_is_the_exponential_normalization() -> None:
    u = [0.1, 0.5, 0.9]
    e = [-math.log(1 - x) for x in u]
    np.testing.assert_allclose(params_to_weights(u), np.array(e) / sum(e), rtol=1e-15)
    assert params_to_weights([0.0, 0.0, 0.0]) == [1 / 3] * 3
    assert all(math.isfinite(x) for x in params_to_weights([1.0, 0.0]))
    trial = optuna.trial.FixedTrial({"u0": 0.1, "u1": 0.5, "u2": 0.9})
    assert suggest_weights(trial, 3) == params_to_weights(u)


def test_weights_to_params_scales_and_rejects() -> None:
    assert weights_to_params([2.0, 2.0]) == weights_to_params([0.5, 0.5])
    for bad in ([-0.1, 1.1], [0.0, 0.0], [math.nan, 1.0]):
        with pytest.raises(ParetokitError):
            weights_to_params(bad)


def test_unknown_sampler_lists_the_known_ones() -> None:
    with pytest.raises(ParetokitError, match="known: dirichlet, grid, qmc, tpe, nsga2, adaptive"):
        make_sampler("sobol", 0, 3)
    assert type(make_sampler("random", 0, 3)) is type(make_sampler("dirichlet", 0, 3))


# --- every sampler -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_gives_simplex_weights_deterministically(name: str) -> None:
    k = 3
    first = weights_of(run(name, k, 14, seed=3), k)
    assert first.shape == (14, k)
    assert np.all(first >= 0)
    np.testing.assert_allclose(first.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(first, weights_of(run(name, k, 14, seed=3), k))
    if name not in ("grid", "adaptive"):  # those two do not draw at random here
        assert not np.array_equal(first, weights_of(run(name, k, 14, seed=4), k))


def test_dirichlet_is_uniform_on_the_simplex() -> None:
    """Each marginal of Dirichlet(1, …, 1) on K weights is Beta(1, K − 1)."""
    k = 4
    study = optuna.create_study(sampler=make_sampler("dirichlet", 7, k))
    draws = []
    for _ in range(1500):
        trial = study.ask()
        draws.append(suggest_weights(trial, k))
        study.tell(trial, 0.0)
    w = np.array(draws)
    for j in range(k):
        assert stats.kstest(w[:, j], stats.beta(1, k - 1).cdf).pvalue > 0.01
    assert stats.kstest(w[:, 0], stats.beta(2, 2).cdf).pvalue < 1e-6  # the test can fail


def test_qmc_and_dirichlet_depend_on_the_trial_number_only() -> None:
    """Two workers of one study with the same seed draw different weights per trial; any int
    is a seed."""
    for name in ("qmc", "dirichlet", "adaptive"):
        study = optuna.create_study(sampler=make_sampler(name, -5, 3))
        a, b = study.ask(), study.ask()
        assert suggest_weights(a, 3) != suggest_weights(b, 3)


# --- grid --------------------------------------------------------------------------------------


def test_lattice_counts_and_order() -> None:
    for k, n in ((2, 5), (3, 4), (5, 3), (4, 1)):
        points = lattice(k, n)
        assert len(points) == lattice_size(k, n) == math.comb(n + k - 1, k - 1)
        assert np.all(points.sum(axis=1) == n) and np.all(points >= 0)
        assert len({tuple(p) for p in points}) == len(points)
        order = lattice_order(k, n)
        assert sorted(map(tuple, order)) == sorted(map(tuple, points))
        np.testing.assert_array_equal(order[:k], n * np.eye(k, dtype=int))
    # K = 2: after the vertices, farthest-point order is bisection
    assert [tuple(p) for p in lattice_order(2, 4)] == [(4, 0), (0, 4), (2, 2), (1, 3), (3, 1)]
    assert lattice_resolution(3, 10) == 3 and lattice_size(3, 3) == 10
    assert lattice_resolution(3, 11) == 4


def test_grid_trains_every_point_once() -> None:
    k, n = 3, 4
    study = run("grid", k, lattice_size(k, n), grid_resolution=n)
    got = np.rint(weights_of(study, k) * n).astype(int)
    np.testing.assert_array_equal(got, lattice_order(k, n))
    with pytest.raises(ParetokitError, match="grid is exhausted: all 15 points"):
        study.optimize(lambda t: ball_front(suggest_weights(t, k)), n_trials=1)
    assert study.trials[-1].state == TrialState.FAIL


def test_grid_with_several_asks_before_tells() -> None:
    """Trials asked together — some choosing their weights before earlier ones do, some
    enqueued — still take distinct lattice points; trial j takes the j-th point."""
    k, n = 3, 3
    study = optuna.create_study(
        directions=["minimize"] * k, sampler=make_sampler("grid", 0, k, grid_resolution=n)
    )
    asked = [study.ask() for _ in range(6)]
    chosen = {t.number: suggest_weights(t, k) for t in reversed(asked[2:])}
    chosen |= {t.number: suggest_weights(t, k) for t in asked[:2]}
    for t in asked:
        study.tell(t, ball_front(chosen[t.number]))
    study.enqueue_trial(weights_to_params(lattice_order(k, n)[7] / n))  # a retry, say
    study.optimize(lambda t: ball_front(suggest_weights(t, k)), n_trials=lattice_size(k, n) - 6)
    got = [tuple(np.rint(w * n).astype(int)) for w in weights_of(study, k)]
    assert len(got) == len(set(got)) == lattice_size(k, n)
    assert got[:6] == [tuple(p) for p in lattice_order(k, n)[:6]]


def test_grid_resolution_from_the_budget_and_its_errors() -> None:
    assert make_sampler("grid", 0, 3, trials=11).resolution == 4
    assert make_sampler("grid", 0, 3, grid_resolution=2).size == 6
    with pytest.raises(ParetokitError, match="only 6 points, fewer than the 7 trials"):
        make_sampler("grid", 0, 3, grid_resolution=2, trials=7)
    with pytest.raises(ParetokitError, match="grid resolution or a trial budget"):
        make_sampler("grid", 0, 3)


# --- adaptive ----------------------------------------------------------------------------------


def hand_made_study() -> optuna.Study:
    """The start done: a = (0, 1) from w = (1, 0), c = (1, 0) from w = (0, 1), b = (0.2, 0.35)
    from the centre, and two dominated points from the vertex–centre midpoints. Gaps: c–b
    (rectangle 0.8 × 0.35) and b–a (rectangle 0.2 × 0.65)."""
    study = optuna.create_study(directions=["minimize"] * 2, sampler=AdaptiveSampler(2, seed=0))
    start = [([1, 0], [0, 1]), ([0, 1], [1, 0]), ([0.5, 0.5], [0.2, 0.35])]
    start += [([0.75, 0.25], [1, 1]), ([0.25, 0.75], [1, 1])]
    for w, f in start:
        study.add_trial(
            create_trial(params=weights_to_params(w), distributions=search_space(2), values=f)
        )
    return study


def test_adaptive_proposes_the_normal_of_the_largest_gap() -> None:
    study = hand_made_study()
    first = study.ask()
    # c–b: λ·(0.2, 0.35) = λ·(1, 0) ⇒ λ ∝ (0.35, 0.8)
    np.testing.assert_allclose(suggest_weights(first, 2), [0.35 / 1.15, 0.8 / 1.15], atol=1e-12)
    # that trial is running: the next ask takes the other gap, b–a: λ ∝ (0.65, 0.2)
    second = study.ask()
    np.testing.assert_allclose(suggest_weights(second, 2), [0.65 / 0.85, 0.2 / 0.85], atol=1e-12)


def test_adaptive_asks_together_take_different_gaps() -> None:
    study = hand_made_study()
    first, second = study.ask(), study.ask()
    w2 = suggest_weights(second, 2)  # chooses before the earlier trial has
    w1 = suggest_weights(first, 2)
    np.testing.assert_allclose(w1, [0.35 / 1.15, 0.8 / 1.15], atol=1e-12)
    np.testing.assert_allclose(w2, [0.65 / 0.85, 0.2 / 0.85], atol=1e-12)


def test_adaptive_gap_sizes_and_maximization() -> None:
    sampler = AdaptiveSampler(2)
    w = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    y = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.35]])
    gaps = list(sampler.gaps(w, y))
    # sandwich bound: c–b meet at y* = (0.55, 0) (y₂ ≥ 0 and y₁ + y₂ ≥ 0.55), the rectangle
    # between y* and b, c is 0.45 × 0.35; b–a meet at (0, 0.55): 0.2 × 0.45
    assert [g.volume for g in gaps] == pytest.approx([0.45 * 0.35, 0.2 * 0.45])
    assert {g.trials for g in gaps} == {(1, 2), (2, 0)}
    # the same front as maximized objectives gives the same proposal through the study
    study = optuna.create_study(directions=["maximize"] * 2, sampler=AdaptiveSampler(2))
    for t in hand_made_study().trials:
        study.add_trial(
            create_trial(params=t.params, distributions=t.distributions, values=-np.array(t.values))
        )
    np.testing.assert_allclose(suggest_weights(study.ask(), 2), gaps[0].weights, atol=1e-12)


@pytest.mark.parametrize("k, trials, target", [(2, 12, 0.94), (3, 30, 0.77)])
def test_adaptive_in_optimize_beats_uniform(k: int, trials: int, target: float) -> None:
    study = run("adaptive", k, trials)
    w = weights_of(study, k)
    centre = np.full(k, 1 / k)
    design = [centre, *(np.eye(k) + centre) / 2, *np.eye(k)]  # centre, axial blends, vertices
    np.testing.assert_allclose(w[: 2 * k + 1], design, atol=1e-12)
    adaptive = hv_fraction(study, k)
    uniform = [hv_fraction(run("dirichlet", k, trials, seed=s), k) for s in range(3)]
    assert adaptive >= target
    assert adaptive > max(uniform)


def test_outer_vertex_bounds_every_weight_inside_the_cell() -> None:
    """With exact scalarization optima p_i = f(w_i) (the ball front), the cell's outer vertex
    y* bounds the optimum of any weight w = Σ α_i w_i inside the cell: w·f(w) ≥ w·y*, since
    w_i·f(w) ≥ w_i·p_i for every i. Equality holds at the cell's own weights."""
    rng = np.random.default_rng(1)
    for k in (2, 3, 5):
        cells = rng.dirichlet(np.ones(k), size=(20, k))  # (C, K weights, K)
        values = np.array([[ball_front(list(w)) for w in cell] for cell in cells])
        vertex = _outer_vertex(cells, values)
        for cell, y in zip(cells, vertex):
            for alpha in [*np.eye(k), *rng.dirichlet(np.ones(k), size=20)]:
                w = alpha @ cell
                assert w @ ball_front(list(w)) >= w @ y - 1e-9


def test_adaptive_closes_a_gap_once_its_tie_normal_lands_on_the_front() -> None:
    """Two optima of the flat front y₁ + y₂ = 1 (w = (0.6, 0.4) gives (0, 1), w = (0.4, 0.6)
    gives (1, 0)): their supporting lines meet at y* = (0.4, 0.4), a gap of 0.6 × 0.6, and the
    tie normal is (0.5, 0.5). Once that weight's optimum lands on the segment, every supporting
    line passes through a front point and no gap is left (the NISE stopping rule)."""
    sampler = AdaptiveSampler(2)
    w = np.array([[0.6, 0.4], [0.4, 0.6]])
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    (gap,) = sampler.gaps(w, y)
    assert gap.volume == pytest.approx(0.36, abs=1e-12)
    np.testing.assert_allclose(gap.weights, [0.5, 0.5], atol=1e-12)
    w = np.vstack([w, [0.5, 0.5]])
    y = np.vstack([y, [0.3, 0.7]])
    assert list(sampler.gaps(w, y)) == []


def test_adaptive_ignores_the_hyperplane_of_a_trial_beaten_on_its_own_weights() -> None:
    """a = (0, 1) from w = (0.6, 0.4), b = (0.4, 0.45) from (0.5, 0.5), c = (1, 0) from
    (0.4, 0.6), each the best of the three on its own weights: the gap a–b has the sandwich
    bound y* = (0.3, 0.55) (0.6 y₁ + 0.4 y₂ ≥ 0.4, y₁ + y₂ ≥ 0.85), a rectangle 0.1 × 0.45.
    A fourth trial's point (0.5, 0.2) beats a on a's own weights (0.38 < 0.4) and b on b's:
    their hyperplanes bound nothing, and the gap falls back to its corner (0, 0.45): 0.4 × 0.55.
    """
    sampler = AdaptiveSampler(2)
    w = np.array([[0.6, 0.4], [0.5, 0.5], [0.4, 0.6]])
    y = np.array([[0.0, 1.0], [0.4, 0.45], [1.0, 0.0]])
    gaps = {g.trials: g.volume for g in sampler.gaps(w, y)}
    assert gaps[(1, 0)] == pytest.approx(0.1 * 0.45, abs=1e-12)
    beaten = np.vstack([w, [0.05, 0.95]]), np.vstack([y, [0.5, 0.2]])
    gaps = {g.trials: g.volume for g in sampler.gaps(*beaten)}
    assert gaps[(1, 0)] == pytest.approx(0.4 * 0.55, abs=1e-12)
