"""DB-MTL: EMA of log-loss gradients, each rescaled to the largest norm (Lin et al., 2023)."""

from __future__ import annotations

import math

import pytest
import torch

from paretokit.errors import MethodError
from paretokit.methods import get_method, method_class

from ._asserts import assert_reset_reproduces, assert_shape_and_finite
from ._matrices import FAMILIES, KS


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("k", KS)
def test_shape_and_finite(family, k):
    G = FAMILIES[family](k)
    m = get_method("dbmtl", k)
    losses = torch.logspace(-2, 2, k, dtype=torch.float64)
    for _ in range(3):
        d, w = m.combine(G, losses)
        assert w is None
        assert_shape_and_finite(d, G)


def test_scripted_two_steps_by_hand():
    """β = 0.9, σ = 0.5: β_1 = 0.9, β_2 = 0.9/√2; ĝ starts at 0."""
    G1 = torch.tensor([[2.0, 0.0], [0.0, 3.0]], dtype=torch.float64)
    L1 = torch.tensor([2.0, 0.5], dtype=torch.float64)
    G2 = torch.tensor([[4.0, 0.0], [3.0, 3.0]], dtype=torch.float64)
    L2 = torch.tensor([1.0, 3.0], dtype=torch.float64)
    m = get_method("dbmtl", 2)
    # step 1: g/L = ((1, 0), (0, 6)); ĝ = 0.1 · that = ((0.1, 0), (0, 0.6)); max norm 0.6
    d1, _ = m.combine(G1, L1)
    torch.testing.assert_close(
        d1, torch.tensor([0.6, 0.6], dtype=torch.float64), rtol=1e-14, atol=0
    )
    # step 2: g/L = ((4, 0), (1, 1)); ĝ = β_2 ĝ + (1 − β_2) g/L
    b2 = 0.9 / math.sqrt(2)
    h1 = (b2 * 0.1 + (1 - b2) * 4.0, 0.0)
    h2 = ((1 - b2) * 1.0, b2 * 0.6 + (1 - b2) * 1.0)
    n1, n2 = math.hypot(*h1), math.hypot(*h2)
    top = max(n1, n2)
    expected = [top / n1 * h1[0] + top / n2 * h2[0], top / n1 * h1[1] + top / n2 * h2[1]]
    d2, _ = m.combine(G2, L2)
    torch.testing.assert_close(d2, torch.tensor(expected, dtype=torch.float64), rtol=1e-13, atol=0)
    torch.testing.assert_close(
        m.buffer, torch.tensor([h1, h2], dtype=torch.float64), rtol=1e-14, atol=0
    )


def test_without_smoothing_every_task_gets_the_largest_norm():
    """β = 0: ĝ_k = g_k / L_k and d = max_j ‖g_j/L_j‖ · Σ_k unit(g_k)."""
    G = FAMILIES["badly_scaled"](5)
    losses = torch.tensor([0.1, 1.0, 2.0, 5.0, 30.0], dtype=torch.float64)
    d, _ = get_method("dbmtl", 5, beta=0.0).combine(G, losses)
    scaled = G / losses[:, None]
    unit = G / G.norm(dim=1, keepdim=True)
    torch.testing.assert_close(d, scaled.norm(dim=1).max() * unit.sum(0), rtol=1e-12, atol=1e-12)


def test_invariant_to_loss_scales():
    """Scaling task k's loss by c_k scales g_k and L_k alike: the direction does not change."""
    G = FAMILIES["typical"](3)
    losses = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    c = torch.tensor([1e-3, 1.0, 1e3], dtype=torch.float64)
    a, b = get_method("dbmtl", 3), get_method("dbmtl", 3)
    for t in range(3):
        da, _ = a.combine(G * (t + 1), losses / (t + 1))
        db, _ = b.combine(c[:, None] * G * (t + 1), c * losses / (t + 1))
        torch.testing.assert_close(db, da, rtol=1e-12, atol=1e-12 * float(da.abs().max()))


def test_zero_rows_contribute_nothing():
    G = FAMILIES["typical"](3)
    G[1] = 0.0
    d, _ = get_method("dbmtl", 3).combine(G, torch.ones(3, dtype=torch.float64))
    ref, _ = get_method("dbmtl", 2).combine(G[[0, 2]], torch.ones(2, dtype=torch.float64))
    torch.testing.assert_close(d, ref, rtol=1e-14, atol=0)
    d, _ = get_method("dbmtl", 2).combine(torch.zeros(2, 4, dtype=torch.float64), torch.ones(2))
    assert torch.equal(d, torch.zeros(4, dtype=torch.float64))


def test_reset_replays():
    G = FAMILIES["conflicting"](4)
    losses = torch.linspace(0.5, 2.0, 4, dtype=torch.float64)
    m = get_method("dbmtl", 4)
    assert_reset_reproduces(m, lambda x: [x.combine(G * (t + 1), losses)[0] for t in range(3)])


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_losses_raise(bad):
    with pytest.raises(MethodError, match="positive task losses"):
        get_method("dbmtl", 2).combine(FAMILIES["typical"](2), torch.tensor([1.0, bad]))


def test_protocol_errors():
    m = get_method("dbmtl", 2)
    with pytest.raises(MethodError, match="needs the task losses"):
        m.combine(FAMILIES["typical"](2))
    with pytest.raises(MethodError, match="not a fixed combination"):
        m.weights(FAMILIES["typical"](2), torch.ones(2))
    m.combine(FAMILIES["typical"](2, d=5), torch.ones(2))
    with pytest.raises(MethodError, match="without reset"):
        m.combine(FAMILIES["typical"](2, d=6), torch.ones(2))


@pytest.mark.parametrize(
    "opts", [{"beta": 1.0}, {"beta": -0.1}, {"beta_sigma": -1.0}, {"beta_sigma": float("inf")}]
)
def test_bad_options_raise(opts):
    with pytest.raises(MethodError, match="dbmtl"):
        get_method("dbmtl", 2, **opts)


def test_paper_defaults_and_citation():
    cls = method_class("dbmtl")
    assert cls.option_defaults() == {"beta": 0.9, "beta_sigma": 0.5}
    assert get_method("dbmtl", 3).options() == cls.option_defaults()
    assert "arxiv.org/abs/" in cls.citation and cls.summary
