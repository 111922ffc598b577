"""Longer checks, deselected by default: ``pytest -m slow`` (CPU, minutes), ``pytest -m gpu``."""

from __future__ import annotations

import pytest
import torch

from paretokit.methods import get_method
from paretokit.problems import get_problem
from paretokit.train import RunConfig, train_run


def mean_predictor_metrics(problem, split) -> list[float]:
    """Each task's metric for predicting 0 in model space (the train mean of a standardized
    target): the bar a trained model must clear."""
    zeros = [torch.zeros(len(split), 1) for _ in range(problem.n_tasks)]
    return problem.metrics(zeros, split.y)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ls", "nashmtl"])
def test_qm9_one_epoch_beats_the_mean_predictor(method):
    problem = get_problem("qm9", tasks=3)
    val = problem.splits()["val"]
    baseline = mean_predictor_metrics(problem, val)
    cfg = RunConfig(epochs=1, batch_size=256, lr=1e-3, seed=0, device=torch.device("cpu"))
    result = train_run(problem, get_method(method, 3), cfg)
    for ours, bar in zip(result.metrics["val"], baseline):
        assert ours < 0.8 * bar  # MAE, lower is better


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("method", ["ls", "nashmtl", "mgda"])
def test_cuda_same_seed_same_numbers(method):
    problem = get_problem("multidigits")
    cfg = RunConfig(epochs=2, batch_size=128, lr=1e-3, seed=0, device=torch.device("cuda"))
    r1 = train_run(problem, get_method(method, 2), cfg)
    r2 = train_run(problem, get_method(method, 2), cfg)
    assert r1.metrics == r2.metrics and r1.losses == r2.losses
    assert all(0.1 < a <= 1.0 for a in r1.metrics["test"])
