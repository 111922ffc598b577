"""User problems with mistakes a user makes, loaded through ``--problem tests.bad_problems:…``."""

from __future__ import annotations

from paretokit.problems import TaskSpec
from tests.user_problem import TwoLines


class UnknownMetric(TwoLines):
    def available_tasks(self):
        return [TaskSpec("a", "mse", "f1", False), TaskSpec("b", "mse", "mae", False)]


def unknown_metric(tasks=None):
    return UnknownMetric(tasks)
