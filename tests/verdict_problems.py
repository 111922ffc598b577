"""Small ``synthetic`` instances for the end-to-end verdict tests, loaded through
``--problem tests.verdict_problems:instanceN`` (each N its own generated data)."""

from __future__ import annotations

from paretokit.problems.synthetic import Synthetic


def _make(seed: int, tasks=None) -> Synthetic:
    return Synthetic(tasks=tasks, n_samples=1000, seed=seed)


def instance1(tasks=None) -> Synthetic:
    return _make(1, tasks)


def instance2(tasks=None) -> Synthetic:
    return _make(2, tasks)


def instance3(tasks=None) -> Synthetic:
    return _make(3, tasks)
