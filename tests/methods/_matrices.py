"""Families of task-gradient matrices G (K, D) that method tests are parametrized over."""

from __future__ import annotations

import torch
from torch import Tensor


def typical(k: int, d: int = 50, seed: int = 0) -> Tensor:
    """Gaussian rows: generic position, mild conflicts."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(k, d, generator=g, dtype=torch.float64)


def badly_scaled(k: int, d: int = 50, seed: int = 0) -> Tensor:
    """Rows with norms spread log-uniformly over 1e-3 … 1e3 (ill-conditioned Gramian)."""
    g = torch.Generator().manual_seed(seed)
    G = torch.randn(k, d, generator=g, dtype=torch.float64)
    G = G / G.norm(dim=1, keepdim=True)
    return G * torch.logspace(-3, 3, k, dtype=torch.float64)[:, None]


def conflicting(k: int, d: int = 50, seed: int = 0) -> Tensor:
    """Rows sharing a common direction plus strong conflicting parts (negative cosines)."""
    g = torch.Generator().manual_seed(seed)
    common = torch.randn(d, generator=g, dtype=torch.float64)
    return 0.3 * common + 2.0 * torch.randn(k, d, generator=g, dtype=torch.float64)


def near_duplicate(k: int, d: int = 50, seed: int = 0) -> Tensor:
    """Two tasks whose gradients differ by 1e-6 relative; the rest generic."""
    G = typical(k, d, seed)
    G[1] = G[0] * (1 + 1e-6) + 1e-6 * G[1]
    return G


def rank_deficient(k: int, d: int = 50, seed: int = 0) -> Tensor:
    """K rows spanning only a (K//2 + 1)-dimensional subspace, not Pareto-stationary."""
    g = torch.Generator().manual_seed(seed)
    r = k // 2 + 1
    basis = torch.randn(r, d, generator=g, dtype=torch.float64)
    coef = (
        torch.rand(k, r, generator=g, dtype=torch.float64) + 0.1
    )  # positive: a shared descent side
    return coef @ basis


def wide_k(k: int, d: int = 200, seed: int = 0) -> Tensor:
    """More tasks than usual relative to D: K up to 20 on D=200."""
    return typical(k, d, seed)


FAMILIES = {
    "typical": typical,
    "badly_scaled": badly_scaled,
    "conflicting": conflicting,
    "near_duplicate": near_duplicate,
    "rank_deficient": rank_deficient,
}
KS = (2, 3, 5, 10, 20)
