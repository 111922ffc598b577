"""GradDrop: per coordinate, keep only the task gradients of one randomly chosen sign."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import GradientAggregation


class GradDrop(GradientAggregation):
    """Gradient Sign Dropout (Chen et al., NeurIPS 2020, Alg. 1, https://arxiv.org/abs/2010.06808).

    Per coordinate c of the task gradients ``g_i`` (rows of G):

    * the sign purity ``P_c = ½ (1 + Σ_i g_ic / Σ_i |g_ic|)`` ∈ [0, 1];
    * ``U_c ~ U(0, 1)`` (the method's seeded generator, drawn in float64);
    * mask ``M_ic = 1[P_c > U_c] · 1[g_ic > 0] + 1[P_c < U_c] · 1[g_ic < 0]``: the positive
      gradients survive with probability P_c, else the negative ones;
    * direction ``d_c = Σ_i (ℓ + (1 − ℓ) M_ic) g_ic`` with the leak ℓ (``leak``, paper default
      0: pure sign dropout; 1: plain sum). The paper allows one leak per task; one shared
      value is offered here.

    The monotone function f of the paper is the identity (its choice in all experiments).
    ``feature_level=True`` (default, as in the paper) applies GradDrop to the gradients with
    respect to the shared representation (the engine's ``gradient_target = "representation"``);
    ``False`` applies it to the shared-parameter gradients. The paper's optional
    "batch-separated" variant (summing ``sign(A) ∘ ∇_A L_i`` over the batch before computing P)
    needs the activations A, which a method does not see: here every coordinate of the
    flattened per-example representation gradient is its own coordinate.

    The direction is not a combination ``wᵀG`` (``has_weights`` False).

    Degenerate input: a coordinate where every ``g_ic = 0`` gives ``d_c = 0`` (P is set to ½
    there, which does not matter); ``P_c = U_c`` exactly drops both signs (probability 0).
    """

    name: ClassVar[str] = "graddrop"
    summary: ClassVar[str] = "gradient sign dropout: per coordinate keep one sign, chosen by purity"
    citation: ClassVar[str] = (
        "Chen, Ngiam, Huang, Luong, Kretzschmar, Chai & Anguelov, Just Pick a Sign: Optimizing "
        "Deep Multitask Models with Gradient Sign Dropout, NeurIPS 2020, "
        "https://arxiv.org/abs/2010.06808"
    )
    has_weights: ClassVar[bool] = False

    def __init__(
        self, n_tasks: int, *, seed: int = 0, leak: float = 0.0, feature_level: bool = True
    ) -> None:
        super().__init__(n_tasks, seed=seed)
        if not (isinstance(leak, int | float) and math.isfinite(leak) and 0.0 <= leak <= 1.0):
            raise MethodError(f"graddrop: leak must be a number in [0, 1], got {leak!r}")
        if not isinstance(feature_level, bool):
            raise MethodError(
                f"graddrop: feature_level must be true or false, got {feature_level!r}"
            )
        self.leak = float(leak)
        self.feature_level = feature_level
        self.gradient_target = "representation" if feature_level else "parameters"

    def _combine(self, G: Tensor, losses: Tensor | None) -> tuple[Tensor, None]:
        total = G.sum(dim=0)
        mass = G.abs().sum(dim=0)
        purity = 0.5 * (1.0 + torch.where(mass > 0, total / torch.where(mass > 0, mass, 1.0), 0.0))
        u = torch.rand(G.shape[1], generator=self.generator, dtype=torch.float64)
        u = u.to(device=G.device, dtype=G.dtype)
        keep = ((purity > u) & (G > 0)) | ((purity < u) & (G < 0))
        if self.leak == 0.0:
            d = torch.where(keep, G, 0.0).sum(dim=0)
        else:
            d = ((self.leak + (1.0 - self.leak) * keep.to(G.dtype)) * G).sum(dim=0)
        return d, None
