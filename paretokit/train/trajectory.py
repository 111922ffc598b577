"""A run's path during training, thinned: for problems whose parameters are a handful of
numbers (``toy``: the point x ∈ R²), where a figure can show the path in parameter space.

A :class:`Recorder` takes, at every ``every``-th step (steps 0, every, 2·every, …; ``every``
chosen so that at most ``points`` of them fall in the run), each member's flattened trainable
parameters *before* the step and the task losses that step computed at them, and at the end
the final parameters with their losses: so point i is a pair (θ_t, L(θ_t)) exactly. The
results file stores the subset of these points that draws the same path
(:func:`paretokit.results.trajectory_json`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


class Recorder:
    """The thinned path of P members over ``total_steps`` steps (see the module docstring)."""

    def __init__(self, n_members: int, total_steps: int, points: int) -> None:
        self.every = max(1, math.ceil(total_steps / max(points, 1)))
        self.steps: list[int] = []
        self._losses: list[Tensor] = []  # (P, K) each
        self._positions: list[Tensor] = []  # (P, D) each
        self.n_members = n_members

    def due(self, step: int) -> bool:
        return step % self.every == 0

    def add(self, step: int, positions: Tensor, losses: Tensor) -> None:
        """Record step ``step``: positions (P, D) and the losses at them (P, K)."""
        self.steps.append(step)
        self._positions.append(positions.detach().to("cpu", torch.float64))
        self._losses.append(losses.detach().to("cpu", torch.float64))

    def member(self, m: int) -> dict[str, list]:
        """Member ``m``'s path: {"step": [...], "loss": [[L_1, …], …], "x": [[θ_1, …], …]}."""
        return {
            "step": list(self.steps),
            "loss": [row[m].tolist() for row in self._losses],
            "x": [row[m].tolist() for row in self._positions],
        }


def flat_positions(params: list[Tensor], n_members: int) -> Tensor:
    """The members' trainable parameters flattened into rows (P, D); ``params`` hold the
    members stacked first (P, …) (for one model: its parameters, and P = 1)."""
    return torch.cat([p.detach().reshape(n_members, -1) for p in params], dim=1)
