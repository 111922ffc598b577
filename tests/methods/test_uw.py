"""UW: Σ_k ½e^{−s_k} L_k + ½s_k with learnable log-variances (Kendall et al., CVPR 2018)."""

from __future__ import annotations

import math

import pytest
import torch

from paretokit.errors import MethodError
from paretokit.methods import get_method, method_class

LOSSES = torch.tensor([0.01, 1.0, 50.0], dtype=torch.float64)


def test_initial_state_and_loss_formula():
    m = get_method("uw", 3)
    (s,) = m.parameters()
    assert s.requires_grad and torch.equal(s, torch.zeros(3, dtype=torch.float64))
    torch.testing.assert_close(m.weights(LOSSES), torch.full((3,), 0.5, dtype=torch.float64))
    with torch.no_grad():
        s.copy_(torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64))
    value = m.loss(LOSSES).item()
    by_hand = sum(
        0.5 * math.exp(-sk) * lk + 0.5 * sk
        for sk, lk in zip([0.3, -1.0, 2.0], LOSSES.tolist(), strict=True)
    )
    assert math.isclose(value, by_hand, rel_tol=1e-14)
    expected_w = torch.tensor(
        [0.5 * math.exp(-0.3), 0.5 * math.exp(1.0), 0.5 * math.exp(-2.0)], dtype=torch.float64
    )
    torch.testing.assert_close(m.weights(LOSSES), expected_w, rtol=1e-14, atol=0)
    torch.testing.assert_close(m.last_weights, expected_w, rtol=1e-14, atol=0)


def test_gradient_in_s_vanishes_at_log_losses():
    """∂/∂s_k (½e^{−s_k}L_k + ½s_k) = 0 at s_k = log L_k."""
    m = get_method("uw", 3)
    (s,) = m.parameters()
    with torch.no_grad():
        s.copy_(LOSSES.log())
    m.loss(LOSSES).backward()
    torch.testing.assert_close(s.grad, torch.zeros(3, dtype=torch.float64), rtol=0, atol=1e-15)


def test_optimizer_on_s_converges_to_log_losses():
    """Minimizing the UW loss in s for fixed losses (via parameters(), as the engine does)."""
    m = get_method("uw", 3)
    opt = torch.optim.SGD(m.parameters(), lr=1.0)
    for _ in range(300):
        opt.zero_grad()
        m.loss(LOSSES).backward()
        opt.step()
    (s,) = m.parameters()
    torch.testing.assert_close(s.detach(), LOSSES.log(), rtol=0, atol=1e-10)
    torch.testing.assert_close(m.weights(LOSSES), 0.5 / LOSSES, rtol=1e-9, atol=0)


def test_gradient_through_losses_is_weighted_sum():
    m = get_method("uw", 2)
    losses = torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True)
    (s,) = m.parameters()
    with torch.no_grad():
        s.copy_(torch.tensor([0.5, -0.5], dtype=torch.float64))
    m.loss(losses).backward()
    torch.testing.assert_close(losses.grad, 0.5 * torch.exp(-s.detach()), rtol=1e-15, atol=0)


def test_reset_zeroes_in_place_and_follows_losses_dtype():
    m = get_method("uw", 2)
    (s,) = m.parameters()
    m.loss(torch.tensor([1.0, 2.0], dtype=torch.float32)).backward()
    assert s.dtype == torch.float32 and s.grad is not None
    with torch.no_grad():
        s.add_(1.0)
    m.reset(0)
    (s2,) = m.parameters()
    assert s2 is s and torch.equal(s, torch.zeros(2)) and s.grad is None


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_losses_raise(bad):
    m = get_method("uw", 2)
    with pytest.raises(MethodError, match="uw"):
        m.loss(torch.tensor([1.0, bad]))


def test_zero_loss_is_accepted():
    m = get_method("uw", 2)
    value = m.loss(torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert math.isclose(value.item(), 0.5, rel_tol=1e-15)


def test_paper_defaults_and_citation():
    cls = method_class("uw")
    assert cls.option_defaults() == {}
    assert get_method("uw", 3).options() == cls.option_defaults()
    assert "arxiv.org/abs/" in cls.citation and cls.summary
