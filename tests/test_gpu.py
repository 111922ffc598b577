"""CUDA checks (``pytest -m gpu``, run by bench/gpu.sh on a GPU machine): ``--population
auto`` sizes a population from the device's memory and trains it, and the same seed on the
same device gives the same numbers for a single run, a population, and a whole sweep."""

from __future__ import annotations

import json

import pytest
import torch

from paretokit.methods._fixed import FixedWeights
from paretokit.problems import get_problem
from paretokit.results import read_results
from paretokit.study import SweepConfig, run_sweep
from paretokit.train import RunConfig, auto_population_size, train_population, train_run

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def cuda_config(epochs: int = 2) -> RunConfig:
    return RunConfig(epochs=epochs, batch_size=128, lr=1e-3, seed=0, device=torch.device("cuda"))


def test_population_auto_fits_the_device_and_trains():
    """The probe gives 1 ≤ P ≤ the limit, and a population of that size trains to finite
    metrics whose members equal their sequential runs (same batches, own weights)."""
    problem = get_problem("multidigits")
    cfg = cuda_config(epochs=1)
    p = auto_population_size(problem, cfg, limit=64)
    assert 1 <= p <= 64
    weights = [[i / max(p - 1, 1), 1 - i / max(p - 1, 1)] for i in range(p)]
    results = train_population(problem, weights, cfg)
    assert len(results) == p
    one = train_run(problem, FixedWeights(2, weights=weights[-1]), cfg)
    for ours, alone in zip(results[-1].metrics["val"], one.metrics["val"]):
        assert ours == pytest.approx(alone, rel=1e-4, abs=1e-6)


def test_sweep_population_auto_records_its_size(tmp_path):
    out = tmp_path / "r.parquet"
    config = SweepConfig(
        problem="multidigits",
        trials=4,
        epochs=1,
        seeds=2,
        out=out,
        device="cuda",
        population="auto",
        storage=f"sqlite:///{tmp_path / 's.db'}",
    )
    outcome = run_sweep(config)
    assert outcome.complete == 4 and outcome.population >= 1
    options = [json.loads(o) for o in read_results(out).frame["options"]]
    assert all(1 <= o["population"] <= outcome.population for o in options)


def test_cuda_population_same_seed_same_numbers():
    problem = get_problem("multidigits")
    cfg = cuda_config()
    weights = [[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]]
    a = train_population(problem, weights, cfg)
    b = train_population(problem, weights, cfg)
    assert [r.metrics for r in a] == [r.metrics for r in b]
    assert [r.losses for r in a] == [r.losses for r in b]


def test_cuda_sweep_same_seed_same_rows(tmp_path):
    frames = []
    for side in ("a", "b"):
        out = tmp_path / side / "r.parquet"
        out.parent.mkdir()
        config = SweepConfig(
            problem="multidigits",
            trials=3,
            epochs=1,
            seeds=2,
            out=out,
            device="cuda",
            population=3,
            storage=f"sqlite:///{out.parent / 's.db'}",
        )
        run_sweep(config)
        frame = read_results(out).frame.sort_values(["run_id", "split"]).reset_index(drop=True)
        frames.append(frame.filter(regex=r"^(run_id|split|w\.|metric\.|loss\.)"))
    assert frames[0].equals(frames[1])
