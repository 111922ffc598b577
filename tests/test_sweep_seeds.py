"""Seed-replicated sweeps: every weight vector trained with seeds 0 … S−1, paired with compare's
seeds, one row per (trial, seed, split), the seed mean as the objective, a trial as one unit."""

from __future__ import annotations

import json
import signal

import numpy as np
import optuna
import pytest
import torch

import paretokit.train.population as population_module
from paretokit.compare import CompareConfig, run_compare
from paretokit.errors import ParetokitError
from paretokit.methods import get_method
from paretokit.methods._fixed import FixedWeights
from paretokit.problems import Problem
from paretokit.results import read_results
from paretokit.study import SweepConfig, run_sweep
from paretokit.study.batch import Batch
from paretokit.train import RunConfig, train_run
from tests.user_problem import TwoLines

USER = "tests.user_problem:make"
CPU = torch.device("cpu")


class SeedOneDiverges(TwoLines):
    """Trains normally, except the runs seeded with 1 (the model is built right after seeding:
    ``torch.initial_seed()`` is the run's seed), whose losses are infinite."""

    name = "seed-one-diverges"

    def build_model(self):
        self.seed = torch.initial_seed()
        return super().build_model()

    def losses(self, outputs, y):
        losses = super().losses(outputs, y)
        return losses * float("inf") if getattr(self, "seed", 0) == 1 else losses


def seed_one_diverges(tasks=None) -> Problem:
    return SeedOneDiverges(tasks)


def config(tmp_path, **kw) -> SweepConfig:
    base = dict(
        problem=USER,
        tasks="2",
        trials=2,
        epochs=1,
        seeds=3,
        out=tmp_path / "r.parquet",
        device="cpu",
        storage=f"sqlite:///{tmp_path / 'studies.db'}",
    )
    return SweepConfig(**{**base, **kw})


def load(cfg: SweepConfig, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=cfg.storage)


def test_one_row_per_trial_seed_and_split_and_the_objective_is_the_seed_mean(tmp_path):
    cfg = config(tmp_path)
    out = run_sweep(cfg)
    assert (out.complete, out.new_trials) == (2, 2) and out.study_name.endswith("-s0-S3")
    frame = read_results(cfg.out).frame
    assert len(frame) == 2 * 3 * 2 and not frame.duplicated(["run_id", "split"]).any()
    assert frame.groupby("run_id")[["trial", "seed"]].nunique().eq(1).all().all()
    assert frame["run_id"].nunique() == 6
    for _, rows in frame.groupby("trial"):
        assert sorted(rows["seed"]) == [0, 0, 1, 1, 2, 2]
        assert rows[["w.a", "w.b"]].drop_duplicates().shape[0] == 1  # one weight vector
        assert {json.loads(o)["seeds"] for o in rows["options"]} == {3}
    metrics = frame[frame["split"] == "val"].groupby("trial")[["metric.a", "metric.b"]]
    for t in load(cfg, out.study_name).get_trials():
        np.testing.assert_allclose(t.values, metrics.mean().loc[t.number].to_numpy(), rtol=1e-12)
        # the seeds differ: the mean is not any single seed's value
        assert metrics.std().loc[t.number].to_numpy().min() > 0


def test_the_seeds_are_the_base_seed_and_the_next_ones(tmp_path):
    out = run_sweep(config(tmp_path, trials=1, seeds=2, seed=5))
    frame = read_results(out.out).frame
    assert sorted(frame["seed"].unique()) == [5, 6] and out.study_name.endswith("-s5-S2")


def test_seed_s_of_a_sweep_point_is_seed_s_of_compare(tmp_path):
    """The center of the K = 2 grid is w = (1/2, 1/2), equal-weight LS: seed s of that sweep
    point and seed s of `compare ls` are the same run, bit for bit."""
    cfg = config(tmp_path, trials=3, seeds=2, sampler="grid", grid_resolution=2, epochs=2)
    run_sweep(cfg)
    run_compare(CompareConfig(["ls"], problem=USER, tasks="2", seeds=2, epochs=2, out=cfg.out,
                              device="cpu"))  # fmt: skip
    frame = read_results(cfg.out).frame
    center = frame[(frame["kind"] == "sweep") & (frame["w.a"] == 0.5)]
    ls = frame[frame["method"] == "ls"]
    assert len(center) == len(ls) == 4
    cols = ["metric.a", "metric.b", "loss.a", "loss.b"]
    key = ["seed", "split"]
    np.testing.assert_array_equal(
        center.sort_values(key)[cols].to_numpy(), ls.sort_values(key)[cols].to_numpy()
    )
    # and the seeds do differ (the pairing is not a coincidence of equal numbers)
    val = ls[ls["split"] == "val"].sort_values("seed")[cols].to_numpy()
    assert (val[0] != val[1]).any()


@pytest.mark.parametrize("k", [2, 3])
def test_fixed_weights_at_the_simplex_center_train_exactly_as_ls(k):
    p = TwoLines(tasks=k)
    cfg = RunConfig(epochs=2, batch_size=32, lr=1e-2, seed=1, device=CPU)
    a = train_run(p, FixedWeights(k, weights=[1.0 / k] * k), cfg)
    b = train_run(p, get_method("ls", k, seed=1), cfg)
    assert a.metrics == b.metrics and a.losses == b.losses and a.epoch_losses == b.epoch_losses


def test_a_failed_seed_fails_the_trial_with_its_reason(tmp_path):
    cfg = config(
        tmp_path, problem="tests.test_sweep_seeds:seed_one_diverges", trials=1,
        count_failed=True,
    )  # fmt: skip
    out = run_sweep(cfg)
    assert (out.failed, out.complete) == (1, 0)
    (trial,) = load(cfg, out.study_name).get_trials()
    assert trial.user_attrs["paretokit_failure"].startswith("seed 1: non-finite training loss")
    frame = read_results(cfg.out).frame
    assert set(frame["status"]) == {"failed"} and sorted(frame["seed"].unique()) == [0, 1, 2]
    errors = frame.groupby("seed")["error"].first()
    assert errors[1].startswith("non-finite training loss")
    assert errors[0] == errors[2] == "trial failed: " + trial.user_attrs["paretokit_failure"]
    assert frame["metric.a"].isna().all()


def test_interrupted_between_seeds_counts_nothing_and_the_rerun_retrains_the_trial(
    tmp_path, monkeypatch
):
    cfg = config(tmp_path, trials=2, seeds=2)
    train = Batch._train
    calls = []

    def interrupted(self, weights, seed, j):
        calls.append(seed)
        if len(calls) == 4:  # trial 1, seed 1: after its seed 0 trained
            raise KeyboardInterrupt
        return train(self, weights, seed, j)

    monkeypatch.setattr(Batch, "_train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(cfg)
    (name,) = optuna.get_all_study_names(cfg.storage)
    trials = load(cfg, name).get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL", "WAITING"]
    assert set(read_results(cfg.out).frame["trial"]) == {0}  # nothing of the interrupted one

    monkeypatch.setattr(Batch, "_train", train)
    out = run_sweep(cfg)
    assert (out.complete, out.new_trials) == (2, 1)
    trials = load(cfg, name).get_trials()
    assert trials[2].user_attrs["retry_of"] == 1 and trials[2].params == trials[1].params
    frame = read_results(cfg.out).frame
    assert len(frame) == 2 * 2 * 2 and set(frame["trial"]) == {0, 2}


def test_population_trains_every_seed_and_matches_one_at_a_time(tmp_path, monkeypatch):
    """--population 3 with 2 seeds: one population of the 3 trials × 2 seeds."""
    (tmp_path / "one").mkdir()
    (tmp_path / "pop").mkdir()
    one = run_sweep(config(tmp_path / "one", trials=3, seeds=2)).results.frame
    calls = []
    train = population_module.train_population

    def spy(problem, weights, cfg, *args, seeds=None, **kwargs):
        calls.append(list(seeds))
        return train(problem, weights, cfg, *args, seeds=seeds, **kwargs)

    monkeypatch.setattr(population_module, "train_population", spy)
    pop = run_sweep(config(tmp_path / "pop", trials=3, seeds=2, population=3)).results.frame
    assert calls == [[0, 0, 0, 1, 1, 1]]
    key = ["trial", "seed", "split"]
    one, pop = (f.sort_values(key).reset_index(drop=True) for f in (one, pop))
    np.testing.assert_array_equal(one[key].to_numpy(), pop[key].to_numpy())
    cols = ["metric.a", "metric.b", "loss.a", "loss.b"]
    np.testing.assert_allclose(one[cols].to_numpy(), pop[cols].to_numpy(), rtol=1e-4, atol=1e-6)


def test_seeds_are_part_of_the_setting_and_a_single_seed_study_keeps_its_name(tmp_path):
    one = run_sweep(config(tmp_path, trials=1, seeds=1))
    assert one.study_name.endswith("-s0")  # the name older versions gave it
    with pytest.raises(ParetokitError, match="choose another --study-name"):
        run_sweep(config(tmp_path, trials=1, seeds=2, study_name=one.study_name))
    # a study stored before the setting had `seeds` ran one seed: it resumes with S = 1
    study = load(config(tmp_path), one.study_name)
    setting = dict(study.user_attrs["paretokit_setting"])
    del setting["seeds"]
    study.set_user_attr("paretokit_setting", setting)
    assert run_sweep(config(tmp_path, trials=2, seeds=1)).new_trials == 1
    with pytest.raises(ParetokitError, match="--seeds must be at least 1"):
        run_sweep(config(tmp_path, seeds=0))


def test_sigkill_between_seeds_then_rerun_retrains_the_whole_trial(tmp_path):
    """A real worker killed after trial 1's seed 0 trained, in its seed 1: nothing of trial 1
    is counted or written, and the rerun retrains it, all seeds, with the same weights."""
    from tests.test_faults import start_worker, study_of, sweep_config, wait_until_training

    proc = start_worker(tmp_path, "--seeds", "2", hold=3)  # runs 0-1: trial 0; 2-3: trial 1
    wait_until_training(tmp_path, proc, 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert set(read_results(tmp_path / "r.parquet").frame["trial"]) == {0}

    rerun = run_sweep(sweep_config(tmp_path, seeds=2))
    assert (rerun.complete, rerun.new_trials) == (3, 2)
    trials = study_of(tmp_path).get_trials()
    (retry,) = [t for t in trials if t.user_attrs.get("retry_of") == 1]
    assert trials[1].state.name == "FAIL" and retry.params == trials[1].params
    frame = read_results(tmp_path / "r.parquet").frame
    assert len(frame) == 3 * 2 * 2 and 1 not in set(frame["trial"])
    assert all(sorted(seeds) == [0, 0, 1, 1] for _, seeds in frame.groupby("trial")["seed"])


def test_the_printed_sweep_front_is_one_row_per_trial_on_seed_means(tmp_path):
    """Before: the sweep printed the non-dominated *runs* (each seed its own point) and
    counted them against trials: "90 of 80" on the qm9 study. A trial's objective is its seed
    mean, so its front is of trials."""
    from paretokit import analysis
    from paretokit.results import read_results
    from tests.helpers import record, write

    # metric a is an MAE (lower is better), b an accuracy fixed at 0.5 in every run:
    # trial 0's seeds 1.0 and 3.0 (mean 2.0) against trial 1's 1.5 and 2.9 (mean 2.2)
    runs = [(0, 0, 1.0), (0, 1, 3.0), (1, 0, 1.5), (1, 1, 2.9)]
    records = [
        record(f"sweep:s:{t}:s{s}", w=0.2 + 0.5 * t, metric=m, trial=t, seed=s) for t, s, m in runs
    ]
    results = read_results(write(tmp_path / "r.parquet", *records))
    front = analysis.sweep_frontier(results, "val")
    assert list(front["trial"]) == [0]  # per run, 1.0 (trial 0) and 1.5 … would tie b
    assert front["seeds"].tolist() == [2]
    assert front["metric.a"].tolist() == [2.0]
    assert front["w.a"].tolist() == [0.2]
