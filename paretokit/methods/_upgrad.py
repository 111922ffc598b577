"""UPGrad: the mean of the task gradients projected onto their dual cone."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from torch import Tensor

from paretokit.methods._base import GramianWeighting
from paretokit.methods._solvers import nnqp_many


class UPGrad(GramianWeighting):
    """UPGrad: Quinton & Rey, "Jacobian Descent for Multi-Objective Optimization", 2024,
    https://arxiv.org/abs/2406.16232 (TorchJD's UPGrad).

    Each task gradient g_i is projected onto the dual cone of the rows of G, {d : Gd ≥ 0}; in
    weight space the projection is ``Gᵀv_i`` with ``v_i = argmin_{v ≥ e_i} vᵀAv`` (A = GGᵀ),
    and the update is their mean, weights ``(1/K) Σ_i v_i``. Each v_i is a nonnegative QP
    solved exactly (active set) in scale-free coordinates; unlike TorchJD we add no
    regularization to A. The result never conflicts with a task gradient (Gd ≥ 0).

    Degenerate input: a zero task gradient g_i gets v_i = e_i (it contributes nothing) and is
    left out of the other projections' QPs, where it imposes no constraint.
    """

    name: ClassVar[str] = "upgrad"
    summary: ClassVar[str] = "mean of the gradients projected onto their dual cone (exact QPs)"
    citation: ClassVar[str] = (
        "Quinton & Rey, Jacobian Descent for Multi-Objective Optimization, 2024, arXiv:2406.16232"
    )

    def __init__(self, n_tasks: int, *, seed: int = 0, feature_level: bool = False) -> None:
        super().__init__(n_tasks, seed=seed, feature_level=feature_level)
        self._supports: np.ndarray | None = None  # warm starts of the K QPs (K, K) bool

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self._supports = None

    def _array_weights(self, A: np.ndarray, losses: Tensor | None) -> np.ndarray:
        k = A.shape[0]
        n, live = self.live_rows(A)
        total = np.zeros(k)
        dead = np.setdiff1d(np.arange(k), live)
        total[dead] += 1.0  # v_i = e_i for zero gradients
        if live.size:
            nl = n[live]
            C = self.scale_free(A, n, live)
            # v_i = D⁻¹ n_i (e_j + μ_j), μ_j = argmin_{μ ≥ 0} ½μᵀCμ + C[:, j]ᵀμ (row j of MU)
            warm = self._supports
            if warm is not None and warm.shape != C.shape:
                warm = None
            MU = nnqp_many(C, C, warm, name="upgrad")  # C is symmetric: row j = column j
            self._supports = MU > 0
            V = MU + np.eye(live.size)
            total[live] += (nl @ V) / nl
        return total / k
