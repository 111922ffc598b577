"""RLW: random loss weighting, a fresh random point of the simplex each step."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import LossWeighting

DISTRIBUTIONS = ("normal", "dirichlet")


class RandomLossWeighting(LossWeighting):
    """Random Loss Weighting (Lin et al., TMLR 2022, https://arxiv.org/abs/2111.10603).

    Each step draws new weights on the simplex, independent of the losses:

    * ``distribution="normal"`` (default): ``w = softmax(z)``, ``z ~ N(0, I_K)``, the
      variant of the RLW paper that Nash-MTL (Navon et al., ICML 2022) compares against;
    * ``distribution="dirichlet"``: ``w ~ Dirichlet(1, …, 1)``, uniform on the simplex, drawn
      as ``e / Σ e`` with ``e_k = −log u_k``, ``u ~ U(0, 1)`` (standard exponentials).

    Draws come from the method's seeded CPU generator in float64 (same seed ⇒ same weights on
    every device), then are cast to the losses' dtype and device. One draw per call: the
    engine calls :meth:`loss` once per step.

    Degenerate input: the weights do not depend on the loss values, so NaN/inf losses still
    get well-defined weights (the engine reports the diverged run).
    """

    name: ClassVar[str] = "rlw"
    summary: ClassVar[str] = "random loss weights each step: softmax of a standard normal draw"
    citation: ClassVar[str] = (
        "Lin, Ye, Zhang & Tsang, Reasonable Effectiveness of Random Weighting: A Litmus Test "
        "for Multi-Task Learning, TMLR 2022, https://arxiv.org/abs/2111.10603"
    )

    def __init__(self, n_tasks: int, *, seed: int = 0, distribution: str = "normal") -> None:
        super().__init__(n_tasks, seed=seed)
        if distribution not in DISTRIBUTIONS:
            raise MethodError(
                f"rlw: unknown distribution {distribution!r}; known: {', '.join(DISTRIBUTIONS)}"
            )
        self.distribution = distribution

    def _weights(self, losses: Tensor) -> Tensor:
        k = self.n_tasks
        if self.distribution == "normal":
            z = torch.randn(k, generator=self.generator, dtype=torch.float64)
            w = torch.softmax(z, dim=0)
        else:
            # 1 - u lies in (0, 1]: −log stays finite.
            u = torch.rand(k, generator=self.generator, dtype=torch.float64)
            e = -torch.log1p(-u)
            w = e / e.sum()
        return w.to(dtype=losses.dtype, device=losses.device)
