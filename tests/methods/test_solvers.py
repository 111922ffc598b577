"""The shared K×K solvers against cvxpy and their optimality conditions."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from paretokit.errors import MethodError
from paretokit.methods._solvers import min_norm_weights, nnqp, nnqp_many
from tests.methods._matrices import FAMILIES, KS

CASES = [(fam, k) for fam in FAMILIES for k in KS]


def gramian(fam: str, k: int, seed: int = 0) -> np.ndarray:
    G = FAMILIES[fam](k, seed=seed).numpy()
    return G @ G.T


def nnqp_reference(Q: np.ndarray, q: np.ndarray) -> float:
    """Optimal value of min ½xᵀQx + qᵀx, x ≥ 0 (cvxpy on a factor of Q, so PSD is exact)."""
    w, V = np.linalg.eigh(Q)
    F = (V * np.sqrt(np.clip(w, 0, None))).T  # FᵀF = Q
    x = cp.Variable(Q.shape[0], nonneg=True)
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(F @ x) + q @ x))
    prob.solve(solver=cp.CLARABEL)
    return float(prob.value)


@pytest.mark.parametrize("fam, k", CASES)
def test_nnqp_meets_kkt_and_matches_cvxpy(fam, k):
    A = gramian(fam, k)
    scale = np.sqrt(np.diag(A))
    C = A / np.outer(scale, scale)
    rng = np.random.default_rng(k)
    for j in range(min(k, 3)):
        q = C[:, j] if j % 2 == 0 else rng.standard_normal(k)
        x = nnqp(C, q)
        grad = C @ x + q
        assert (x >= 0).all()
        assert np.abs(grad[x > 0]).max(initial=0) <= 1e-8
        assert grad[x == 0].min(initial=0) >= -1e-8
        ours = 0.5 * x @ C @ x + q @ x
        assert ours <= nnqp_reference(C, q) + 1e-6 * max(1.0, abs(ours))


def test_nnqp_zero_curvature_rows():
    Q = np.diag([1.0, 0.0])
    assert np.allclose(nnqp(Q, np.array([-1.0, 2.0])), [1.0, 0.0])
    with pytest.raises(MethodError, match="unbounded"):
        nnqp(Q, np.array([-1.0, -2.0]))


@pytest.mark.parametrize("fam, k", CASES)
def test_min_norm_weights_is_the_hull_min_norm_point(fam, k):
    G = FAMILIES[fam](k).numpy()
    A = G @ G.T
    w, m = min_norm_weights(A)
    assert w.min() >= 0 and abs(w.sum() - 1) <= 1e-12
    assert np.isclose(m, w @ A @ w)
    v = cp.Variable(k, nonneg=True)
    prob = cp.Problem(cp.Minimize(cp.sum_squares(G.T @ v)), [cp.sum(v) == 1])
    prob.solve(solver=cp.CLARABEL)
    assert m <= prob.value + 1e-7 * max(A.diagonal().min(), 1e-300)
    # optimality: every row has g_iᵀp ≥ ‖p‖² (no row is better than the hull's nearest point)
    p = G.T @ w
    assert (G @ p).min() >= m - 1e-8 * np.sqrt(A.diagonal().max() * m) - 1e-12


def test_min_norm_weights_zero_row_and_origin_in_hull():
    A = np.diag([1.0, 0.0, 4.0])
    w, m = min_norm_weights(A)
    assert np.allclose(w, [0, 1, 0]) and m == 0.0
    G = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    w, m = min_norm_weights(G @ G.T)
    assert np.allclose(w, [0.5, 0.5, 0]) and m <= 1e-15


@pytest.mark.parametrize("fam, k", CASES)
def test_nnqp_many_matches_nnqp_cold_and_warm(fam, k):
    A = gramian(fam, k)
    scale = np.sqrt(np.diag(A))
    C = A / np.outer(scale, scale)
    cold = nnqp_many(C, C)
    expected = np.stack([nnqp(C, C[j]) for j in range(k)])
    assert np.allclose(cold, expected, atol=1e-9)
    # warm: the right supports (fast path), wrong supports (fallback), a perturbed problem
    for supports in (expected > 0, ~(expected > 0), np.ones((k, k), bool)):
        assert np.allclose(nnqp_many(C, C, supports), expected, atol=1e-9)
    B = gramian(fam, k, seed=1)
    assert np.allclose(
        nnqp_many(B, B, expected > 0), np.stack([nnqp(B, B[j]) for j in range(k)]), atol=1e-9
    )


@pytest.mark.parametrize("gap", [1e-10, 1e-9, 1e-8, 1e-7, 3e-7, 1e-6, 1e-5])
def test_near_dependent_columns_solve_to_their_accuracy(gap):
    """Two gradients equal up to a relative gap (the band where a Cholesky pivot is lost in
    rounding): no solver error, and the min-norm value matches cvxpy's."""
    rng = np.random.default_rng(int(-np.log10(gap) * 10))
    for _ in range(30):
        k = int(rng.integers(3, 7))
        G = rng.standard_normal((k, 20))
        G[1] = G[0] * (1 + gap) + gap * rng.standard_normal(20)
        G[2] -= 0.5 * G[0]
        A = G @ G.T
        w, m = min_norm_weights(A)
        v = cp.Variable(k, nonneg=True)
        prob = cp.Problem(cp.Minimize(cp.sum_squares(G.T @ v)), [cp.sum(v) == 1])
        prob.solve(solver=cp.CLARABEL)
        assert m <= prob.value + 1e-7 * A.diagonal().max()
        C = A / np.sqrt(np.outer(A.diagonal(), A.diagonal()))
        X = nnqp_many(C, C)  # UPGrad's projections
        assert (X >= 0).all() and np.isfinite(X).all()


def count_one_row_solves(monkeypatch) -> list[int]:
    import paretokit.methods._solvers as solvers

    calls: list[int] = []
    real = solvers.nnqp
    monkeypatch.setattr(solvers, "nnqp", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    return calls


def test_nnqp_many_solves_definite_problems_in_lockstep(monkeypatch):
    A = gramian("typical", 10)
    C = A / np.sqrt(np.outer(A.diagonal(), A.diagonal()))
    expected = np.stack([nnqp(C, C[j]) for j in range(10)])
    calls = count_one_row_solves(monkeypatch)
    for supports in (None, expected > 0, ~(expected > 0)):
        assert np.allclose(nnqp_many(C, C, supports), expected, atol=1e-9)
    assert calls == []  # every row solved by the lockstep iteration, cold or warm


def test_nnqp_many_leaves_singular_problems_to_the_one_row_solver(monkeypatch):
    A = gramian("rank_deficient", 10)  # rank 6 of 10: no lockstep
    C = A / np.sqrt(np.outer(A.diagonal(), A.diagonal()))
    expected = np.stack([nnqp(C, C[j]) for j in range(10)])
    calls = count_one_row_solves(monkeypatch)
    assert np.allclose(nnqp_many(C, C), expected, atol=1e-9)
    assert len(calls) == 10


@pytest.mark.parametrize("m", [2, 3, 6, 10, 16, 30])
def test_lockstep_matches_the_one_row_solver_on_random_problems(m):
    """Random definite Q with unit diagonal and random linear terms (many supports, many
    exchanges): the block-pivoting answer is the one-row solver's optimum, meeting the KKT
    conditions."""
    from paretokit.methods._nnqp_batched import kkt_holds, nnqp_lockstep

    rng = np.random.default_rng(m)
    for trial in range(20):
        F = rng.standard_normal((m + int(rng.integers(0, 5)), m))
        Q = F.T @ F
        Q /= np.sqrt(np.outer(Q.diagonal(), Q.diagonal()))
        q = rng.standard_normal((7, m)) * 10.0 ** rng.uniform(-3, 3, size=(7, 1))
        expected = np.stack([nnqp(Q, r) for r in q])
        X, solved = nnqp_lockstep(Q, q)
        assert solved.all(), trial
        assert np.allclose(X, expected, atol=1e-8 * np.abs(expected).max(initial=1.0))
        assert kkt_holds(Q, q, X, X @ Q + q).all()
