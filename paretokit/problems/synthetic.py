"""Synthetic regression tasks with a controllable correlation and loss scale.

The generator of Ma et al., "Modeling Task Relationships in Multi-task Learning with Multi-gate
Mixture-of-Experts" (KDD 2018), §4.1, extended from 2 to K tasks:

1. unit task directions w_1..w_K ∈ R^d with pairwise cosine ``correlation`` ρ: the rows of a
   factor of the K×K matrix (1 − ρ)I + ρ11ᵀ, embedded in R^d by a random orthonormal basis;
2. x ~ N(0, I_d);
3. y_k = w_kᵀx + Σ_{i=1..m} sin(α_i w_kᵀx + β_i) + ε_k, α_i, β_i ~ N(0, 1) shared by all tasks,
   ε_k ~ N(0, 0.01) (variance), m = 10;
4. each target divided by its train standard deviation (all tasks start on the same scale).

The paper shows that lower ρ makes the tasks harder to learn together. ``scale_spread`` s sets
the loss-scale imbalance: the i-th selected task (0-based, in selection order, K selected)
has its training targets multiplied by s^(i/(K−1)), so its MSE scale is s^(2i/(K−1)): the first
selected task keeps scale 1, the last one gets s; s = 1 (default) means equal scales. Metrics
are reported as MAE on the unscaled targets (``TaskSpec.scale`` undoes the factor), so runs
with different spreads are comparable.

The problem has a fixed number of available tasks ``t1``…``t32`` (fewer when ρ < 0, since K
unit vectors can have pairwise cosine ρ only if ρ ≥ −1/(K−1)); the first N of them, or any
subset, have the same pairwise structure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from paretokit.errors import ProblemError
from paretokit.problems._base import Problem, Split, TaskSpec, TrainDefaults

MAX_TASKS = 32
INPUT_DIM = 100
N_SINES = 10
NOISE_STD = 0.1  # ε ~ N(0, 0.01)
HIDDEN = 64


def max_tasks(correlation: float) -> int:
    """How many unit vectors can have pairwise cosine ``correlation`` (capped at 32)."""
    if correlation >= 0:
        return MAX_TASKS
    return min(MAX_TASKS, int(math.floor(1.0 - 1.0 / correlation + 1e-9)))


def task_directions(
    n_tasks: int, correlation: float, dim: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_tasks, dim) unit vectors with pairwise cosine ``correlation``."""
    gram = (1.0 - correlation) * np.eye(n_tasks) + correlation * np.ones((n_tasks, n_tasks))
    eigval, eigvec = np.linalg.eigh(gram)
    factor = eigvec * np.sqrt(np.clip(eigval, 0.0, None))  # factor @ factor.T == gram
    basis, _ = np.linalg.qr(rng.standard_normal((dim, n_tasks)))  # orthonormal columns
    return factor @ basis.T


def generate(
    n_samples: int, correlation: float, n_tasks: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n_samples, 100) and raw targets (n_samples, n_tasks), per Ma et al. §4.1."""
    rng = np.random.default_rng(seed)
    w = task_directions(n_tasks, correlation, INPUT_DIM, rng)
    alpha, beta = rng.standard_normal(N_SINES), rng.standard_normal(N_SINES)
    x = rng.standard_normal((n_samples, INPUT_DIM))
    z = x @ w.T  # (n, K): w_kᵀx
    y = z + np.sin(z[..., None] * alpha + beta).sum(-1)
    y += NOISE_STD * rng.standard_normal(y.shape)
    return x, y


class Synthetic(Problem):
    """MMoE-style synthetic regression (Ma et al. 2018, §4.1) with K tasks.

    Options: ``correlation`` ρ ∈ [−1, 1] (pairwise cosine of the task directions),
    ``scale_spread`` s > 0 (loss-scale imbalance, see the module docstring), ``n_samples``
    (split 80/10/10 into train/val/test) and ``seed`` (the data, not the run). Loss: MSE;
    metric: MAE in unscaled target units.
    """

    name = "synthetic"
    summary = "MMoE-style synthetic regression: K tasks, controllable correlation and loss scale"
    source = "generated (seeded) as in Ma et al., KDD 2018, §4.1 (MMoE)"
    defaults = TrainDefaults(epochs=20, batch_size=64, lr=2e-3)
    default_n_tasks = 3

    def __init__(
        self,
        tasks: int | str | Sequence[str] | None = None,
        correlation: float = 0.5,
        scale_spread: float = 1.0,
        n_samples: int = 10_000,
        seed: int = 0,
    ) -> None:
        if not -1.0 <= correlation <= 1.0:
            raise ProblemError(f"synthetic: correlation must be in [-1, 1], got {correlation}")
        if not scale_spread > 0 or not math.isfinite(scale_spread):
            raise ProblemError(
                f"synthetic: scale_spread must be a positive number, got {scale_spread}"
            )
        if n_samples < 100:
            raise ProblemError(f"synthetic: n_samples must be at least 100, got {n_samples}")
        self.correlation = float(correlation)
        self.scale_spread = float(scale_spread)
        self.n_samples = int(n_samples)
        self.seed = int(seed)
        self._n_available = max_tasks(self.correlation)
        self._factors = np.ones(self._n_available)
        if tasks is None:  # ρ < 0 may allow fewer tasks than the default 3
            tasks = min(self.default_n_tasks or MAX_TASKS, self._n_available)
        super().__init__(tasks)
        k = self.n_tasks
        for position, index in enumerate(self.task_indices):
            self._factors[index] = self.scale_spread ** (position / (k - 1))
        self._all = tuple(self.available_tasks())

    def available_tasks(self) -> list[TaskSpec]:
        return [
            TaskSpec(
                f"t{i + 1}", "mse", "mae", False, "",
                f"synthetic regression task {i + 1} (target scale {self._factors[i]:.3g})",
                float(1.0 / self._factors[i]),
            )
            for i in range(self._n_available)
        ]  # fmt: skip

    def _load_splits(self) -> dict[str, Split]:
        x, y = generate(self.n_samples, self.correlation, self._n_available, self.seed)
        n_val = n_test = self.n_samples // 10
        n_train = self.n_samples - n_val - n_test
        y = y / y[:n_train].std(axis=0) * self._factors
        bounds = {
            "train": (0, n_train),
            "val": (n_train, n_train + n_val),
            "test": (n_train + n_val, None),
        }
        return {
            name: Split(
                torch.from_numpy(x[a:b].astype(np.float32)),
                torch.from_numpy(y[a:b].astype(np.float32)),
            )
            for name, (a, b) in bounds.items()
        }

    def build_trunk(self) -> tuple[nn.Module, int]:
        trunk = nn.Sequential(
            nn.Linear(INPUT_DIM, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU()
        )
        return trunk, HIDDEN

    def describe(self) -> dict[str, object]:
        return {
            **super().describe(),
            "correlation": self.correlation,
            "scale_spread": self.scale_spread,
            "n_samples": self.n_samples,
            "seed": self.seed,
        }
