"""PCGrad: project each task gradient off the normal planes of those it conflicts with."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from paretokit.methods._base import GradientAggregation


class PCGrad(GradientAggregation):
    """Projecting Conflicting Gradients (Yu et al., NeurIPS 2020, Alg. 1,
    https://arxiv.org/abs/2001.06782).

    For each task i, starting from ``g_i^pc = g_i`` and going through the other tasks j in a
    random order (a fresh uniform permutation per i and per step, from the method's seeded
    generator): if ``g_i^pc · g_j < 0``, project ``g_i^pc ← g_i^pc − (g_i^pc · g_j) / ‖g_j‖² g_j``.
    The direction is the paper's sum ``Σ_i g_i^pc``.

    Every projection only needs inner products, so the method tracks coefficients
    ``g_i^pc = Σ_j C_ij g_j`` on the Gramian (K×K work) and forms the direction with one
    ``(Σ_i C_i)ᵀ G``. The direction is a combination of the rows but not PCGrad's weighting of
    the tasks (the heads keep their own gradients), so ``has_weights`` is False;
    :meth:`projected_gradients` gives the K projected gradients themselves.

    Degenerate input: a zero gradient ``g_j`` conflicts with nothing and is skipped (no
    division by ``‖g_j‖² = 0``); all-zero ``G`` gives a zero direction. For K = 2 the result
    conflicts with neither task; for K > 2 PCGrad gives no such guarantee.
    """

    name: ClassVar[str] = "pcgrad"
    summary: ClassVar[str] = "gradient surgery: project away conflicting components, then sum"
    citation: ClassVar[str] = (
        "Yu, Kumar, Gupta, Levine, Hausman & Finn, Gradient Surgery for Multi-Task Learning, "
        "NeurIPS 2020, https://arxiv.org/abs/2001.06782"
    )
    has_weights: ClassVar[bool] = False

    def _combine(self, G: Tensor, losses: Tensor | None) -> tuple[Tensor, None]:
        coef = self._coefficients(G @ G.T).sum(dim=0)
        return coef.to(G) @ G, None

    def projected_gradients(self, G: Tensor) -> Tensor:
        """The projected task gradients ``g_i^pc`` (K, D) of one step (draws new orders)."""
        self._check_input(G, None)
        self.step_count += 1
        return self._coefficients(G @ G.T).to(G) @ G

    def _coefficients(self, gramian: Tensor) -> Tensor:
        """C (K, K) with ``g_i^pc = Σ_j C_ij g_j``: Alg. 1 on the Gramian, all i at once."""
        A = gramian.detach().to("cpu", torch.float64).numpy()
        k = A.shape[0]
        # Row i of ``order``: the other tasks in uniformly random order (i sorts last).
        keys = torch.rand(k, k, generator=self.generator, dtype=torch.float64)
        keys.fill_diagonal_(2.0)
        order = keys.argsort(dim=1)[:, : k - 1].numpy()
        C = np.eye(k)
        rows = np.arange(k)
        sq_norms = np.diagonal(A)
        for s in range(k - 1):
            j = order[:, s]
            dots = (C * A[j]).sum(axis=1)  # g_i^pc · g_j for each i
            nj = sq_norms[j]
            project = (dots < 0) & (nj > 0)
            C[rows[project], j[project]] -= dots[project] / nj[project]
        return torch.from_numpy(C)
