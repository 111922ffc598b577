"""SI: Σ log L_k, i.e. the weights 1/L_k (Navon et al. 2022, baseline)."""

from __future__ import annotations

import math

import pytest
import torch

from paretokit.errors import MethodError
from paretokit.methods import get_method, method_class


def _tiny_losses(scale: tuple[float, ...] = (1.0, 1.0, 1.0)):
    """A 3-task linear model in float64 and its three positive losses."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 4, generator=g, dtype=torch.float64)
    y = torch.randn(16, 3, generator=g, dtype=torch.float64)
    model = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        model.weight.copy_(torch.randn(3, 4, generator=g, dtype=torch.float64))
        model.bias.zero_()
    out = model(x)
    losses = torch.stack([c * ((out[:, k] - y[:, k]) ** 2).mean() for k, c in enumerate(scale)])
    return model, losses


def test_weights_are_inverse_losses_and_loss_is_sum_of_logs():
    m = get_method("si", 3)
    losses = torch.tensor([0.5, 2.0, 8.0], dtype=torch.float64)
    torch.testing.assert_close(m.weights(losses), 1.0 / losses, rtol=0.0, atol=0.0)
    value = m.loss(losses)
    assert math.isclose(value.item(), math.log(0.5) + math.log(2.0) + math.log(8.0), rel_tol=1e-15)
    torch.testing.assert_close(m.last_weights, 1.0 / losses, rtol=0.0, atol=0.0)


def test_gradient_is_sum_of_task_gradients_over_losses():
    """∇ Σ log L_k = Σ_k ∇L_k / L_k on a tiny model."""
    model, losses = _tiny_losses()
    params = list(model.parameters())
    expected = [torch.zeros_like(p) for p in params]
    for k in range(3):
        grads = torch.autograd.grad(losses[k], params, retain_graph=True)
        for e, g in zip(expected, grads, strict=True):
            e += g / losses[k].detach()
    m = get_method("si", 3)
    got = torch.autograd.grad(m.loss(losses), params)
    for e, g in zip(expected, got, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-12, atol=1e-14)


def test_gradient_is_invariant_to_loss_scales():
    """Multiplying task losses by constants leaves the update unchanged."""
    m = get_method("si", 3)
    model1, l1 = _tiny_losses((1.0, 1.0, 1.0))
    model2, l2 = _tiny_losses((1e-3, 1.0, 1e4))
    g1 = torch.autograd.grad(m.loss(l1), list(model1.parameters()))
    g2 = torch.autograd.grad(m.loss(l2), list(model2.parameters()))
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_non_positive_or_non_finite_losses_raise(bad):
    m = get_method("si", 2)
    losses = torch.tensor([1.0, bad])
    with pytest.raises(MethodError, match="si"):
        m.loss(losses)
    with pytest.raises(MethodError, match="si"):
        m.weights(losses)


def test_wrong_number_of_losses_raises():
    with pytest.raises(MethodError, match="3 task losses"):
        get_method("si", 3).loss(torch.ones(2))


def test_paper_defaults_and_citation():
    cls = method_class("si")
    assert cls.option_defaults() == {}
    assert get_method("si", 3).options() == cls.option_defaults()
    assert "arxiv.org/abs/" in cls.citation and cls.summary
