"""MetaBalance: rescale auxiliary gradients towards the main task's gradient magnitude."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import GradientAggregation, check_task_index

STRATEGIES = ("both", "reduce", "enlarge")


class MetaBalance(GradientAggregation):
    """MetaBalance (He et al., WWW 2022, https://arxiv.org/abs/2203.06801).

    Task ``main_task`` is the main task m; every other task is auxiliary. Moving averages of
    the gradient norms, ``n_k ← β n_k + (1 − β) ‖g_k‖`` (``beta``, paper/official 0.9; ``n``
    starts at 0 after :meth:`reset`, as in the official code), set each auxiliary gradient's
    scale

        g_k ← (n_m / n_k · r + (1 − r)) g_k,

    with the relax factor r (``relax_factor``, official default 0.7; r = 1 matches the main
    task's magnitude, r = 0 leaves the gradient as is). The direction is ``wᵀG`` with
    ``w_m = 1`` and those scales as the auxiliary weights. ``strategy`` is the paper's choice
    of when to rescale: ``"reduce"`` only when ``n_k > n_m``, ``"enlarge"`` only when
    ``n_k < n_m``, ``"both"`` always. The default is ``"both"`` because it is what the official
    implementation (facebookresearch/MetaBalance) does: it rescales unconditionally.

    The official optimizer works per parameter tensor; here the norms are those of the rows of
    the given G (all shared parameters at once, or the representation), which the engine
    provides. Only the norms are needed (the Gramian's diagonal).

    Degenerate input: an auxiliary task whose moving average ``n_k`` is 0 has had only zero
    gradients so far, this step's included; its weight is taken as ``1 − r`` and its zero row
    leaves the direction unchanged. With ``n_m = 0`` every rescaled auxiliary weight is ``1 − r``.
    """

    name: ClassVar[str] = "metabalance"
    summary: ClassVar[str] = "auxiliary gradient norms relaxed towards the main task's (EMA)"
    citation: ClassVar[str] = (
        "He, Feng, Cheng, Ji, Guo & Caverlee, MetaBalance: Improving Multi-Task Recommendations "
        "via Adapting Gradient Magnitudes of Auxiliary Tasks, WWW 2022, "
        "https://arxiv.org/abs/2203.06801"
    )

    def __init__(
        self,
        n_tasks: int,
        *,
        seed: int = 0,
        main_task: int = 0,
        relax_factor: float = 0.7,
        beta: float = 0.9,
        strategy: str = "both",
    ) -> None:
        super().__init__(n_tasks, seed=seed)
        check_task_index("metabalance", main_task, n_tasks)
        if not (isinstance(relax_factor, int | float) and 0.0 <= relax_factor <= 1.0):
            raise MethodError(f"metabalance: relax_factor must be in [0, 1], got {relax_factor!r}")
        if not (isinstance(beta, int | float) and 0.0 <= beta < 1.0):
            raise MethodError(f"metabalance: beta must be in [0, 1), got {beta!r}")
        if strategy not in STRATEGIES:
            raise MethodError(
                f"metabalance: unknown strategy {strategy!r}; known: {', '.join(STRATEGIES)}"
            )
        self.main_task = main_task
        self.relax_factor = float(relax_factor)
        self.beta = float(beta)
        self.strategy = strategy
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.norm_averages = torch.zeros(self.n_tasks, dtype=torch.float64)

    def _combine(self, G: Tensor, losses: Tensor | None) -> tuple[Tensor, Tensor]:
        w = self._step(G.norm(dim=1)).to(G)
        return w @ G, w

    def gramian_weights(self, gramian: Tensor, losses: Tensor | None = None) -> Tensor:
        diag = torch.diagonal(gramian)
        if diag.shape != (self.n_tasks,) or not torch.isfinite(diag).all() or (diag < 0).any():
            raise MethodError(
                "metabalance: expected a K×K Gramian with a finite non-negative diagonal"
            )
        return self._step(diag.sqrt()).to(gramian)

    def _step(self, norms: Tensor) -> Tensor:
        n = self.beta * self.norm_averages + (1.0 - self.beta) * norms.detach().to(
            "cpu", torch.float64
        )
        self.norm_averages = n
        m = self.main_task
        ratio = torch.where(n > 0, n[m] / torch.where(n > 0, n, 1.0), 0.0)
        scaled = self.relax_factor * ratio + (1.0 - self.relax_factor)
        if self.strategy == "both":
            apply = torch.ones(self.n_tasks, dtype=torch.bool)
        elif self.strategy == "reduce":
            apply = n > n[m]
        else:
            apply = n < n[m]
        w = torch.where(apply, scaled, 1.0)
        w[m] = 1.0
        return w
