"""A tiny user-defined problem, loaded through ``--problem tests.user_problem:make`` in tests."""

from __future__ import annotations

import torch
from torch import nn

from paretokit.problems import Problem, Split, TaskSpec, TrainDefaults


class TwoLines(Problem):
    """Two linear regression targets on shared inputs; the second conflicts with the first."""

    name = "twolines"
    summary = "two conflicting linear targets (tests)"
    source = "generated"
    defaults = TrainDefaults(epochs=2, batch_size=32, lr=1e-2)

    def __init__(self, tasks=None, blow_up: bool = False) -> None:
        self.blow_up = blow_up
        super().__init__(tasks)

    def available_tasks(self):
        return [
            TaskSpec("a", "mse", "mae", False, unit="eV"),  # a unit that looks like markup
            TaskSpec("b", "mse", "mae", False),
            TaskSpec("c", "cross_entropy", "accuracy", True, n_classes=2),
        ]

    def _load_splits(self):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(400, 6, generator=g)
        a = x[:, 0] + 0.1 * torch.randn(400, generator=g)
        b = x[:, 1] - x[:, 0]
        c = (x[:, 2] > 0).float()
        if self.blow_up:
            a = a * float("inf")
        y = torch.stack([a, b, c], 1)
        return {
            "train": Split(x[:300], y[:300]),
            "val": Split(x[300:350], y[300:350]),
            "test": Split(x[350:], y[350:]),
        }

    def build_trunk(self):
        return nn.Sequential(nn.Linear(6, 16), nn.Tanh()), 16

    def losses(self, outputs, y):
        # classification column is stored as float in y; the base casts per task
        return super().losses(outputs, y)


def make(tasks=None) -> Problem:
    return TwoLines(tasks)


def make_diverging(tasks=None) -> Problem:
    return TwoLines(tasks, blow_up=True)


def not_a_problem(tasks=None) -> object:
    return 42
