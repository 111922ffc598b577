"""Fixed loss weights: the sweep's scalarization, linear scalarization (LS) and STL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import LossWeighting


class FixedWeights(LossWeighting):
    """Linear scalarization with given weights on the simplex: ``L = Σ_k w_k L_k``.

    Used by ``paretokit sweep`` for each sampled point of the weight simplex. Not listed as a
    method of its own: :class:`LinearScalarization` and :class:`SingleTask` are its named uses.
    """

    summary: ClassVar[str] = "fixed loss weights w on the simplex"
    citation: ClassVar[str] = "Boyd & Vandenberghe, Convex Optimization, 2004, §4.7"

    def __init__(self, n_tasks: int, *, seed: int = 0, weights: Sequence[float] = ()) -> None:
        super().__init__(n_tasks, seed=seed)
        w = torch.as_tensor(list(weights), dtype=torch.float64)
        if w.shape != (n_tasks,):
            raise MethodError(f"expected {n_tasks} weights, got {len(w)}")
        if not torch.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise MethodError(f"weights must be finite, ≥ 0 and not all 0: {w.tolist()}")
        self.weights_ = w / w.sum()

    def _weights(self, losses: Tensor) -> Tensor:
        return self.weights_.to(losses.dtype)


class LinearScalarization(FixedWeights):
    """Linear scalarization with equal weights, ``L = (1/K) Σ_k L_k``: the simplex centre.

    Nash-MTL's experiments (Navon et al., ICML 2022, §6) minimise ``Σ_k L_k``; with Adam the two
    differ only through Adam's ε, and 1/K makes LS a point of the same simplex that the sweep
    samples, so the two are directly comparable.
    """

    name: ClassVar[str] = "ls"
    summary: ClassVar[str] = "linear scalarization with equal weights 1/K"
    citation: ClassVar[str] = (
        "Navon et al., Multi-Task Learning as a Bargaining Game, ICML 2022 (baseline LS)"
    )

    def __init__(self, n_tasks: int, *, seed: int = 0) -> None:
        super().__init__(n_tasks, seed=seed, weights=[1.0] * n_tasks)


class SingleTask(FixedWeights):
    """Single-task learning (STL) for task ``task``: the simplex vertex ``w = e_task``.

    With a shared trunk and one head per task, training on ``L_task`` alone updates only the
    trunk and head ``task``: exactly an independent single-task network of the same
    architecture. ``paretokit compare`` runs one such run per task (the K simplex vertices)
    and reads task k's metric from run k: the STL baseline of Δm%.
    """

    name: ClassVar[str] = "stl"
    summary: ClassVar[str] = "single-task baselines: one run per task (the simplex vertices)"
    citation: ClassVar[str] = (
        "Navon et al., ICML 2022 (baseline STL); Maninis et al., CVPR 2019 (Δm)"
    )

    def __init__(self, n_tasks: int, *, seed: int = 0, task: int = 0) -> None:
        if not 0 <= task < n_tasks:
            raise MethodError(f"stl: task index {task} out of range for {n_tasks} tasks")
        self.task = task
        super().__init__(n_tasks, seed=seed, weights=[float(k == task) for k in range(n_tasks)])
