"""UW: uncertainty weighting, learnable per-task log-variances (Kendall et al. 2018)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from paretokit.methods._base import LossWeighting


class UncertaintyWeighting(LossWeighting):
    """Uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018,
    https://arxiv.org/abs/1705.07115).

    Learnable log-variances ``s_k = log σ_k²`` (initialised to 0, trained by the model's
    optimizer: :meth:`parameters`) weight the task losses through

        loss(L) = Σ_k ½ e^{−s_k} L_k + ½ s_k,

    the paper's regression form, used for every task as in the Nash-MTL and LibMTL
    implementations. :meth:`weights` returns the current ``½ e^{−s_k}`` (detached). For fixed
    ``L_k > 0`` the loss is minimised at ``s_k* = log L_k`` (weight ``1 / (2 L_k)``).

    The tensor ``s`` keeps its identity across :meth:`reset` (it is zeroed in place); at the
    first step of a run it moves to the device and dtype of the losses, before the optimizer's
    first step creates its state, so it sits with the model's parameters.

    Degenerate input: NaN/inf losses raise :class:`~paretokit.errors.MethodError`; a negative
    loss too (the loss is then unbounded below in ``s_k``). ``L_k = 0`` is accepted: the
    optimum ``s_k* = −∞`` is approached, the weight grows without bound, as in the paper.
    """

    name: ClassVar[str] = "uw"
    summary: ClassVar[str] = "uncertainty weighting: learnable log-variances, ½e^{-s}L + ½s"
    citation: ClassVar[str] = (
        "Kendall, Gal & Cipolla, Multi-Task Learning Using Uncertainty to Weigh Losses for "
        "Scene Geometry and Semantics, CVPR 2018, https://arxiv.org/abs/1705.07115"
    )

    def __init__(self, n_tasks: int, *, seed: int = 0) -> None:
        super().__init__(n_tasks, seed=seed)
        self.log_vars = torch.zeros(n_tasks, dtype=torch.float64, requires_grad=True)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        with torch.no_grad():
            self.log_vars.zero_()
        self.log_vars.grad = None

    def parameters(self) -> list[Tensor]:
        return [self.log_vars]

    def _weights(self, losses: Tensor) -> Tensor:
        self._check_losses(losses, "nonnegative", " (½e^(-s)L + ½s is unbounded below for L < 0)")
        s = self.log_vars
        if s.device != losses.device or s.dtype != losses.dtype:
            s.data = s.data.to(device=losses.device, dtype=losses.dtype)
            s.grad = None
        return 0.5 * torch.exp(-s.detach())

    def _loss(self, losses: Tensor, weights: Tensor) -> Tensor:
        s = self.log_vars
        return (0.5 * torch.exp(-s) * losses + 0.5 * s).sum()
