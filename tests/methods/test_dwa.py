"""DWA: weights from the ratio of the last two epoch-mean losses (Liu et al., CVPR 2019)."""

from __future__ import annotations

import math

import pytest
import torch

from paretokit.errors import MethodError
from paretokit.methods import get_method, method_class


def _dwa(r: list[float], t: float) -> list[float]:
    """The paper's formula, by hand: K exp(r_k/T) / Σ_i exp(r_i/T)."""
    e = [math.exp(v / t) for v in r]
    return [len(r) * v / sum(e) for v in e]


def test_scripted_epoch_sequence():
    m = get_method("dwa", 3)
    step = torch.tensor([9.0, 9.0, 9.0], dtype=torch.float64)  # current losses are not used
    ones = torch.ones(3, dtype=torch.float64)
    torch.testing.assert_close(m.weights(step), ones, rtol=0, atol=0)  # epoch 1
    m.epoch_end(torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64))
    torch.testing.assert_close(m.weights(step), ones, rtol=0, atol=0)  # epoch 2
    m.epoch_end(torch.tensor([0.8, 1.0, 0.5], dtype=torch.float64))
    # epoch 3: r = (0.8/1, 1/2, 0.5/0.5) = (0.8, 0.5, 1.0); T = 2
    expected = torch.tensor(_dwa([0.8, 0.5, 1.0], 2.0), dtype=torch.float64)
    torch.testing.assert_close(m.weights(step), expected, rtol=1e-12, atol=0)
    assert (
        abs(
            expected[0].item()
            - 3 * math.exp(0.4) / (math.exp(0.4) + math.exp(0.25) + math.exp(0.5))
        )
        < 1e-12
    )
    m.epoch_end(torch.tensor([0.4, 0.9, 0.6], dtype=torch.float64))
    # epoch 4: r = (0.4/0.8, 0.9/1.0, 0.6/0.5) = (0.5, 0.9, 1.2)
    expected = torch.tensor(_dwa([0.5, 0.9, 1.2], 2.0), dtype=torch.float64)
    torch.testing.assert_close(m.weights(step), expected, rtol=1e-12, atol=0)
    # slowest-falling task (largest ratio) gets the largest weight; weights sum to K
    w = m.weights(step)
    assert w.argmax().item() == 2 and abs(w.sum().item() - 3.0) < 1e-12


def test_loss_is_weighted_sum_and_temperature_flattens():
    m = get_method("dwa", 2, temperature=1e6)
    m.epoch_end(torch.tensor([1.0, 1.0], dtype=torch.float64))
    m.epoch_end(torch.tensor([0.1, 2.0], dtype=torch.float64))
    torch.testing.assert_close(m.weights(torch.ones(2)), torch.ones(2), rtol=1e-5, atol=0)
    sharp = get_method("dwa", 2, temperature=0.5)
    sharp.epoch_end(torch.tensor([1.0, 1.0], dtype=torch.float64))
    sharp.epoch_end(torch.tensor([0.1, 2.0], dtype=torch.float64))
    w = torch.tensor(_dwa([0.1, 2.0], 0.5), dtype=torch.float64)
    losses = torch.tensor([3.0, 4.0], dtype=torch.float64)
    torch.testing.assert_close(sharp.loss(losses), (w * losses).sum(), rtol=1e-12, atol=0)


def test_reset_forgets_history():
    m = get_method("dwa", 2)
    m.epoch_end(torch.tensor([1.0, 1.0], dtype=torch.float64))
    m.epoch_end(torch.tensor([0.1, 2.0], dtype=torch.float64))
    assert not torch.equal(m.weights(torch.ones(2)), torch.ones(2))
    m.reset(0)
    torch.testing.assert_close(m.weights(torch.ones(2)), torch.ones(2), rtol=0, atol=0)
    m.epoch_end(torch.tensor([5.0, 5.0], dtype=torch.float64))
    torch.testing.assert_close(m.weights(torch.ones(2)), torch.ones(2), rtol=0, atol=0)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_epoch_losses_raise(bad):
    m = get_method("dwa", 2)
    with pytest.raises(MethodError, match="epoch mean losses"):
        m.epoch_end(torch.tensor([1.0, bad], dtype=torch.float64))


@pytest.mark.parametrize("t", [0.0, -2.0, float("nan"), float("inf")])
def test_bad_temperature_raises(t):
    with pytest.raises(MethodError, match="temperature"):
        get_method("dwa", 2, temperature=t)


def test_paper_defaults_and_citation():
    cls = method_class("dwa")
    assert cls.option_defaults() == {"temperature": 2.0}
    assert get_method("dwa", 3).options() == cls.option_defaults()
    assert "arxiv.org/abs/" in cls.citation and cls.summary
