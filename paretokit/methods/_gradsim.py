"""GradSim: use an auxiliary task's gradient only while it points with the main task's."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import GradientAggregation, check_task_index

VARIANTS = ("unweighted", "weighted")


class GradientSimilarity(GradientAggregation):
    """Gradient similarity for auxiliary losses (Du et al., 2018, https://arxiv.org/abs/1812.02224).

    Task ``main_task`` is the main task m; every other task is auxiliary. With
    ``cos_k = g_m · g_k / (‖g_m‖ ‖g_k‖)``, the direction is ``wᵀG`` with ``w_m = 1`` and, for
    each auxiliary task k,

    * ``variant="unweighted"`` (default): ``w_k = 1`` if ``cos_k > 0`` else 0 (the auxiliary
      gradient is added only while it does not point against the main one);
    * ``variant="weighted"``: ``w_k = max(cos_k, 0)``.

    The paper states the rule for one auxiliary task; with several, each is gated by its own
    cosine with the main task. Only the Gramian is needed.

    Degenerate input: when ``g_m`` or ``g_k`` is zero the cosine is undefined and is taken as
    0, so ``w_k = 0`` (a zero auxiliary gradient contributes nothing anyway; with a zero main
    gradient no auxiliary gradient is trusted and the direction is ``g_m = 0``).
    """

    name: ClassVar[str] = "gradsim"
    summary: ClassVar[str] = "auxiliary gradients gated by their cosine with the main task's"
    citation: ClassVar[str] = (
        "Du, Czarnecki, Jayakumar, Farajtabar, Pascanu & Lakshminarayanan, Adapting Auxiliary "
        "Losses Using Gradient Similarity, arXiv 2018, https://arxiv.org/abs/1812.02224"
    )

    def __init__(
        self, n_tasks: int, *, seed: int = 0, main_task: int = 0, variant: str = "unweighted"
    ) -> None:
        super().__init__(n_tasks, seed=seed)
        check_task_index("gradsim", main_task, n_tasks)
        if variant not in VARIANTS:
            raise MethodError(f"gradsim: unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
        self.main_task = main_task
        self.variant = variant

    def gramian_weights(self, gramian: Tensor, losses: Tensor | None = None) -> Tensor:
        m = self.main_task
        sq = torch.diagonal(gramian)
        if sq.shape != (self.n_tasks,) or (sq < 0).any():
            raise MethodError("gradsim: expected a K×K Gramian with a non-negative diagonal")
        denom = torch.sqrt(sq[m] * sq)
        cos = torch.where(denom > 0, gramian[m] / torch.where(denom > 0, denom, 1.0), 0.0)
        if self.variant == "unweighted":
            w = (cos > 0).to(gramian.dtype)
        else:
            w = cos.clamp_min(0.0)
        w[m] = 1.0
        return w
