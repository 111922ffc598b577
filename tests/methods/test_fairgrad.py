"""FairGrad (Ban & Ji, ICML 2024) against its definition: the α-fair fixed point
(GGᵀw)_i = w_i^{−1/α}, the α-fair utility maximization solved by cvxpy, and a finite answer
on every input family (rank-deficient, near-duplicate, badly and overall scaled, stationary)."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
import torch

from paretokit.methods import FairGrad, get_method
from tests.methods._matrices import FAMILIES

ALPHAS = (0.1, 0.5, 1.0, 2.0, 5.0, 20.0)


def backward_error(G: torch.Tensor, w: torch.Tensor, alpha: float) -> float:
    """max_i |(Aw)_i − w_i^{−1/α}| / ((|A|w)_i + w_i^{−1/α}): the fixed point's residual
    relative to the size of its terms."""
    A = G @ G.T
    target = w ** (-1.0 / alpha)
    return float(((A @ w - target).abs() / (A.abs() @ w + target)).max())


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("fam", list(FAMILIES))
@pytest.mark.parametrize("k", [2, 3, 5, 10, 20])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_fixed_point_on_every_family_and_scale(alpha, fam, k, scale):
    G = scale * FAMILIES[fam](k)
    w = FairGrad(k, alpha=alpha).weights(G)
    assert torch.isfinite(w).all() and (w > 0).all()
    assert backward_error(G, w, alpha) <= 1e-8


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("fam", ["typical", "conflicting", "rank_deficient"])
def test_strict_fixed_point_on_well_scaled_input(alpha, fam):
    """Where no task's share is lost to rounding, (Aw)_i = w_i^{−1/α} to 1e-8 relative."""
    G = FAMILIES[fam](3)
    w = FairGrad(3, alpha=alpha).weights(G)
    torch.testing.assert_close((G @ G.T) @ w, w ** (-1.0 / alpha), rtol=1e-8, atol=0)


def _utility(x: cp.Expression, alpha: float) -> cp.Expression:
    if alpha == 1.0:
        return cp.sum(cp.log(x))
    if alpha < 1.0:
        return cp.sum(cp.power(x, 1.0 - alpha)) / (1.0 - alpha)
    return -cp.sum(cp.power(x, 1.0 - alpha)) / (alpha - 1.0)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("fam, k", [("typical", 3), ("conflicting", 3), ("rank_deficient", 5)])
def test_direction_maximizes_the_alpha_fair_utility(alpha, fam, k):
    """The paper's problem: max_d Σ_i u_α(g_iᵀd) s.t. ‖d‖ ≤ 1, u_α(x) = x^{1−α}/(1−α) (log for
    α = 1), is concave; its solution is parallel to FairGrad's d = wᵀG (KKT: d ∝ Σ u'(g_iᵀd) g_i
    and w_i = (g_iᵀd)^{−α})."""
    G = FAMILIES[fam](k)
    d = FairGrad(k, alpha=alpha).aggregate(G).numpy()
    x = cp.Variable(G.shape[1])
    problem = cp.Problem(cp.Maximize(_utility(G.numpy() @ x, alpha)), [cp.norm(x, 2) <= 1])
    problem.solve(solver=cp.CLARABEL)
    assert problem.status == "optimal"
    ours = d / np.linalg.norm(d)
    # ours is at least as good as the interior-point solver's answer (to its accuracy) ...
    mine = float(_utility(cp.Constant(G.numpy() @ ours), alpha).value)
    assert mine >= problem.value - 1e-7 * max(1.0, abs(problem.value))
    # ... and is the same direction, to the accuracy of the conic solver (power cones)
    np.testing.assert_allclose(ours, x.value / np.linalg.norm(x.value), atol=1e-4)


STATIONARY = {
    "opposite pair": [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]],
    "hull through 0": [[1.0, 0.0, 0.0], [-0.5, 0.8, 0.0], [-0.5, -0.8, 0.0]],
    "collinear, opposite": [[2.0, 1.0], [-4.0, -2.0]],
}


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("case", list(STATIONARY))
def test_pareto_stationary_input_gives_zero(alpha, case):
    G = torch.tensor(STATIONARY[case], dtype=torch.float64)
    d, w = FairGrad(G.shape[0], alpha=alpha).combine(G)
    assert torch.equal(w, torch.zeros_like(w)) and torch.equal(d, torch.zeros_like(d))


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_near_stationary_and_nearly_collinear_targets(alpha):
    """QM9's energy targets: two nearly collinear gradients plus others; finite, no error.
    Just inside the stationary tolerance the answer is 0; just outside it, a fixed point."""
    g = torch.Generator().manual_seed(0)
    base = torch.randn(4, 64, generator=g, dtype=torch.float64)
    G = torch.cat([base, base[:1] * 1.001 + 1e-7 * torch.randn(1, 64, generator=g)])
    w = FairGrad(5, alpha=alpha).weights(G)
    assert (w > 0).all() and backward_error(G, w, alpha) <= 1e-8
    e = torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64)
    inside = e + torch.tensor([[0.0, 5e-4], [0.0, 5e-4]], dtype=torch.float64)
    outside = e + torch.tensor([[0.0, 5e-2], [0.0, 5e-2]], dtype=torch.float64)
    assert torch.equal(FairGrad(2, alpha=alpha).weights(inside), torch.zeros(2, dtype=G.dtype))
    w = FairGrad(2, alpha=alpha).weights(outside)
    assert (w > 0).all() and backward_error(outside, w, alpha) <= 1e-8


def test_zero_rows_get_zero_weight():
    G = FAMILIES["typical"](4)
    G[2] = 0.0
    w = FairGrad(4).weights(G)
    assert w[2] == 0 and (w[[0, 1, 3]] > 0).all()


def test_alpha_one_is_nash_mtl_on_badly_scaled_input():
    G = FAMILIES["badly_scaled"](5)
    torch.testing.assert_close(
        FairGrad(5, alpha=1.0).weights(G),
        get_method("nashmtl", 5).weights(G),
        rtol=1e-9,
        atol=0,
    )
