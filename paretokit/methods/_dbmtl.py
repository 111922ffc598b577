"""DB-MTL: log-loss gradients, smoothed, rescaled to the largest task gradient norm."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import GradientAggregation


class DualBalancing(GradientAggregation):
    """Dual-Balancing Multi-Task Learning (Lin et al., 2023, Alg. 1,
    https://arxiv.org/abs/2308.12029).

    Loss-scale balancing: each task is trained on ``log L_k``, whose gradient is ``g_k / L_k``.
    Gradient-magnitude balancing: an exponential moving average of those gradients,

        ĝ_k ← β_t ĝ_k + (1 − β_t) g_k / L_k,   β_t = β / t^σ   (t = 1, 2, … steps since reset),

    with ``ĝ = 0`` after :meth:`reset` and no bias correction (as in the official LibMTL code),
    and the direction

        d = Σ_k (max_j ‖ĝ_j‖ / ‖ĝ_k‖) ĝ_k,

    every smoothed task gradient rescaled to the largest norm. ``beta`` is β (0.9) and
    ``beta_sigma`` is σ (0.5 here; note that LibMTL's command-line default is σ = 0, a constant
    β). The direction combines the moving averages, not the rows of this step's G, so
    ``has_weights`` is False. The buffer ĝ is (K, D) in G's dtype and device.

    Degenerate input: ``log L_k`` needs ``L_k > 0``; a loss ≤ 0, NaN or inf raises
    :class:`~paretokit.errors.MethodError` (the official code adds 1e-8 instead). A task whose
    ĝ_k is 0 (all its gradients so far zero) contributes nothing; all-zero ĝ gives d = 0.
    A change of D, dtype or device between steps raises :class:`MethodError` (call
    :meth:`reset` for a new run).
    """

    name: ClassVar[str] = "dbmtl"
    summary: ClassVar[str] = "dual balancing: log losses, EMA gradients scaled to the largest norm"
    citation: ClassVar[str] = (
        "Lin, Jiang, Ye, Zhang, Chen, Chen, Liu & Kwok, Dual-Balancing for Multi-Task "
        "Learning, arXiv 2023, https://arxiv.org/abs/2308.12029"
    )
    has_weights: ClassVar[bool] = False
    needs_losses: ClassVar[bool] = True

    def __init__(
        self, n_tasks: int, *, seed: int = 0, beta: float = 0.9, beta_sigma: float = 0.5
    ) -> None:
        super().__init__(n_tasks, seed=seed)
        if not (isinstance(beta, int | float) and 0.0 <= beta < 1.0):
            raise MethodError(f"dbmtl: beta must be in [0, 1), got {beta!r}")
        if not (
            isinstance(beta_sigma, int | float) and math.isfinite(beta_sigma) and beta_sigma >= 0
        ):
            raise MethodError(f"dbmtl: beta_sigma must be a finite number ≥ 0, got {beta_sigma!r}")
        self.beta = float(beta)
        self.beta_sigma = float(beta_sigma)
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.buffer: Tensor | None = None

    def _combine(self, G: Tensor, losses: Tensor | None) -> tuple[Tensor, None]:
        assert losses is not None
        self._check_losses(losses, "positive", " (it takes log L_k)")
        if self.buffer is None:
            self.buffer = torch.zeros_like(G)
        elif (
            self.buffer.shape != G.shape
            or self.buffer.dtype != G.dtype
            or self.buffer.device != G.device
        ):
            raise MethodError(
                f"dbmtl: G changed from {tuple(self.buffer.shape)} {self.buffer.dtype} on "
                f"{self.buffer.device} to {tuple(G.shape)} {G.dtype} on {G.device} without reset()"
            )
        t = self.step_count + 1
        beta_t = self.beta / t**self.beta_sigma
        log_grads = G / losses.detach().to(G)[:, None]
        self.buffer = beta_t * self.buffer + (1.0 - beta_t) * log_grads
        norms = self.buffer.norm(dim=1)
        unit = torch.where(norms > 0, 1.0 / torch.where(norms > 0, norms, 1.0), 0.0)
        d = norms.max() * (unit @ self.buffer)
        return d, None
