"""Planted verdicts on ``synthetic``, trained for real and judged by the report.

The rows are built directly with :func:`paretokit.train.train_run`, the engine every sweep and
compare run goes through: a sweep trial is :class:`FixedWeights` with its weights, trained
with seeds 0, 1, 2 (rows of kind ``sweep``, one ``trial`` number per weight vector); a method
is trained with the same seeds (kind ``method``). The planted win and loss are linear
scalarization trained with *more* (win) or *fewer* (loss) epochs than the sweep; their rows
are then relabelled with the sweep's epochs so that the report, which only compares runs of
one training setting, judges them against it. That relabelling is the plant, and it is the
only thing these tests fake.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from paretokit.methods._fixed import FixedWeights
from paretokit.problems.synthetic import Synthetic
from paretokit.report import build_reports
from paretokit.results import RunRecord, append_results, read_results
from paretokit.study import results_meta
from paretokit.train import RunConfig, resolve_device, to_device, train_run

SEEDS = (0, 1, 2)
BATCH, LR = 64, 2e-3


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _rows(problem, data, weights, epochs, kind, label, trial=-1, as_epochs=None):
    device = resolve_device("cpu")
    rows = []
    for seed in SEEDS:
        r = train_run(
            problem,
            FixedWeights(problem.n_tasks, weights=weights),
            RunConfig(epochs, BATCH, LR, seed, device),
            None,
            data,
        )
        rows += RunRecord(
            study="planted",
            problem=problem.name,
            run_id=f"{kind}:{label}:{trial}:{epochs}:s{seed}",
            kind=kind,
            method=label,
            seed=seed,
            task_names=problem.task_names,
            epochs=as_epochs or epochs,
            batch_size=BATCH,
            lr=LR,
            device="cpu",
            weights=list(weights),
            metrics=r.metrics,
            losses=r.losses,
            train_seconds=r.train_seconds,
            step_ms=r.step_ms,
            trial=trial,
        ).rows()
    return rows


def _sweep(tmp_path, instance, epochs, trials=6):
    problem = Synthetic(tasks=2, n_samples=2000, seed=instance)
    data = to_device(problem.splits(), resolve_device("cpu"))
    weights = np.random.default_rng(instance).dirichlet(np.ones(2), size=trials)
    rows = []
    for t, w in enumerate(weights):
        rows += _rows(problem, data, w.tolist(), epochs, "sweep", "sweep", trial=t)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "r.parquet"
    append_results(path, rows, results_meta(problem))
    return problem, data, weights, path


def test_an_exact_copy_of_a_sweep_point_is_never_beyond(tmp_path):
    problem, data, weights, path = _sweep(tmp_path, instance=3, epochs=2)
    rows = []
    for t, w in enumerate(weights):
        rows += _rows(problem, data, w.tolist(), 2, "method", f"copy{t}")
    append_results(path, rows, results_meta(problem))
    (rep,) = build_reports(read_results(path))
    table = rep.methods.set_index("method")
    chosen = set(rep.sweep.front["trial"])
    for t in range(len(weights)):
        row = table.loc[f"copy{t}"]
        assert row["outcome"] in ("within_noise", "dominated"), (t, row["verdict"])
        if t in chosen:  # it is a front point itself: ε_s ≤ 0 in every seed
            per_seed = rep.per_seed[rep.per_seed["method"] == f"copy{t}"]
            assert (per_seed["epsilon"] <= 0).all()


def test_a_planted_win_is_beyond_and_a_planted_loss_dominated(tmp_path):
    # the sweep trains 1 epoch; LS trained 6 epochs is better on every task in every seed
    problem, data, _, path = _sweep(tmp_path, instance=1, epochs=1)
    win = _rows(problem, data, [0.5, 0.5], 6, "method", "ls-6-epochs", as_epochs=1)
    append_results(path, win, results_meta(problem))
    (rep,) = build_reports(read_results(path))
    row = rep.methods.set_index("method").loc["ls-6-epochs"]
    assert row["outcome"] == "beyond" and row["epsilon_ci95_low"] > 0
    assert row["hv_contribution_pct_ci95_low"] > 0
    assert row["verdict"].startswith("beyond the sweep front")

    # the sweep trains 8 epochs; LS trained 1 epoch is worse everywhere. (Against a 4-epoch
    # sweep it is dominated in all 3 seeds too, but by margins so uneven, ε −0.13 to −0.53,
    # that the 3-seed interval reaches 0: within noise, as a sign test would also say.)
    problem, data, _, path = _sweep(tmp_path / "loss", instance=2, epochs=8)
    loss = _rows(problem, data, [0.5, 0.5], 1, "method", "ls-1-epoch", as_epochs=8)
    append_results(path, loss, results_meta(problem))
    (rep,) = build_reports(read_results(path))
    row = rep.methods.set_index("method").loc["ls-1-epoch"]
    assert row["outcome"] == "dominated" and row["epsilon_ci95_high"] < 0
    assert row["dominated_seeds"] == len(SEEDS)
    # the sweep matches a dominated method quickly, in every order
    assert row["never_matched_share"] == 0 and row["trials_to_match_median"] >= 1


@pytest.mark.parametrize("instance", [1, 2, 3])
def test_equal_weight_ls_is_never_beyond_a_seed_replicated_sweep(tmp_path, instance):
    """End to end through the CLI, as a user runs it: `sweep --seeds 3` (8 Dirichlet weight
    vectors on 3 tasks) and `compare ls --seeds 3` on one ``synthetic`` instance, then
    `report`. Equal-weight LS is a point of the sweep's own family: never ``beyond`` (the
    single-seed, test-chosen, interval-free verdict of the old report called such runs
    "extends the front")."""
    from typer.testing import CliRunner

    from paretokit.cli import app

    runner = CliRunner()
    out = tmp_path / "r.parquet"
    common = ["--problem", f"tests.verdict_problems:instance{instance}", "--tasks", "3"]
    common += ["--epochs", "3", "--device", "cpu", "--out", str(out)]
    sweep = ["sweep", "--trials", "8", "--seeds", "3", "--population", "8"]
    sweep += ["--storage", f"sqlite:///{tmp_path / 's.db'}", *common]
    result = runner.invoke(app, sweep)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["compare", "ls", "--seeds", "3", *common, "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    (rep,) = json.loads(result.stdout)
    assert rep["sweep"]["trials"] == 8 and rep["sweep"]["seeds"] == [0, 1, 2]
    (ls,) = [m for m in rep["methods"] if m["method"] == "ls"]
    assert ls["paired_seeds"] == 3 and len(ls["per_seed"]) == 3
    assert ls["outcome"] in ("within_noise", "dominated"), ls
