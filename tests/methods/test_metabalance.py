"""MetaBalance: auxiliary gradients relaxed towards the main task's norm (He et al., WWW 2022)."""

from __future__ import annotations

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


def _rows(norms: list[float]) -> torch.Tensor:
    """Orthogonal rows with the given norms."""
    return torch.diag(torch.tensor(norms, dtype=torch.float64))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("k", KS)
def test_direction_is_weighted_sum(family, k):
    G = FAMILIES[family](k)
    m = get_method("metabalance", k)
    for _ in range(3):
        d, w = m.combine(G)
        assert_shape_and_finite(d, G)
        assert_weights_give_direction(w, d, G)
        assert w[0] == 1.0 and (w > 0).all()


@pytest.mark.parametrize("strategy", ["both", "reduce", "enlarge"])
def test_scripted_two_steps(strategy):
    """Norms (main, aux1, aux2) = (2, 8, 1) then (4, 4, 1); β = 0.9, r = 0.7, by hand."""
    m = get_method("metabalance", 3, strategy=strategy)
    b, r = 0.9, 0.7
    n = [0.0, 0.0, 0.0]
    for norms in ([2.0, 8.0, 1.0], [4.0, 4.0, 1.0]):
        n = [b * a + (1 - b) * x for a, x in zip(n, norms, strict=True)]
        expected = [1.0]
        for k in (1, 2):
            scaled = r * n[0] / n[k] + (1 - r)
            apply = {"both": True, "reduce": n[k] > n[0], "enlarge": n[k] < n[0]}[strategy]
            expected.append(scaled if apply else 1.0)
        _, w = m.combine(_rows(norms))
        torch.testing.assert_close(
            w, torch.tensor(expected, dtype=torch.float64), rtol=1e-14, atol=0
        )
    # second step, by hand: n = (0.58, 1.12, 0.19)
    torch.testing.assert_close(
        m.norm_averages, torch.tensor([0.58, 1.12, 0.19], dtype=torch.float64), rtol=1e-14, atol=0
    )


def test_relax_factor_extremes():
    G = FAMILIES["badly_scaled"](4)
    d, w = get_method("metabalance", 4, relax_factor=0.0).combine(G)
    torch.testing.assert_close(w, torch.ones(4, dtype=torch.float64), rtol=0, atol=0)
    # r = 1, β = 0: every auxiliary gradient gets exactly the main gradient's norm
    _, w = get_method("metabalance", 4, relax_factor=1.0, beta=0.0, main_task=2).combine(G)
    scaled = w[:, None] * G
    torch.testing.assert_close(scaled.norm(dim=1), G[2].norm().expand(4), rtol=1e-12, atol=0)


def test_zero_auxiliary_gradient_gets_one_minus_r():
    G = _rows([2.0, 0.0, 1.0])
    d, w = get_method("metabalance", 3).combine(G)
    assert torch.isfinite(d).all()
    assert abs(w[1].item() - 0.3) < 1e-15
    d, w = get_method("metabalance", 3).combine(_rows([0.0, 3.0, 1.0]))
    torch.testing.assert_close(
        w, torch.tensor([1.0, 0.3, 0.3], dtype=torch.float64), rtol=1e-15, atol=0
    )


def test_gramian_path_matches_combine_and_reset_replays():
    G = FAMILIES["typical"](5)
    a, b = get_method("metabalance", 5), get_method("metabalance", 5)
    for t in range(3):
        _, wa = a.combine(G * (t + 1))
        X = G * (t + 1)
        torch.testing.assert_close(b.gramian_weights(X @ X.T), wa, rtol=1e-12, atol=0)
    assert_reset_reproduces(a, lambda m: [m.combine(G * (t + 1))[1] for t in range(3)])
    a.reset()
    assert torch.equal(a.norm_averages, torch.zeros(5, dtype=torch.float64))


@pytest.mark.parametrize(
    "opts",
    [
        {"main_task": 3},
        {"relax_factor": 1.5},
        {"relax_factor": -0.1},
        {"beta": 1.0},
        {"strategy": "grow"},
    ],
)
def test_bad_options_raise(opts):
    with pytest.raises(MethodError, match="metabalance"):
        get_method("metabalance", 3, **opts)


def test_paper_defaults_and_citation():
    cls = method_class("metabalance")
    assert cls.option_defaults() == {
        "main_task": 0,
        "relax_factor": 0.7,
        "beta": 0.9,
        "strategy": "both",
    }
    assert get_method("metabalance", 3).options() == cls.option_defaults()
    assert "arxiv.org/abs/" in cls.citation and cls.summary
