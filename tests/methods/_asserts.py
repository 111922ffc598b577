"""Property checks shared by method tests. Each says which property of a direction d = A(G)
(or of weights w with d = wᵀG) it checks; tolerances are explicit."""

from __future__ import annotations

import torch
from torch import Tensor


def assert_shape_and_finite(d: Tensor, G: Tensor) -> None:
    """The direction has one entry per coordinate of G and no NaN/inf."""
    assert d.shape == (G.shape[1],), d.shape
    assert torch.isfinite(d).all()


def assert_non_conflicting(d: Tensor, G: Tensor, cos_tol: float = 1e-6) -> None:
    """No task gradient has a negative inner product with d: cos(g_k, d) ≥ -cos_tol."""
    norms = G.norm(dim=1) * d.norm()
    cos = (G @ d) / norms.clamp_min(1e-300)
    assert (cos >= -cos_tol).all(), f"conflicting direction: min cos {cos.min().item():.3g}"


def assert_weights_give_direction(w: Tensor, d: Tensor, G: Tensor, rtol: float = 1e-10) -> None:
    """The returned weights reproduce the returned direction: d = wᵀG."""
    torch.testing.assert_close(w @ G, d, rtol=rtol, atol=rtol * float(G.abs().max()))


def assert_permutation_invariant(aggregate, G: Tensor, seed: int = 0, rtol: float = 1e-7) -> None:
    """Permuting the tasks does not change the direction: A(PG) = A(G)."""
    perm = torch.randperm(G.shape[0], generator=torch.Generator().manual_seed(seed))
    d1, d2 = aggregate(G), aggregate(G[perm])
    torch.testing.assert_close(d2, d1, rtol=rtol, atol=rtol * float(d1.abs().max()))


def assert_positively_homogeneous(aggregate, G: Tensor, c: float = 7.0, rtol: float = 1e-7) -> None:
    """Scaling all gradients by c > 0 scales the direction by c: A(cG) = c A(G)."""
    d1, d2 = aggregate(G), aggregate(c * G)
    torch.testing.assert_close(d2, c * d1, rtol=rtol, atol=rtol * c * float(d1.abs().max()))


def assert_reset_reproduces(method, run, seed: int = 0) -> None:
    """A stateful or random method depends only on its seed and inputs: after ``reset(seed)`` the
    same calls give bit-identical outputs. ``run(method)`` makes the calls and returns tensors."""
    method.reset(seed)
    first = run(method)
    method.reset(seed)
    second = run(method)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        torch.testing.assert_close(a, b, rtol=0.0, atol=0.0)
