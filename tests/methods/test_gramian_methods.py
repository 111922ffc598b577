"""Solver-based aggregations (Nash-MTL, MGDA, CAGrad, IMTL-G, Aligned-MTL, UPGrad, FairGrad)
checked against their mathematical definitions and, for the optimization problems, cvxpy."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
import torch

from paretokit.errors import MethodError
from paretokit.methods import get_method
from tests.methods._asserts import (
    assert_non_conflicting,
    assert_permutation_invariant,
    assert_shape_and_finite,
    assert_weights_give_direction,
)
from tests.methods._matrices import FAMILIES, KS

GRAMIAN_METHODS = ["nashmtl", "mgda", "cagrad", "imtl", "alignedmtl", "upgrad", "fairgrad"]
CASES = [(fam, k) for fam in FAMILIES for k in KS]


def method(name: str, k: int, **opts):
    if name == "nashmtl":
        opts.setdefault("max_norm", 0.0)
    return get_method(name, k, **opts)


@pytest.mark.parametrize("name", GRAMIAN_METHODS)
@pytest.mark.parametrize("fam, k", CASES)
def test_shape_weights_and_permutation(name, fam, k):
    G = FAMILIES[fam](k)
    d, w = method(name, k).combine(G)
    assert_shape_and_finite(d, G)
    assert w.shape == (k,) and torch.isfinite(w).all()
    assert_weights_give_direction(w, d, G)
    singular = fam in ("rank_deficient", "near_duplicate")
    if not (name in ("imtl", "alignedmtl") and singular) and not (
        name == "alignedmtl" and fam == "badly_scaled"
    ):
        # least-squares / pseudo-inverse choices on singular Gramians are not permutation-exact;
        # Aligned-MTL's λ_min at condition number 1e12 is known only to ~eps·λ_max in float64
        assert_permutation_invariant(lambda X: method(name, k).aggregate(X), G, rtol=1e-6)


# --- Nash-MTL -------------------------------------------------------------------------------
@pytest.mark.parametrize("fam, k", CASES)
def test_nashmtl_bargaining_fixed_point(fam, k):
    G = FAMILIES[fam](k)
    alpha = method("nashmtl", k).weights(G)
    residual = (alpha * ((G @ G.T) @ alpha) - 1).abs().max().item()
    assert (alpha > 0).all() and residual <= 1e-8


@pytest.mark.parametrize("k", [2, 3, 10])
def test_nashmtl_direction_invariant_to_rescaling_one_task(k):
    """Axiom 2.4 (scale invariance): g_i → c g_i leaves the direction unchanged."""
    G = FAMILIES["badly_scaled"](k)
    d = method("nashmtl", k).aggregate(G)
    for i, c in [(0, 1e3), (k - 1, 1e-4)]:
        G2 = G.clone()
        G2[i] *= c
        torch.testing.assert_close(method("nashmtl", k).aggregate(G2), d, rtol=1e-8, atol=0)


def test_nashmtl_update_every_reuses_weights_and_reset_clears():
    m = get_method("nashmtl", 3, update_every=3)
    G1, G2 = FAMILIES["typical"](3, seed=1), FAMILIES["typical"](3, seed=2)
    assert m.reuse_weights() is None  # nothing computed yet
    _, w1 = m.combine(G1)
    assert torch.equal(m.reuse_weights(), w1) and torch.equal(m.reuse_weights(), w1)
    assert m.reuse_weights() is None  # third step after the update: recompute
    _, w2 = m.combine(G2)
    assert not torch.allclose(w1, w2)
    m.reset()
    assert m.reuse_weights() is None


def test_nashmtl_max_norm_is_left_to_the_engine():
    """The method returns αᵀG unclipped whatever max_norm is (the engine clips the shared
    gradient, as the official code does): aggregate(G) == weights(G) @ G."""
    G = 100 * FAMILIES["typical"](3)
    d, w = get_method("nashmtl", 3, max_norm=1.0).combine(G)
    torch.testing.assert_close(w * (G @ G.T @ w), torch.ones(3, dtype=G.dtype), rtol=1e-8, atol=0)
    assert_weights_give_direction(w, d, G)
    # ‖αᵀG‖² = αᵀAα = Σ α_i(Aα)_i = K at the fixed point, whatever the scale of G
    assert d.norm().item() == pytest.approx(3**0.5, rel=1e-9)
    assert get_method("nashmtl", 3, max_norm=0.5).max_shared_grad_norm == 0.5


def test_nashmtl_degenerate_inputs():
    stationary = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    d, w = get_method("nashmtl", 3).combine(stationary)
    assert torch.equal(d, torch.zeros(2, dtype=torch.float64)) and torch.equal(
        w, torch.zeros(3, dtype=torch.float64)
    )
    zero_row = FAMILIES["typical"](3)
    zero_row[1] = 0
    alpha = get_method("nashmtl", 3, max_norm=0.0).weights(zero_row)
    assert alpha[1] == 0 and (alpha[[0, 2]] > 0).all()
    live = zero_row[[0, 2]]
    a = alpha[[0, 2]]
    assert (a * ((live @ live.T) @ a) - 1).abs().max() <= 1e-8
    assert torch.equal(get_method("nashmtl", 2).aggregate(torch.zeros(2, 5)), torch.zeros(5))
    with pytest.raises(MethodError, match="NaN"):
        get_method("nashmtl", 2).aggregate(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]))


def test_nashmtl_ccp_procedure_approaches_the_fixed_point():
    G = FAMILIES["typical"](3)
    newton = get_method("nashmtl", 3, max_norm=0.0).weights(G)
    ccp = get_method("nashmtl", 3, max_norm=0.0, solver="ccp").weights(G)
    A = G @ G.T
    residual = (ccp * (A @ ccp) - 1).abs().max().item()
    assert residual < 0.05  # the paper's procedure is approximate (stops at ‖·‖ < 1e-3)
    torch.testing.assert_close(ccp, newton, rtol=0.05, atol=0)


# --- MGDA -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fam, k", CASES)
def test_mgda_is_the_min_norm_point_and_conflict_free(fam, k):
    G = FAMILIES[fam](k)
    d, w = method("mgda", k).combine(G)
    A = (G @ G.T).numpy()
    x = cp.Variable(k)
    ref = cp.Problem(cp.Minimize(cp.quad_form(x, cp.psd_wrap(A))), [x >= 0, cp.sum(x) == 1])
    ref.solve(solver=cp.CLARABEL)
    ours = float(w.numpy() @ A @ w.numpy())
    assert (w >= 0).all() and float(w.sum()) == pytest.approx(1.0, abs=1e-12)
    assert ours <= ref.value * (1 + 1e-7) + 1e-15
    assert_non_conflicting(d, G, cos_tol=1e-6)


def test_mgda_normalizations_and_feature_level():
    G = FAMILIES["badly_scaled"](3)
    losses = torch.tensor([0.5, 2.0, 4.0], dtype=torch.float64)
    m = get_method("mgda", 3, normalization="loss")
    with pytest.raises(MethodError, match="losses"):
        m.combine(G)
    d, w = m.combine(G, losses)
    w_hat = w * losses  # weights on the normalized gradients lie on the simplex
    assert float(w_hat.sum()) == pytest.approx(1.0, abs=1e-10) and (w_hat >= 0).all()
    assert get_method("mgda", 3, feature_level=True).gradient_target == "representation"
    with pytest.raises(MethodError, match="normalization"):
        get_method("mgda", 3, normalization="max")


# --- CAGrad ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fam, k", [(f, k) for f in FAMILIES for k in (2, 3, 5, 10)])
def test_cagrad_solves_its_dual_and_primal(fam, k):
    G = FAMILIES[fam](k)
    c = 0.4
    m = get_method("cagrad", k, c=c, rescale=0)
    d = m.aggregate(G).numpy()
    Gn, A = G.numpy(), (G @ G.T).numpy()
    g0 = Gn.mean(axis=0)
    # dual: min_{w∈Δ} wᵀ(G g0) + c‖g0‖ ‖Gᵀw‖ (cvxpy, on G itself)
    x = cp.Variable(k)
    dual = cp.Problem(
        cp.Minimize(x @ (Gn @ g0) + c * np.linalg.norm(g0) * cp.norm(Gn.T @ x)),
        [x >= 0, cp.sum(x) == 1],
    )
    dual.solve(solver=cp.CLARABEL)
    from paretokit.methods._cagrad import cagrad_dual

    w = cagrad_dual(A, c)
    ours = w @ (Gn @ g0) + c * np.linalg.norm(g0) * np.linalg.norm(Gn.T @ w)
    assert ours <= dual.value + 1e-7 * max(1.0, abs(dual.value))
    # primal: d maximizes min_i g_iᵀd over the ball ‖d − g0‖ ≤ c‖g0‖ (strong duality)
    y = cp.Variable(Gn.shape[1])
    primal = cp.Problem(cp.Maximize(cp.min(Gn @ y)), [cp.norm(y - g0) <= c * np.linalg.norm(g0)])
    primal.solve(solver=cp.CLARABEL)
    assert np.linalg.norm(d - g0) <= c * np.linalg.norm(g0) * (1 + 1e-9)
    assert (Gn @ d).min() >= primal.value - 1e-6 * max(1.0, abs(primal.value))


def test_cagrad_on_a_float32_gramian_with_a_rounding_negative_eigenvalue():
    """The toy of Nash-MTL Fig. 1 from start (9, −1): near the front the two gradients are
    nearly opposite, and their float32 Gramian has an eigenvalue of −5.5e-8 from rounding. The
    inner min-norm QP then failed its KKT check ("KKT conditions not met (max violation
    0.00034)") and the run died; now the Gramian is taken as its PSD part first."""
    from paretokit.methods._cagrad import cagrad_dual

    A = np.array(
        [[0.9252086877822876, -1.6648532152175903], [-1.6648532152175903, 2.995795488357544]]
    )
    assert np.linalg.eigvalsh(A).min() < 0
    c = 0.4
    w = cagrad_dual(A, c)
    b, s = A.mean(axis=1), c * np.sqrt(A.mean())
    e, V = np.linalg.eigh(A)
    L = V * np.sqrt(np.maximum(e, 0.0))
    x = cp.Variable(2)
    best = cp.Problem(cp.Minimize(b @ x + s * cp.norm(L.T @ x)), [x >= 0, cp.sum(x) == 1])
    best.solve(solver=cp.CLARABEL)
    ours = b @ w + s * np.sqrt(max(w @ A @ w, 0.0))
    assert ours <= best.value + 1e-8
    d = get_method("cagrad", 2).aggregate(torch.tensor([[0.3, 0.9], [-0.55, -1.6]]))
    assert torch.isfinite(d).all()


def test_cagrad_rescale_and_degenerate():
    G = FAMILIES["typical"](3)
    d0 = get_method("cagrad", 3, rescale=0).aggregate(G)
    torch.testing.assert_close(get_method("cagrad", 3, rescale=1).aggregate(G), d0 / 1.16)
    torch.testing.assert_close(get_method("cagrad", 3, rescale=2).aggregate(G), d0 / 1.4)
    torch.testing.assert_close(get_method("cagrad", 3, c=0.0, rescale=0).aggregate(G), G.mean(0))
    opposite = torch.tensor([[1.0, 2.0], [-1.0, -2.0]], dtype=torch.float64)  # g0 = 0
    assert torch.equal(
        get_method("cagrad", 2).aggregate(opposite), torch.zeros(2, dtype=torch.float64)
    )


# --- IMTL-G, Aligned-MTL, UPGrad, FairGrad ---------------------------------------------------
@pytest.mark.parametrize(
    "fam, k", [(f, k) for f in ("typical", "badly_scaled", "conflicting") for k in KS]
)
def test_imtl_equal_projections(fam, k):
    G = FAMILIES[fam](k)
    d, w = method("imtl", k, feature_level=False).combine(G)
    proj = (G @ d) / G.norm(dim=1)
    torch.testing.assert_close(proj, proj.mean().expand(k), rtol=1e-7, atol=1e-12)
    assert float(w.sum()) == pytest.approx(1.0, abs=1e-10)


# badly_scaled is left out: with condition number 1e12, λ_min is determined only to
# ~eps·λ_max in float64, so orthogonality cannot be checked at a meaningful tolerance.
@pytest.mark.parametrize("fam, k", [(f, k) for f in ("typical", "conflicting") for k in KS])
def test_alignedmtl_aligns_to_orthogonal_equal_norms(fam, k):
    G = FAMILIES[fam](k)
    A = (G @ G.T).numpy()
    lam, V = np.linalg.eigh(A)
    B = np.sqrt(lam.min()) * (V / np.sqrt(lam)) @ V.T
    aligned = B @ G.numpy()
    np.testing.assert_allclose(
        aligned @ aligned.T, lam.min() * np.eye(k), rtol=1e-6, atol=1e-8 * lam.min()
    )
    w = method("alignedmtl", k).weights(G).numpy()
    np.testing.assert_allclose(w, B.sum(axis=1), rtol=1e-8)


@pytest.mark.parametrize("fam, k", [(f, k) for f in FAMILIES for k in (2, 3, 5, 10)])
def test_upgrad_projections_match_cvxpy_and_do_not_conflict(fam, k):
    G = FAMILIES[fam](k)
    d, w = method("upgrad", k).combine(G)
    A = (G @ G.T).numpy()
    total = np.zeros(k)
    for i in range(k):
        v = cp.Variable(k)
        e = np.eye(k)[i]
        cp.Problem(cp.Minimize(cp.quad_form(v, cp.psd_wrap(A))), [v >= e]).solve(solver=cp.CLARABEL)
        total += v.value
    ref = total / k
    # compare objective-relevant quantity: the directions (weights may differ on null(A))
    np.testing.assert_allclose(
        d.numpy(), ref @ G.numpy(), rtol=1e-5, atol=1e-6 * np.abs(ref @ G.numpy()).max()
    )
    assert_non_conflicting(d, G, cos_tol=1e-6)


def test_fairgrad_alpha_one_is_nash_mtl():
    G = FAMILIES["conflicting"](5)
    torch.testing.assert_close(
        get_method("fairgrad", 5, alpha=1.0).weights(G),
        get_method("nashmtl", 5, max_norm=0.0).weights(G),
        rtol=1e-9,
        atol=0,
    )


@pytest.mark.parametrize("name", GRAMIAN_METHODS)
def test_float32_rounding_asymmetry_of_the_gramian_is_harmless(name):
    """``G @ G.T`` in float32 is symmetric only to ~1e-7: the solvers must not read that as
    a KKT violation (this once failed MGDA on QM9 with K = 10)."""
    G = FAMILIES["typical"](10) + 2.0  # positively correlated rows, as on QM9's energies
    A = G @ G.T
    skew = torch.randn(10, 10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    A_rounded = A + 1e-7 * A.abs().max() * (skew - skew.T)
    w_exact = method(name, 10).gramian_weights(A)
    w_rounded = method(name, 10).gramian_weights(A_rounded)
    torch.testing.assert_close(w_rounded, w_exact, rtol=1e-4, atol=1e-6 * w_exact.abs().max())


@pytest.mark.parametrize("e", [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8])
def test_nashmtl_near_pareto_stationary_inputs(e):
    """Approaching stationarity β grows like 1/√m: the fixed point is met to 1e-8 while float64
    can resolve it, and beyond that the answer is the stationary one (0), never an error."""
    G = torch.tensor([[1.0, 0.0], [-1.0, e]], dtype=torch.float64)
    rng = np.random.default_rng(0)
    G3 = torch.as_tensor(np.vstack([rng.standard_normal((2, 5)), np.zeros((1, 5))]))
    G3[2] = -(G3[0] + G3[1]) + e * torch.as_tensor(rng.standard_normal(5))
    for X in (G, G3):
        w = method("nashmtl", X.shape[0]).weights(X)
        if w.abs().max() > 0:
            residual = (w * (X @ X.T @ w) - 1).abs().max().item()
            assert residual <= 1e-8
        else:
            # only when the normalized hull is within 1e-3 of the origin
            U = X / X.norm(dim=1, keepdim=True)
            v = cp.Variable(X.shape[0], nonneg=True)
            cp.Problem(cp.Minimize(cp.sum_squares(U.numpy().T @ v)), [cp.sum(v) == 1]).solve(
                solver=cp.CLARABEL
            )
            assert np.linalg.norm(U.numpy().T @ v.value) <= 1.01e-3


@pytest.mark.parametrize("c", [0.4, 2.0, 10.0])
@pytest.mark.parametrize("shape", [(10, 3), (3, 50)])  # (10, 3): 0 in the hull, stationary
def test_cagrad_primal_matches_cvxpy_also_at_pareto_stationary_points(c, shape):
    """max_d min_i g_iᵀd s.t. ‖d − g0‖ ≤ c‖g0‖, solved by cvxpy, against our direction."""
    for seed in range(5):
        G = np.random.default_rng(seed).standard_normal(shape)
        g0 = G.mean(axis=0)
        d = method("cagrad", shape[0], c=c, rescale=0).aggregate(torch.as_tensor(G)).numpy()
        x, t = cp.Variable(shape[1]), cp.Variable()
        cons = [G @ x >= t, cp.norm(x - g0) <= c * np.linalg.norm(g0)]
        cp.Problem(cp.Maximize(t), cons).solve(solver=cp.CLARABEL)
        scale = np.linalg.norm(G, axis=1).max() * np.linalg.norm(g0)
        assert (G @ d).min() >= t.value - 1e-6 * scale
        assert np.linalg.norm(d - g0) <= c * np.linalg.norm(g0) * (1 + 1e-6)


@pytest.mark.parametrize("name", GRAMIAN_METHODS)
def test_overflowing_or_nan_gramian_is_a_clear_error(name):
    G = FAMILIES["typical"](3).float() * 1e20  # finite G, GGᵀ overflows float32
    with pytest.raises(MethodError, match="NaN or inf"):
        method(name, 3).combine(G)
    A = torch.full((3, 3), float("nan"), dtype=torch.float64)
    with pytest.raises(MethodError, match="NaN or inf"):
        method(name, 3).gramian_weights(A)
