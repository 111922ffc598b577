"""RLW: a fresh random point of the simplex each step (Lin et al., TMLR 2022)."""

from __future__ import annotations

import pytest
import torch

from paretokit.errors import MethodError
from paretokit.methods import get_method, method_class

from ._asserts import assert_reset_reproduces
from ._matrices import KS


@pytest.mark.parametrize("distribution", ["normal", "dirichlet"])
@pytest.mark.parametrize("k", KS)
def test_weights_lie_on_the_simplex(k, distribution):
    m = get_method("rlw", k, seed=3, distribution=distribution)
    for _ in range(20):
        w = m.weights(torch.ones(k, dtype=torch.float64))
        assert w.shape == (k,)
        assert (w >= 0).all()
        assert abs(w.sum().item() - 1.0) < 1e-12


@pytest.mark.parametrize("k", KS)
def test_normal_weights_are_softmax_of_the_seeded_normal_draws(k):
    m = get_method("rlw", k, seed=11)
    g = torch.Generator().manual_seed(11)
    for _ in range(5):
        expected = torch.softmax(torch.randn(k, generator=g, dtype=torch.float64), dim=0)
        got = m.weights(torch.rand(k, dtype=torch.float64))
        torch.testing.assert_close(got, expected, rtol=0.0, atol=0.0)


def test_dirichlet_weights_are_normalized_exponentials_of_the_seeded_uniforms():
    m = get_method("rlw", 4, seed=5, distribution="dirichlet")
    g = torch.Generator().manual_seed(5)
    for _ in range(5):
        e = -torch.log1p(-torch.rand(4, generator=g, dtype=torch.float64))
        got = m.weights(torch.ones(4, dtype=torch.float64))
        torch.testing.assert_close(got, e / e.sum(), rtol=0.0, atol=0.0)


def test_mean_weight_is_uniform():
    """The draws are exchangeable across tasks: the average weight is 1/K (±5 sd)."""
    k, n = 5, 4000
    m = get_method("rlw", k, seed=0)
    w = torch.stack([m.weights(torch.ones(k, dtype=torch.float64)) for _ in range(n)])
    sd = w.std(dim=0) / n**0.5
    assert ((w.mean(dim=0) - 1.0 / k).abs() < 5 * sd).all()


def test_same_seed_same_weights_and_reset_replays():
    k = 3
    a = get_method("rlw", k, seed=7)
    b = get_method("rlw", k, seed=7)
    c = get_method("rlw", k, seed=8)
    ones = torch.ones(k)
    wa = [a.weights(ones) for _ in range(3)]
    wb = [b.weights(ones) for _ in range(3)]
    wc = [c.weights(ones) for _ in range(3)]
    for x, y in zip(wa, wb, strict=True):
        torch.testing.assert_close(x, y, rtol=0.0, atol=0.0)
    assert not torch.equal(wa[0], wc[0])
    assert_reset_reproduces(a, lambda m: [m.loss(ones.clone()) for _ in range(3)], seed=7)


def test_one_draw_per_loss_call_recorded_in_last_weights():
    m = get_method("rlw", 3, seed=1)
    losses = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    value = m.loss(losses)
    g = torch.Generator().manual_seed(1)
    w = torch.softmax(torch.randn(3, generator=g, dtype=torch.float64), dim=0)
    torch.testing.assert_close(m.last_weights, w, rtol=0.0, atol=0.0)
    torch.testing.assert_close(value, (w * losses).sum(), rtol=1e-15, atol=0.0)


def test_weights_follow_the_losses_dtype():
    assert get_method("rlw", 3).weights(torch.ones(3, dtype=torch.float32)).dtype == torch.float32


def test_bad_options_and_shapes_raise():
    with pytest.raises(MethodError, match="distribution"):
        get_method("rlw", 3, distribution="uniform-ish")
    with pytest.raises(MethodError, match="3 task losses"):
        get_method("rlw", 3).weights(torch.ones(4))


def test_paper_defaults_and_citation():
    cls = method_class("rlw")
    assert cls.option_defaults() == {"distribution": "normal"}
    assert get_method("rlw", 3).options() == cls.option_defaults()
    assert "arxiv.org/abs/" in cls.citation and cls.summary
