"""MGDA: the minimum-norm point of the convex hull of the task gradients."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import GramianWeighting

NORMALIZATIONS = ("none", "l2", "loss", "loss+")


class MGDA(GramianWeighting):
    """Multiple-gradient descent (Désidéri 2012) as multi-task learning: Sener & Koltun,
    "Multi-Task Learning as Multi-Objective Optimization", NeurIPS 2018,
    https://arxiv.org/abs/1810.04650.

    Weights ``w* = argmin_{w ∈ Δ} ‖Σ_k w_k ĝ_k‖² = argmin_{w ∈ Δ} wᵀÂw`` with ĝ_k = g_k / n_k
    (the normalization of the official code: ``none`` n_k = 1, ``l2`` n_k = ‖g_k‖, ``loss``
    n_k = L_k, ``loss+`` n_k = L_k ‖g_k‖), and direction ``d = Σ_k w*_k ĝ_k``, i.e. the
    returned weights are ``w*_k / n_k`` applied to the raw gradients. Solved exactly by an
    active-set method (the paper's Frank–Wolfe iterations only approximate it); at the
    optimum ``ĝ_kᵀd ≥ ‖d‖² ≥ 0`` for every task: no task gradient conflicts with d.

    ``feature_level=True`` is MGDA-UB (the paper's upper bound): G is the gradient with
    respect to the shared representation instead of the shared parameters.

    Degenerate input: at a Pareto-stationary point (0 in the hull) the direction is 0;
    a zero task gradient makes the min-norm point 0 (weight 1 on that task, d = 0); with
    ``l2``/``loss+`` a zero gradient keeps n_k = 1 (it has no direction to normalize).
    """

    name: ClassVar[str] = "mgda"
    summary: ClassVar[str] = "minimum-norm convex combination of task gradients (exact)"
    citation: ClassVar[str] = (
        "Sener & Koltun, Multi-Task Learning as Multi-Objective Optimization, NeurIPS 2018, "
        "arXiv:1810.04650"
    )

    def __init__(
        self,
        n_tasks: int,
        *,
        seed: int = 0,
        feature_level: bool = False,
        normalization: str = "none",
    ) -> None:
        super().__init__(n_tasks, seed=seed, feature_level=feature_level)
        if normalization not in NORMALIZATIONS:
            raise MethodError(f"mgda: normalization must be one of {NORMALIZATIONS}")
        self.normalization = normalization
        self.needs_losses = normalization in ("loss", "loss+")

    def _array_weights(self, A: np.ndarray, losses: Tensor | None) -> np.ndarray:
        n = self._norms(A, losses)
        w, _ = self.hull_weights(A / np.outer(n, n))
        return w / n

    def _norms(self, A: np.ndarray, losses: Tensor | None) -> np.ndarray:
        k = A.shape[0]
        gnorm = np.sqrt(np.maximum(np.diag(A), 0.0))
        gnorm = np.where(gnorm > 0, gnorm, 1.0)
        if self.normalization == "none":
            return np.ones(k)
        if self.normalization == "l2":
            return gnorm
        if losses is None:
            raise MethodError(f"mgda: normalization={self.normalization!r} needs the losses")
        L = losses.detach().double().cpu().numpy()
        if not np.all(np.isfinite(L)) or np.any(L <= 0):
            raise MethodError("mgda: loss normalization needs finite positive losses")
        return L if self.normalization == "loss" else L * gnorm
