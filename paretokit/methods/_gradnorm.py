"""GradNorm: learnable loss weights that equalize the task gradient norms at set rates."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import GradientAggregation


class GradNorm(GradientAggregation):
    """GradNorm (Chen, Badrinarayanan, Lee & Rabinovich, ICML 2018, Alg. 1,
    https://arxiv.org/abs/1711.02257).

    Learnable task weights ``w`` (K, initialised to 1, trained by the model's optimizer through
    :meth:`parameters`). Each step, with ``g_i`` the rows of ``G``:

    * ``G_i = w_i ‖g_i‖`` and ``Ḡ = mean_i G_i``;
    * ``L̃_i = L_i / L_i(0)`` (``L_i(0)``: the first losses seen after :meth:`reset`) and the
      relative inverse training rate ``r_i = L̃_i / mean_j L̃_j``;
    * the gradient-norm loss ``L_grad = Σ_i |G_i − Ḡ · r_i^α|`` with the target ``Ḡ · r_i^α``
      held constant (as the paper prescribes), so ``∂L_grad/∂w_i = sign(G_i − target_i) ‖g_i‖``
      (subgradient 0 where ``G_i`` equals its target). :meth:`combine` writes that into
      ``w.grad``; the optimizer step then updates ``w``, and :meth:`after_step` renormalizes
      ``w ← K w / Σ_j w_j`` as the paper does after every update.

    The direction is ``wᵀG`` with the weights before the update (returned as the weights).
    ``alpha`` is the paper's asymmetry α (1.5, its most used value; 0 equalizes the norms).

    The paper measures ``‖∇_W w_i L_i‖`` on the last shared layer W only, to save backward
    passes; here the norms are those of the rows of the given ``G`` (all shared parameters,
    which the engine already has), which is the same rule on a larger W.

    ``w`` keeps its identity across :meth:`reset` (refilled with ones in place) and moves to the
    device and dtype of ``G`` at the first step of a run, before the optimizer creates state.
    The weights are not clipped: as in the paper, a weight can become ≤ 0 transiently, after
    which ``sign(G_i − target_i) = −1`` pushes it back up.

    Degenerate input: a zero gradient row gives its weight a zero gradient. Losses that are
    negative, NaN or inf, a first loss ``L_i(0) = 0``, or all current losses 0 (``r`` is 0/0)
    raise :class:`~paretokit.errors.MethodError`, as does ``Σ_j w_j ≤ 0`` at renormalization.
    """

    name: ClassVar[str] = "gradnorm"
    summary: ClassVar[str] = "learnable weights that balance task gradient norms to training rates"
    citation: ClassVar[str] = (
        "Chen, Badrinarayanan, Lee & Rabinovich, GradNorm: Gradient Normalization for Adaptive "
        "Loss Balancing in Deep Multitask Networks, ICML 2018, https://arxiv.org/abs/1711.02257"
    )
    needs_losses: ClassVar[bool] = True

    def __init__(self, n_tasks: int, *, seed: int = 0, alpha: float = 1.5) -> None:
        super().__init__(n_tasks, seed=seed)
        if not (isinstance(alpha, int | float) and math.isfinite(alpha) and alpha >= 0):
            raise MethodError(f"gradnorm: alpha must be a finite number ≥ 0, got {alpha!r}")
        self.alpha = float(alpha)
        self.task_weights = torch.ones(n_tasks, dtype=torch.float64, requires_grad=True)
        self.initial_losses: Tensor | None = None

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        with torch.no_grad():
            self.task_weights.fill_(1.0)
        self.task_weights.grad = None
        self.initial_losses = None

    def parameters(self) -> list[Tensor]:
        return [self.task_weights]

    def _combine(self, G: Tensor, losses: Tensor | None) -> tuple[Tensor, Tensor]:
        assert losses is not None
        w = self._step(G.norm(dim=1), losses)
        return w @ G, w

    def gramian_weights(self, gramian: Tensor, losses: Tensor | None = None) -> Tensor:
        """The same step from the Gramian: ``‖g_i‖ = sqrt(A_ii)``."""
        if losses is None:
            raise MethodError("gradnorm needs the task losses: call with losses=")
        diag = torch.diagonal(gramian)
        if not torch.isfinite(diag).all() or (diag < 0).any():
            raise MethodError("gradnorm: the Gramian's diagonal must be finite and ≥ 0")
        return self._step(diag.sqrt(), losses)

    def _step(self, norms: Tensor, losses: Tensor) -> Tensor:
        losses = losses.detach().to(norms)
        if losses.shape != (self.n_tasks,):
            raise MethodError(
                f"gradnorm: expected {self.n_tasks} task losses, got shape {tuple(losses.shape)}"
            )
        if not torch.isfinite(losses).all() or (losses < 0).any():
            raise MethodError(
                f"gradnorm: task losses must be finite and ≥ 0, got {losses.tolist()}"
            )
        if self.initial_losses is None:
            if (losses <= 0).any():
                raise MethodError(
                    f"gradnorm: the first losses L_i(0) must be > 0 (they divide), got {losses.tolist()}"
                )
            self.initial_losses = losses.clone()
        rel = losses / self.initial_losses.to(norms)
        if not rel.sum() > 0:
            raise MethodError("gradnorm: all task losses are 0: the training rates r_i are 0/0")
        r = rel / rel.mean()
        p = self.task_weights
        if p.device != norms.device or p.dtype != norms.dtype:
            p.data = p.data.to(device=norms.device, dtype=norms.dtype)
            p.grad = None
        w = p.detach().clone()
        gw = w * norms
        target = gw.mean() * r.pow(self.alpha)
        p.grad = torch.sign(gw - target) * norms
        return w

    def after_step(self, new_losses: Tensor | None) -> None:
        """Renormalize the weights to sum to K after the optimizer updated them."""
        with torch.no_grad():
            total = self.task_weights.sum()
            if not total > 0:
                raise MethodError(
                    f"gradnorm: the task weights sum to {float(total):.3g} ≤ 0 and cannot be "
                    "renormalized to sum K; lower the learning rate"
                )
            self.task_weights.mul_(self.n_tasks / total)
