"""DWA: Dynamic Weight Average, loss weights from each task's recent rate of descent."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import LossWeighting


class DynamicWeightAverage(LossWeighting):
    """Dynamic Weight Average (Liu, Johns & Davison, CVPR 2019,
    https://arxiv.org/abs/1803.10704).

    With ``L_k(t)`` task k's mean training loss over epoch t, the weights for epoch t are

        w_k(t) = K · exp(r_k(t−1) / T) / Σ_i exp(r_i(t−1) / T),   r_k(t−1) = L_k(t−1) / L_k(t−2),

    and ``w_k = 1`` for the first two epochs (no ratio yet). ``temperature`` is T (paper: 2);
    a larger T makes the weights more uniform. The weights sum to K and stay fixed within an
    epoch; the engine reports the epoch means through :meth:`epoch_end`.

    Degenerate input: an epoch mean loss that is ≤ 0, NaN or inf raises
    :class:`~paretokit.errors.MethodError` in :meth:`epoch_end` (it would be the denominator
    of the next ratio). The current step's losses are not used, only their shape is checked.
    """

    name: ClassVar[str] = "dwa"
    summary: ClassVar[str] = "dynamic weight average: weights from each task's epoch-loss ratio"
    citation: ClassVar[str] = (
        "Liu, Johns & Davison, End-to-End Multi-Task Learning with Attention, CVPR 2019, "
        "https://arxiv.org/abs/1803.10704"
    )

    def __init__(self, n_tasks: int, *, seed: int = 0, temperature: float = 2.0) -> None:
        super().__init__(n_tasks, seed=seed)
        if not (
            isinstance(temperature, int | float) and math.isfinite(temperature) and temperature > 0
        ):
            raise MethodError(f"dwa: temperature must be a finite number > 0, got {temperature!r}")
        self.temperature = float(temperature)
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.epoch_losses: list[Tensor] = []  # the last two epoch means, oldest first
        self._epoch_weights = torch.ones(self.n_tasks, dtype=torch.float64)

    def epoch_end(self, mean_losses: Tensor) -> None:
        m = mean_losses.detach().to("cpu", torch.float64)
        if m.shape != (self.n_tasks,):
            raise MethodError(
                f"dwa: expected {self.n_tasks} epoch losses, got shape {tuple(m.shape)}"
            )
        if not torch.isfinite(m).all() or (m <= 0).any():
            raise MethodError(
                f"dwa: epoch mean losses must be finite and > 0 (their ratios weight the tasks), "
                f"got {m.tolist()}"
            )
        self.epoch_losses = [*self.epoch_losses[-1:], m]
        if len(self.epoch_losses) == 2:
            r = self.epoch_losses[1] / self.epoch_losses[0]
            self._epoch_weights = self.n_tasks * torch.softmax(r / self.temperature, dim=0)

    def _weights(self, losses: Tensor) -> Tensor:
        return self._epoch_weights.to(dtype=losses.dtype, device=losses.device)
