"""FAMO: fast adaptive multitask optimization, loss weights that equalize log-loss decrease."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import LossWeighting


class FAMO(LossWeighting):
    """Fast Adaptive Multitask Optimization (Liu, Feng, Stone & Liu, NeurIPS 2023, Alg. 1,
    https://arxiv.org/abs/2306.03792).

    State: task logits ξ (K, zero after :meth:`reset`), ``z = softmax(ξ)``. With
    ``D_i = L_i − L_i*`` (``min_losses`` L*, default 0: the paper assumes losses bounded below
    by known minima and subtracts them), the update direction is

        Σ_i z_i ∇log D_i / Σ_j (z_j / D_j),   i.e. the weights  w_i = c z_i / D_i,  c = 1 / Σ_j z_j / D_j,

    which :meth:`weights` returns (they sum to 1). After the optimizer step, :meth:`after_step`
    receives the losses re-evaluated on the same batch and updates the logits with the log-loss
    decreases ``δ_i = log D_i(before) − log D_i(after)``: the gradient of ``Σ_i z_i(ξ) δ_i``
    through the softmax, ``Jᵀδ = z ⊙ (δ − zᵀδ)``, plus the decay ``γ ξ``, goes through the
    logits' own Adam (``w_lr``, paper/official 0.025; β = (0.9, 0.999), ε = 1e-8, PyTorch
    defaults as in the official code), exactly as the official implementation does with
    ``torch.optim.Adam(lr=w_lr, weight_decay=gamma)``. Tasks whose log-loss fell less get
    larger logits. ``gamma`` is γ: the official code's default is 0.01 (its stand-alone
    ``famo.py``) and its QM9 script uses 0.001, the value taken here because QM9 is this
    project's main benchmark.

    The official code adds 1e-8 to every ``D_i``; here ``D_i`` must be > 0 instead (the
    difference only matters for losses within ~1e-8 of their minimum). The official training
    scripts also clip the shared gradient norm to 1: that is the engine's business, not the
    method's, and is not done here.

    Degenerate input: ``D_i ≤ 0``, NaN or inf (before or after the step) raises
    :class:`~paretokit.errors.MethodError`, as does :meth:`after_step` without post-step losses
    or without a preceding :meth:`weights` call.
    """

    name: ClassVar[str] = "famo"
    summary: ClassVar[str] = (
        "fast adaptive multitask optimization: logits balance log-loss decrease"
    )
    citation: ClassVar[str] = (
        "Liu, Feng, Stone & Liu, FAMO: Fast Adaptive Multitask Optimization, NeurIPS 2023, "
        "https://arxiv.org/abs/2306.03792"
    )
    needs_post_step_losses: ClassVar[bool] = True

    def __init__(
        self,
        n_tasks: int,
        *,
        seed: int = 0,
        w_lr: float = 0.025,
        gamma: float = 1e-3,
        min_losses: Sequence[float] = (),
    ) -> None:
        super().__init__(n_tasks, seed=seed)
        if not (isinstance(w_lr, int | float) and math.isfinite(w_lr) and w_lr > 0):
            raise MethodError(f"famo: w_lr must be a finite number > 0, got {w_lr!r}")
        if not (isinstance(gamma, int | float) and math.isfinite(gamma) and gamma >= 0):
            raise MethodError(f"famo: gamma must be a finite number ≥ 0, got {gamma!r}")
        mins = tuple(float(v) for v in min_losses)
        if mins and (len(mins) != n_tasks or not all(math.isfinite(v) for v in mins)):
            raise MethodError(
                f"famo: min_losses must be {n_tasks} finite numbers (or empty for 0), got {mins}"
            )
        self.w_lr = float(w_lr)
        self.gamma = float(gamma)
        self.min_losses = mins
        self._min = torch.tensor(mins if mins else [0.0] * n_tasks, dtype=torch.float64)
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.logits = torch.zeros(self.n_tasks, dtype=torch.float64, requires_grad=True)
        self._opt = torch.optim.Adam([self.logits], lr=self.w_lr, weight_decay=self.gamma)
        self._before: Tensor | None = None

    def _weights(self, losses: Tensor) -> Tensor:
        d = self._shifted(losses, "before the step")
        z = torch.softmax(self.logits.detach(), dim=0)
        w = (z / d) / (z / d).sum()
        self._before = d
        return w.to(dtype=losses.dtype, device=losses.device)

    def after_step(self, new_losses: Tensor | None) -> None:
        if new_losses is None:
            raise MethodError("famo: after_step needs the task losses re-evaluated after the step")
        if self._before is None:
            raise MethodError("famo: after_step without a preceding weights()/loss() call")
        after = self._shifted(new_losses, "after the step")
        delta = torch.log(self._before) - torch.log(after)
        z = torch.softmax(self.logits.detach(), dim=0)
        self._opt.zero_grad()
        self.logits.grad = z * (delta - z @ delta)
        self._opt.step()
        self._before = None

    def _shifted(self, losses: Tensor, when: str) -> Tensor:
        if losses.shape != (self.n_tasks,):
            raise MethodError(
                f"famo: expected {self.n_tasks} task losses, got shape {tuple(losses.shape)}"
            )
        d = losses.detach().to("cpu", torch.float64) - self._min
        if not torch.isfinite(d).all() or (d <= 0).any():
            raise MethodError(
                f"famo: task losses minus min_losses must be finite and > 0 ({when}), got {d.tolist()}"
            )
        return d
