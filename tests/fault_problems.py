"""Problems for the fault tests (``--problem tests.fault_problems:slow`` etc.).

``slow``: every training step sleeps ``PARETOKIT_TEST_STEP_SECONDS`` (default 0); with
``PARETOKIT_TEST_HOLD=N:PATH`` the process's N-th training run (0-based) creates the file PATH at
its first training step and then waits there until the process is killed or interrupted, so a
test can wait for that event (the file) instead of racing a timer. ``first_run_diverges``: the first training run
in a process has an infinite loss, the later ones train normally.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from paretokit.problems import MultiTaskModel, Problem
from tests.user_problem import TwoLines


class Slow(TwoLines):
    name = "slow"

    def __init__(self, tasks=None) -> None:
        super().__init__(tasks)
        self.runs = 0

    def build_model(self) -> MultiTaskModel:
        self.runs += 1
        return super().build_model()

    def losses(self, outputs, y):
        if torch.is_grad_enabled():  # training steps only, not the evaluation
            time.sleep(float(os.environ.get("PARETOKIT_TEST_STEP_SECONDS", "0")))
            run, _, path = os.environ.get("PARETOKIT_TEST_HOLD", "").partition(":")
            if path and self.runs - 1 == int(run):
                Path(path).touch()
                while True:  # until the test kills or interrupts this process
                    time.sleep(0.05)
        return super().losses(outputs, y)


class FirstRunDiverges(TwoLines):
    name = "flaky"

    def __init__(self, tasks=None) -> None:
        super().__init__(tasks)
        self.builds = 0

    def build_model(self) -> MultiTaskModel:
        self.builds += 1
        return super().build_model()

    def losses(self, outputs, y):
        losses = super().losses(outputs, y)
        return losses * float("inf") if self.builds == 1 else losses


def slow(tasks=None) -> Problem:
    return Slow(tasks)


def first_run_diverges(tasks=None) -> Problem:
    return FirstRunDiverges(tasks)
