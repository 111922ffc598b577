"""IMTL-G: the update with equal projections on every task gradient."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from torch import Tensor

from paretokit.methods._base import GramianWeighting


class IMTLG(GramianWeighting):
    """IMTL-G: Liu et al., "Towards Impartial Multi-task Learning", ICLR 2021,
    https://openreview.net/forum?id=IMPnRXEWpvr.

    The direction d = Σ_k w_k g_k with Σ_k w_k = 1 whose projections on all unit task
    gradients are equal: ``g_kᵀd / ‖g_k‖ = const``. From the Gramian A = GGᵀ this reads
    ``Aw = λ n`` with n_k = ‖g_k‖, so ``w = A⁻¹n / 1ᵀA⁻¹n`` (the paper's closed form
    α = g_1Uᵀ(DUᵀ)⁻¹ is the same solution written with differences of gradients). Weights may
    be negative, as in the paper.

    ``feature_level`` defaults to True: the paper applies IMTL-G to the gradients of the
    shared representation, and Nash-MTL's experiments did likewise (they report it worse on
    the shared parameters).

    Degenerate input: zero task gradients get weight 0 (no direction to project on); for
    linearly dependent gradients (singular A) w uses the least-squares (pseudo-inverse)
    solution of Aw ∝ n; when 1ᵀA⁺n = 0 (no such normalized combination exists) the weights
    are those of the mean, 1/K.
    """

    name: ClassVar[str] = "imtl"
    summary: ClassVar[str] = "IMTL-G: equal projection of the update on every unit task gradient"
    citation: ClassVar[str] = "Liu et al., Towards Impartial Multi-task Learning, ICLR 2021"

    def __init__(self, n_tasks: int, *, seed: int = 0, feature_level: bool = True) -> None:
        super().__init__(n_tasks, seed=seed, feature_level=feature_level)

    def _array_weights(self, A: np.ndarray, losses: Tensor | None) -> np.ndarray:
        n, live = self.live_rows(A)
        w = np.zeros(A.shape[0])
        if live.size:
            C = self.scale_free(A, n, live)  # scale-free: w_k = x_k / n_k
            x = np.linalg.lstsq(C, np.ones(live.size), rcond=None)[0]
            wl = x / n[live]
            total = wl.sum()
            w[live] = wl / total if abs(total) > 1e-300 else 1.0 / live.size
        return w
