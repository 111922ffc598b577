"""Checkpoints: ``last`` and ``best`` (the epoch with the best mean normalized validation
metric), in single runs, populations, sweeps and compare, recorded per row and in the setting."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from paretokit.compare import CompareConfig, run_compare
from paretokit.errors import ParetokitError
from paretokit.methods import get_method
from paretokit.methods._fixed import FixedWeights
from paretokit.problems import Split
from paretokit.results import RunRecord, append_results, read_results
from paretokit.study import SweepConfig, results_meta, run_sweep
from paretokit.train import RunConfig, checkpoint_score, train_population, train_run
from tests.user_problem import TwoLines

USER = "tests.user_problem:make"
CPU = torch.device("cpu")
EPOCHS = 8


class Overfits(TwoLines):
    """40 noisy training rows and a wide trunk: the validation metrics improve, then worsen."""

    def _load_splits(self):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(300, 6, generator=g)
        a = x[:, 0] + torch.randn(300, generator=g)
        b = x[:, 1] - x[:, 0] + torch.randn(300, generator=g)
        c = (x[:, 2] + 0.5 * torch.randn(300, generator=g) > 0).float()
        y = torch.stack([a, b, c], 1)
        return {
            "train": Split(x[:40], y[:40]),
            "val": Split(x[40:170], y[40:170]),
            "test": Split(x[170:], y[170:]),
        }

    def build_trunk(self):
        return nn.Sequential(nn.Linear(6, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh()), 128


def cfg(checkpoint: str, epochs: int = EPOCHS, seed: int = 0) -> RunConfig:
    return RunConfig(epochs, 8, 0.01, seed, CPU, checkpoint=checkpoint)


def test_checkpoint_score_is_the_mean_direction_aware_relative_change():
    # task 1 lower is better: 2 → 1.5 is +25%; task 2 higher is better: 0.5 → 0.4 is −20%
    assert checkpoint_score([1.5, 0.4], [2.0, 0.5], [False, True]) == pytest.approx(0.025)
    assert checkpoint_score([2.0, 0.5], [2.0, 0.5], [False, True]) == 0.0
    assert checkpoint_score([0.5], [0.0], [True]) == 0.5  # |m(1)| = 0 counts as 1
    assert checkpoint_score([math.nan, 0.4], [2.0, 0.5], [False, True]) == -math.inf


def test_best_is_the_run_stopped_at_the_best_scoring_epoch():
    """Epochs 1…e of a longer run are exactly a run of e epochs (same seed, same data order),
    so the best checkpoint of an 8-epoch run must equal the `last` run of its chosen epoch,
    and that epoch must maximize the score over the 8 truncated runs."""
    problem = Overfits(tasks=3)
    hib = [t.higher_is_better for t in problem.tasks]
    best = train_run(problem, get_method("ls", 3), cfg("best"))
    truncated = [
        train_run(problem, get_method("ls", 3), cfg("last", e)) for e in range(1, EPOCHS + 1)
    ]
    first = truncated[0].metrics["val"]
    scores = [checkpoint_score(r.metrics["val"], first, hib) for r in truncated]
    assert best.checkpoint == "best" and best.epoch == int(np.argmax(scores)) + 1
    assert 1 < best.epoch < EPOCHS  # the case is not trivial: neither the first nor the last
    chosen = truncated[best.epoch - 1]
    assert best.metrics == chosen.metrics and best.losses == chosen.losses
    assert len(best.epoch_losses) == EPOCHS  # it trained all epochs
    last = train_run(problem, get_method("ls", 3), cfg("last"))
    assert last.epoch == EPOCHS and last.metrics == truncated[-1].metrics


def test_population_members_choose_their_own_best_epoch():
    problem = Overfits(tasks=3)
    weights = [[1.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.2, 0.2, 3.0]]
    members = train_population(problem, weights, cfg("best"))
    for w, member in zip(weights, members):
        run = train_run(problem, FixedWeights(3, weights=w), cfg("best"))
        assert member.epoch == run.epoch
        for split in ("val", "test"):
            np.testing.assert_allclose(member.metrics[split], run.metrics[split], rtol=1e-4)
    assert len({m.epoch for m in members}) > 1  # each member its own epoch


def test_unknown_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(ParetokitError, match="checkpoint must be 'last' or 'best'"):
        train_run(TwoLines(tasks=2), get_method("ls", 2), cfg("first"))
    with pytest.raises(ParetokitError, match="checkpoint must be"):
        run_sweep(SweepConfig(problem=USER, checkpoint="good", out=tmp_path / "r.parquet"))


def test_sweep_and_compare_record_the_checkpoint_in_rows_setting_and_ids(tmp_path):
    base = dict(problem=USER, tasks="2", epochs=3, lr=0.2, device="cpu", out=tmp_path / "r.parquet")
    storage = f"sqlite:///{tmp_path / 's.db'}"
    best = run_sweep(SweepConfig(**base, trials=1, seeds=1, checkpoint="best", storage=storage))
    last = run_sweep(SweepConfig(**base, trials=1, seeds=1, storage=storage))
    assert best.study_name == last.study_name + "-best"
    run_compare(CompareConfig(["ls"], seeds=1, checkpoint="best", **base))
    run_compare(CompareConfig(["ls"], seeds=1, **base))
    frame = read_results(tmp_path / "r.parquet").frame
    assert frame.groupby("checkpoint")["kind"].value_counts().to_dict() == {
        ("best", "sweep"): 2, ("best", "method"): 2, ("best", "stl"): 4,
        ("last", "sweep"): 2, ("last", "method"): 2, ("last", "stl"): 4,
    }  # fmt: skip
    assert frame["run_id"].nunique() == len(frame) // 2  # best and last runs never share an id
    epochs = [json.loads(o).get("checkpoint_epoch") for o in frame["options"]]
    assert all((e is not None) == (c == "best") for e, c in zip(epochs, frame["checkpoint"]))
    assert all(1 <= e <= 3 for e in epochs if e is not None)


def test_files_without_the_checkpoint_column_read_as_last(tmp_path):
    problem = TwoLines(tasks=2)
    meta = results_meta(problem)
    record = RunRecord("s", problem.name, "r1", "sweep", "sweep", 0, problem.task_names, 1, 32,
                       0.1, "cpu", weights=[0.5, 0.5], metrics={"val": [1, 2], "test": [1, 2]},
                       losses={"val": [1, 2], "test": [1, 2]})  # fmt: skip
    path = tmp_path / "r.parquet"
    append_results(path, record.rows(), meta)
    frame = read_results(path).frame.drop(columns="checkpoint")  # as an older version wrote it
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({b"paretokit": meta.to_json()})
    pq.write_table(table, path)
    assert list(read_results(path).frame["checkpoint"]) == ["last", "last"]
    record2 = replace(record, run_id="r2", checkpoint="best")
    append_results(path, record2.rows(), meta)
    frame = read_results(path).frame
    pd.testing.assert_series_equal(
        frame["checkpoint"].reset_index(drop=True),
        pd.Series(
            ["last", "last", "best", "best"], name="checkpoint", dtype=frame["checkpoint"].dtype
        ),
    )
