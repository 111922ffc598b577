"""SI: scale-invariant loss, the sum of the log task losses."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from paretokit.methods._base import LossWeighting


class ScaleInvariant(LossWeighting):
    """Scale-invariant loss ``L = Σ_k log L_k`` (SI, the baseline of Navon et al., ICML 2022,
    https://arxiv.org/abs/2202.01017).

    Its gradient is ``Σ_k ∇L_k / L_k``: the linear scalarization with the detached weights
    ``w_k = 1 / L_k``, so multiplying any task loss by a constant does not change the update.
    :meth:`weights` returns those ``1 / L_k``; :meth:`loss` returns ``Σ_k log L_k`` itself
    (same gradient, a meaningful value).

    Degenerate input: ``log L_k`` needs ``L_k > 0``. A loss ≤ 0, NaN or inf raises
    :class:`~paretokit.errors.MethodError` (no ε is added: an ε would silently cap the weight
    of a task whose loss reaches 0).
    """

    name: ClassVar[str] = "si"
    summary: ClassVar[str] = "scale-invariant loss Σ log L_k (weights 1/L_k)"
    citation: ClassVar[str] = (
        "Navon, Shamsian, Achituve, Maron, Kawaguchi, Chechik & Fetaya, Multi-Task Learning as "
        "a Bargaining Game, ICML 2022 (baseline SI), https://arxiv.org/abs/2202.01017"
    )

    def _weights(self, losses: Tensor) -> Tensor:
        self._check_losses(losses, "positive", " (it takes log L_k)")
        return 1.0 / losses

    def _loss(self, losses: Tensor, weights: Tensor) -> Tensor:
        return torch.log(losses).sum()
