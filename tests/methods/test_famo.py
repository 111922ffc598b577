"""FAMO: weights c·z_i/L_i and logits trained on log-loss decreases (Liu et al., NeurIPS 2023)."""

from __future__ import annotations

import math

import pytest
import torch

from paretokit.errors import MethodError
from paretokit.methods import get_method, method_class

from ._asserts import assert_reset_reproduces


def _famo_logit_grad(z: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """∇_ξ Σ_i z_i(ξ) δ_i through the softmax, written out: Σ_i δ_i z_i (e_i − z)."""
    k = z.shape[0]
    out = torch.zeros(k, dtype=torch.float64)
    for i in range(k):
        e = torch.zeros(k, dtype=torch.float64)
        e[i] = 1.0
        out += delta[i] * z[i] * (e - z)
    return out


def test_initial_weights_are_normalized_inverse_losses():
    m = get_method("famo", 3)
    losses = torch.tensor([0.5, 2.0, 4.0], dtype=torch.float64)
    w = m.weights(losses)
    inv = 1.0 / losses
    torch.testing.assert_close(w, inv / inv.sum(), rtol=1e-15, atol=0)
    assert abs(w.sum().item() - 1.0) < 1e-15


def test_loss_gradient_is_normalized_log_loss_gradient():
    """∇ loss = Σ_i z_i ∇log L_i / Σ_j z_j / L_j for the current z."""
    m = get_method("famo", 2)
    m.logits.data = torch.tensor([0.7, -0.2], dtype=torch.float64)
    losses = torch.tensor([3.0, 0.25], dtype=torch.float64, requires_grad=True)
    m.loss(losses).backward()
    z = torch.softmax(torch.tensor([0.7, -0.2], dtype=torch.float64), 0)
    d = losses.detach()
    torch.testing.assert_close(losses.grad, (z / d) / (z / d).sum(), rtol=1e-15, atol=0)


def test_logit_update_matches_a_hand_computed_adam_step():
    lr, gamma = 0.025, 1e-3
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = get_method("famo", 3, w_lr=lr, gamma=gamma)
    before = [
        torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64),
        torch.tensor([0.6, 1.9, 3.0], dtype=torch.float64),
    ]
    after = [
        torch.tensor([0.5, 1.9, 2.99], dtype=torch.float64),
        torch.tensor([0.3, 1.8, 2.99], dtype=torch.float64),
    ]
    xi = torch.zeros(3, dtype=torch.float64)
    mom = torch.zeros(3, dtype=torch.float64)
    var = torch.zeros(3, dtype=torch.float64)
    for t, (lb, la) in enumerate(zip(before, after, strict=True), start=1):
        z = torch.softmax(xi, 0)
        torch.testing.assert_close(m.weights(lb), (z / lb) / (z / lb).sum(), rtol=1e-14, atol=0)
        m.after_step(la)
        delta = torch.tensor(
            [math.log(a) - math.log(b) for a, b in zip(lb.tolist(), la.tolist(), strict=True)],
            dtype=torch.float64,
        )
        g = _famo_logit_grad(z, delta) + gamma * xi
        mom = b1 * mom + (1 - b1) * g
        var = b2 * var + (1 - b2) * g * g
        xi = xi - lr * (mom / (1 - b1**t)) / ((var / (1 - b2**t)).sqrt() + eps)
        torch.testing.assert_close(m.logits.detach(), xi, rtol=1e-12, atol=1e-15)
    # task 0 fell most in log-loss both times (its logit went down), task 2 least (up)
    assert m.logits[0] < 0 < m.logits[2]


def test_min_losses_shift_the_losses():
    m = get_method("famo", 2, min_losses=(1.0, 0.5))
    w = m.weights(torch.tensor([2.0, 1.0], dtype=torch.float64))
    inv = torch.tensor([1.0 / 1.0, 1.0 / 0.5], dtype=torch.float64)
    torch.testing.assert_close(w, inv / inv.sum(), rtol=1e-15, atol=0)
    with pytest.raises(MethodError, match="min_losses"):
        m.weights(torch.tensor([1.0, 3.0]))


def test_same_seed_and_reset_replay():
    seq = [torch.tensor([1.0 + i, 2.0, 3.0 - 0.1 * i], dtype=torch.float64) for i in range(4)]

    def run(m):
        out = []
        for lb in seq:
            out.append(m.weights(lb))
            m.after_step(lb * torch.tensor([0.9, 0.99, 0.95], dtype=torch.float64))
        return [*out, m.logits.detach().clone()]

    assert_reset_reproduces(get_method("famo", 3), run)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_losses_raise(bad):
    m = get_method("famo", 2)
    with pytest.raises(MethodError, match="> 0"):
        m.weights(torch.tensor([1.0, bad]))
    m.weights(torch.tensor([1.0, 1.0]))
    with pytest.raises(MethodError, match="after the step"):
        m.after_step(torch.tensor([1.0, bad]))


def test_after_step_protocol_errors():
    m = get_method("famo", 2)
    with pytest.raises(MethodError, match="preceding"):
        m.after_step(torch.ones(2))
    m.weights(torch.ones(2))
    with pytest.raises(MethodError, match="re-evaluated"):
        m.after_step(None)


@pytest.mark.parametrize(
    "opts", [{"w_lr": 0.0}, {"gamma": -1.0}, {"min_losses": (1.0,)}, {"w_lr": float("nan")}]
)
def test_bad_options_raise(opts):
    with pytest.raises(MethodError, match="famo"):
        get_method("famo", 2, **opts)


def test_paper_defaults_and_citation():
    cls = method_class("famo")
    assert cls.option_defaults() == {"w_lr": 0.025, "gamma": 0.001, "min_losses": ()}
    assert get_method("famo", 3).options() == cls.option_defaults()
    assert "arxiv.org/abs/" in cls.citation and cls.summary
