"""UPGrad: the mean of the task gradients projected onto their dual cone."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from paretokit.methods._base import GradientAggregation
from paretokit.methods._solvers import gramian_array, nnqp_many


class UPGrad(GradientAggregation):
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

    def __init__(self, n_tasks: int, *, seed: int = 0) -> None:
        super().__init__(n_tasks, seed=seed)
        self._supports: np.ndarray | None = None  # warm starts of the K QPs (K, K) bool

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self._supports = None

    def gramian_weights(self, gramian: Tensor, losses: Tensor | None = None) -> Tensor:
        A = gramian_array(gramian)
        k = A.shape[0]
        n = np.sqrt(np.maximum(np.diag(A), 0.0))
        live = np.flatnonzero(n > 1e-150 * max(1.0, float(n.max())))
        total = np.zeros(k)
        dead = np.setdiff1d(np.arange(k), live)
        total[dead] += 1.0  # v_i = e_i for zero gradients
        if live.size:
            nl = n[live]
            C = A[np.ix_(live, live)] / np.outer(nl, nl)
            # v_i = D⁻¹ n_i (e_j + μ_j), μ_j = argmin_{μ ≥ 0} ½μᵀCμ + C[:, j]ᵀμ (row j of MU)
            warm = self._supports
            if warm is not None and warm.shape != C.shape:
                warm = None
            MU = nnqp_many(C, C, warm, name="upgrad")  # C is symmetric: row j = column j
            self._supports = MU > 0
            V = MU + np.eye(live.size)
            total[live] += (nl @ V) / nl
        return torch.as_tensor(total / k, dtype=gramian.dtype, device=gramian.device)
