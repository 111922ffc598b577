"""GradNorm: learnable weights trained on Σ|w_i‖g_i‖ − mean(w‖g‖)·r_i^α| (Chen et al., ICML 2018)."""

from __future__ import annotations

import math

import pytest
import torch

from paretokit.errors import MethodError
from paretokit.methods import get_method, method_class

from ._asserts import (
    assert_reset_reproduces,
    assert_shape_and_finite,
    assert_weights_give_direction,
)
from ._matrices import FAMILIES, KS

# g_1 = (3, 4): ‖g_1‖ = 5; g_2 = (0, 1): ‖g_2‖ = 1
G2 = torch.tensor([[3.0, 4.0], [0.0, 1.0]], dtype=torch.float64)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("k", KS)
def test_direction_is_weighted_sum(family, k):
    G = FAMILIES[family](k)
    m = get_method("gradnorm", k)
    losses = torch.linspace(0.5, 2.0, k, dtype=torch.float64)
    for step in range(3):
        d, w = m.combine(G, losses * (1 - 0.1 * step))
        assert_shape_and_finite(d, G)
        assert_weights_give_direction(w, d, G)
        assert torch.isfinite(m.parameters()[0].grad).all()


def test_weight_gradient_is_the_hand_computed_subgradient():
    m = get_method("gradnorm", 2, alpha=1.5)
    (w,) = m.parameters()
    # step 1: L(0) = (2, 1), so L̃ = (1, 1), r = (1, 1); w = (1, 1): G_w = (5, 1), target = 3
    d, weights = m.combine(G2, torch.tensor([2.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(weights, torch.ones(2, dtype=torch.float64), rtol=0, atol=0)
    torch.testing.assert_close(d, G2.sum(0), rtol=0, atol=0)
    torch.testing.assert_close(
        w.grad, torch.tensor([5.0, -1.0], dtype=torch.float64), rtol=0, atol=0
    )
    # step 2: losses (1, 1): L̃ = (1/2, 1), r = (2/3, 4/3); w = (0.1, 1.9): G_w = (0.5, 1.9)
    with torch.no_grad():
        w.copy_(torch.tensor([0.1, 1.9], dtype=torch.float64))
    _, weights = m.combine(G2, torch.tensor([1.0, 1.0], dtype=torch.float64))
    mean = (0.5 + 1.9) / 2
    targets = [mean * (2 / 3) ** 1.5, mean * (4 / 3) ** 1.5]  # 0.653…, 1.847…
    assert 0.5 < targets[0] and 1.9 > targets[1]
    torch.testing.assert_close(
        weights, torch.tensor([0.1, 1.9], dtype=torch.float64), rtol=0, atol=0
    )
    torch.testing.assert_close(
        w.grad, torch.tensor([-5.0, 1.0], dtype=torch.float64), rtol=0, atol=0
    )
    assert math.isclose(targets[1], 1.2 * (4 / 3) ** 1.5, rel_tol=1e-15)


def test_subgradient_is_zero_at_the_target():
    """Equal norms and equal training rates: every G_i equals its target, the gradient is 0."""
    G = 3.0 * torch.eye(4, dtype=torch.float64)
    m = get_method("gradnorm", 4)
    m.combine(G, torch.full((4,), 0.7, dtype=torch.float64))
    torch.testing.assert_close(
        m.parameters()[0].grad, torch.zeros(4, dtype=torch.float64), rtol=0, atol=0
    )


def test_optimizer_step_then_renormalization_keeps_sum_k():
    k = 3
    G = FAMILIES["badly_scaled"](k)
    m = get_method("gradnorm", k)
    opt = torch.optim.Adam(m.parameters(), lr=0.025)  # Adam steps ≈ lr whatever the norms
    losses = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    (w,) = m.parameters()
    for t in range(5):
        opt.zero_grad()
        m.combine(G, losses * (0.9**t))
        before = w.detach().clone()
        opt.step()
        stepped = w.detach().clone()
        assert not torch.equal(before, stepped)
        m.after_step(None)
        torch.testing.assert_close(w.detach(), k * stepped / stepped.sum(), rtol=1e-15, atol=0)
        assert abs(w.sum().item() - k) < 1e-12


def test_renormalization_by_hand():
    m = get_method("gradnorm", 2)
    (w,) = m.parameters()
    with torch.no_grad():
        w.copy_(torch.tensor([0.5, 2.5], dtype=torch.float64))
    m.after_step(None)
    torch.testing.assert_close(
        w.detach(), torch.tensor([1 / 3, 5 / 3], dtype=torch.float64), rtol=1e-15, atol=0
    )
    with torch.no_grad():
        w.copy_(torch.tensor([-1.0, 0.5], dtype=torch.float64))
    with pytest.raises(MethodError, match="sum to"):
        m.after_step(None)


def test_gramian_path_matches_combine():
    G = FAMILIES["typical"](5)
    losses = torch.linspace(1.0, 2.0, 5, dtype=torch.float64)
    a, b = get_method("gradnorm", 5), get_method("gradnorm", 5)
    for t in range(2):
        _, wa = a.combine(G, losses / (t + 1))
        wb = b.gramian_weights(G @ G.T, losses / (t + 1))
        torch.testing.assert_close(wb, wa, rtol=0, atol=0)
        torch.testing.assert_close(
            b.parameters()[0].grad, a.parameters()[0].grad, rtol=1e-12, atol=1e-12
        )


def test_reset_restores_state_in_place():
    m = get_method("gradnorm", 2)
    (w,) = m.parameters()

    def run(method):
        out = []
        for losses in ([2.0, 1.0], [1.0, 1.5]):
            d, weights = method.combine(G2, torch.tensor(losses, dtype=torch.float64))
            out += [d, weights, method.parameters()[0].grad.clone()]
            with torch.no_grad():
                method.parameters()[0].sub_(0.1 * method.parameters()[0].grad)
            method.after_step(None)
        return out

    assert_reset_reproduces(m, run)
    m.reset(0)
    assert m.parameters()[0] is w and torch.equal(w, torch.ones(2, dtype=torch.float64))
    assert w.grad is None and m.initial_losses is None


def test_weights_follow_g_dtype():
    m = get_method("gradnorm", 2)
    d, w = m.combine(G2.float(), torch.tensor([1.0, 1.0]))
    assert (
        d.dtype
        == w.dtype
        == m.parameters()[0].dtype
        == m.parameters()[0].grad.dtype
        == torch.float32
    )


def test_degenerate_inputs():
    m = get_method("gradnorm", 2)
    with pytest.raises(MethodError, match="losses"):
        m.combine(G2)
    with pytest.raises(MethodError, match="L_i\\(0\\)"):
        m.combine(G2, torch.tensor([0.0, 1.0], dtype=torch.float64))
    with pytest.raises(MethodError, match="finite"):
        m.combine(G2, torch.tensor([-1.0, 1.0], dtype=torch.float64))
    m.combine(G2, torch.tensor([1.0, 1.0], dtype=torch.float64))
    with pytest.raises(MethodError, match="all task losses are 0"):
        m.combine(G2, torch.tensor([0.0, 0.0], dtype=torch.float64))
    # a zero gradient row: finite, its weight gets no gradient
    Z = G2.clone()
    Z[1] = 0.0
    d, w = m.combine(Z, torch.tensor([0.5, 1.0], dtype=torch.float64))
    assert torch.isfinite(d).all() and m.parameters()[0].grad[1].item() == 0.0
    with pytest.raises(MethodError, match="alpha"):
        get_method("gradnorm", 2, alpha=-1.0)


def test_paper_defaults_and_citation():
    cls = method_class("gradnorm")
    assert cls.option_defaults() == {"alpha": 1.5}
    assert get_method("gradnorm", 3).options() == cls.option_defaults()
    assert "arxiv.org/abs/" in cls.citation and cls.summary
