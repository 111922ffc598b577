"""PCGrad: project conflicting gradients in random order, then sum (Yu et al., NeurIPS 2020)."""

from __future__ import annotations

import itertools

import pytest
import torch

from paretokit.errors import MethodError
from paretokit.methods import get_method, method_class

from ._asserts import (
    assert_non_conflicting,
    assert_positively_homogeneous,
    assert_reset_reproduces,
    assert_shape_and_finite,
)
from ._matrices import FAMILIES, KS


def _literal(G: torch.Tensor, orders: list[list[int]]) -> torch.Tensor:
    """Algorithm 1 of the paper, literally, on the rows of G with the given orders per task."""
    out = []
    for i, order in enumerate(orders):
        g = G[i].clone()
        for j in order:
            dot = g @ G[j]
            if dot < 0:
                g = g - dot / (G[j] @ G[j]) * G[j]
        out.append(g)
    return torch.stack(out)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("k", KS)
def test_shape_and_finite(family, k):
    G = FAMILIES[family](k)
    m = get_method("pcgrad", k)
    d, w = m.combine(G)
    assert w is None
    assert_shape_and_finite(d, G)


@pytest.mark.parametrize("family", FAMILIES)
def test_two_tasks_projection_by_hand_and_no_conflict(family):
    G = FAMILIES[family](2, seed=4)
    if G[0] @ G[1] >= 0:  # make the pair conflict
        G[1] = -G[1]
    m = get_method("pcgrad", 2)
    P = m.projected_gradients(G)
    g1, g2 = G
    exp1 = g1 - (g1 @ g2) / (g2 @ g2) * g2
    exp2 = g2 - (g2 @ g1) / (g1 @ g1) * g1
    scale = float(G.abs().max())
    torch.testing.assert_close(P, torch.stack([exp1, exp2]), rtol=1e-9, atol=1e-9 * scale)
    # each projected gradient is orthogonal to (no longer conflicts with) the other task's
    assert abs(P[0] @ g2) <= 1e-9 * g1.norm() * g2.norm()
    assert abs(P[1] @ g1) <= 1e-9 * g1.norm() * g2.norm()
    d = m.aggregate(G)
    assert_non_conflicting(d, G, cos_tol=1e-9)


@pytest.mark.parametrize("k", KS)
def test_without_conflicts_direction_is_the_sum(k):
    g = torch.Generator().manual_seed(k)
    G = torch.rand(k, 30, generator=g, dtype=torch.float64)  # positive entries: all dots > 0
    d = get_method("pcgrad", k).aggregate(G)
    torch.testing.assert_close(d, G.sum(0), rtol=1e-14, atol=1e-14)


def test_matches_the_literal_algorithm_for_one_of_the_orders():
    """K = 3: the result is Alg. 1 under some per-task order; several seeds reach several."""
    k = 3
    G = FAMILIES["conflicting"](k, seed=2)
    others = [[j for j in range(k) if j != i] for i in range(k)]
    candidates = {}
    for choice in itertools.product(*[list(itertools.permutations(o)) for o in others]):
        candidates[choice] = _literal(G, [list(c) for c in choice]).sum(0)
    hit = set()
    for seed in range(20):
        d = get_method("pcgrad", k, seed=seed).aggregate(G)
        match = [
            c for c, ref in candidates.items() if torch.allclose(d, ref, rtol=1e-10, atol=1e-10)
        ]
        assert match, f"seed {seed}: no order of Alg. 1 gives this direction"
        hit.add(frozenset(match))
    assert len(hit) >= 2, "the random order never changed the result"


def test_zero_gradient_is_skipped():
    G = FAMILIES["conflicting"](3, seed=1)
    G[2] = 0.0
    m = get_method("pcgrad", 3)
    P = m.projected_gradients(G)
    assert torch.isfinite(P).all() and torch.equal(P[2], torch.zeros_like(P[2]))
    ref = get_method("pcgrad", 2).projected_gradients(G[:2])
    torch.testing.assert_close(P[:2], ref, rtol=1e-10, atol=1e-10)
    d, _ = get_method("pcgrad", 3).combine(torch.zeros(3, 5, dtype=torch.float64))
    assert torch.equal(d, torch.zeros(5, dtype=torch.float64))


def test_positively_homogeneous_for_a_fixed_seed():
    G = FAMILIES["conflicting"](5)
    m = get_method("pcgrad", 5, seed=3)

    def agg(X):
        m.reset(3)
        return m.aggregate(X)

    assert_positively_homogeneous(agg, G, rtol=1e-10)


def test_same_seed_and_reset_replay():
    G = FAMILIES["conflicting"](10)
    a, b = get_method("pcgrad", 10, seed=9), get_method("pcgrad", 10, seed=9)
    torch.testing.assert_close(a.aggregate(G), b.aggregate(G), rtol=0, atol=0)
    assert_reset_reproduces(a, lambda m: [m.aggregate(G) for _ in range(3)], seed=9)


def test_has_no_weights():
    with pytest.raises(MethodError, match="not a fixed combination"):
        get_method("pcgrad", 2).weights(FAMILIES["typical"](2))


def test_float32_input_keeps_dtype():
    G = FAMILIES["conflicting"](4).float()
    d = get_method("pcgrad", 4).aggregate(G)
    assert d.dtype == torch.float32
    ref = get_method("pcgrad", 4).aggregate(G.double())
    torch.testing.assert_close(d.double(), ref, rtol=1e-4, atol=1e-4 * float(ref.abs().max()))


def test_paper_defaults_and_citation():
    cls = method_class("pcgrad")
    assert cls.option_defaults() == {}
    assert get_method("pcgrad", 3).options() == cls.option_defaults()
    assert "arxiv.org/abs/" in cls.citation and cls.summary
