"""Every registered method trains a real model end to end (float32 gradients, K = 5)."""

from __future__ import annotations

import math

import pytest
import torch

from paretokit.methods import get_method, method_names
from paretokit.problems import get_problem
from paretokit.train import RunConfig, train_run

K = 5


@pytest.fixture(scope="module")
def problem():
    return get_problem("synthetic", tasks=K)


@pytest.mark.parametrize("name", [n for n in method_names() if n != "stl"])
def test_method_trains_and_improves_on_the_untrained_loss(problem, name):
    opts = {"main_task": 0} if name in ("gradsim", "metabalance") else {}
    cfg = RunConfig(epochs=1, batch_size=64, lr=2e-3, seed=0, device=torch.device("cpu"))
    before = train_run(problem, get_method("ls", K), RunConfig(0, 64, 2e-3, 0, cfg.device))
    result = train_run(problem, get_method(name, K, **opts), cfg)
    assert result.steps == math.ceil(8000 / 64)
    assert all(math.isfinite(v) for v in result.metrics["test"])
    # one epoch must lower the mean validation loss below the untrained model's
    assert sum(result.losses["val"]) < sum(before.losses["val"])
