"""The sweep: the weights it trains, resume without duplicates, failed trials, killed workers,
populations, export."""

from __future__ import annotations

import json
import re
import socket

import numpy as np
import optuna
import pandas as pd
import pytest
from scipy import stats

from paretokit.errors import ParetokitError, StorageError
from paretokit.results import read_results
from paretokit.sampling import make_sampler, suggest_weights
from paretokit.study import SweepConfig, export_study, run_sweep

USER = "tests.user_problem:make"


def draws(sampler: optuna.samplers.BaseSampler, k: int, n: int) -> np.ndarray:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(sampler=sampler)
    out = []
    for _ in range(n):
        trial = study.ask()
        out.append(suggest_weights(trial, k))
        study.tell(trial, 0.0)
    return np.array(out)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_default_sampler_draws_dirichlet_one_weights(k):
    w = draws(make_sampler(SweepConfig().sampler, 0, k), k, 1500)
    assert (w >= 0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    # Dirichlet(1,…,1) marginals are Beta(1, K−1)
    for j in range(k):
        assert stats.kstest(w[:, j], stats.beta(1, k - 1).cdf).pvalue > 1e-3
    # and the wrong law is rejected by the same test (the check can fail)
    assert stats.kstest(w[:, 0], stats.uniform().cdf).pvalue < 1e-3 or k == 2


def test_qmc_sampler_covers_the_simplex_evenly():
    w = draws(make_sampler("qmc", 0, 3), 3, 256)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    for j in range(3):
        assert stats.kstest(w[:, j], stats.beta(1, 2).cdf).pvalue > 1e-2
    # every sixth of the simplex (by which weight is largest and second largest) gets points
    order = np.argsort(-w, axis=1)[:, :2]
    cells = {tuple(r) for r in order}
    assert len(cells) == 6


def sweep_config(tmp_path, **kw) -> SweepConfig:
    base = dict(
        problem=USER,
        tasks="2",
        trials=3,
        epochs=1,
        seed=0,
        seeds=1,  # one run per trial (seed replication: test_sweep_seeds.py)
        out=tmp_path / "r.parquet",
        device="cpu",
        storage=f"sqlite:///{tmp_path / 'studies.db'}",
    )
    base.update(kw)
    return SweepConfig(**base)


def test_resume_counts_total_budget_and_never_duplicates(tmp_path):
    first = run_sweep(sweep_config(tmp_path, trials=3))
    assert (first.finished, first.new_trials) == (3, 3)
    rows = read_results(tmp_path / "r.parquet").frame
    assert len(rows) == 6 and rows.duplicated(["run_id", "split"]).sum() == 0

    again = run_sweep(sweep_config(tmp_path, trials=3))  # finished study: adds nothing
    assert again.new_trials == 0
    assert len(read_results(tmp_path / "r.parquet").frame) == 6

    more = run_sweep(sweep_config(tmp_path, trials=5))  # total budget 5: two more
    assert (more.finished, more.new_trials) == (5, 2)
    frame = read_results(tmp_path / "r.parquet").frame
    assert len(frame) == 10 and frame["run_id"].nunique() == 5
    assert sorted(frame["trial"].unique()) == [0, 1, 2, 3, 4]


def test_same_setting_same_numbers(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fa = run_sweep(sweep_config(tmp_path / "a", trials=2)).results.frame
    fb = run_sweep(sweep_config(tmp_path / "b", trials=2)).results.frame
    cols = [c for c in fa.columns if c.startswith(("w.", "metric.", "loss."))]
    np.testing.assert_array_equal(fa[cols].to_numpy(), fb[cols].to_numpy())


def test_lost_rows_are_restored_from_the_study(tmp_path):
    run_sweep(sweep_config(tmp_path, trials=2))
    (tmp_path / "r.parquet").unlink()  # e.g. a crash after tell, before the write
    run_sweep(sweep_config(tmp_path, trials=2))
    assert read_results(tmp_path / "r.parquet").frame["run_id"].nunique() == 2


def test_diverging_trials_count_against_the_budget_only_when_asked(tmp_path):
    out = run_sweep(
        sweep_config(
            tmp_path, problem="tests.user_problem:make_diverging", trials=2, count_failed=True
        )
    )
    assert (out.failed, out.finished, out.complete) == (2, 2, 0) and out.frontier.empty
    frame = read_results(tmp_path / "r.parquet").frame
    assert set(frame["status"]) == {"failed"} and frame["run_id"].nunique() == 2
    assert frame["error"].str.contains("non-finite training loss").all()


def test_sweep_stops_with_a_clear_message_when_every_trial_fails(tmp_path):
    cfg = sweep_config(tmp_path, problem="tests.user_problem:make_diverging", trials=2)
    with pytest.raises(
        ParetokitError, match=r"2 trials failed .* 0 of 2 completed.*--count-failed"
    ):
        run_sweep(cfg)
    frame = read_results(tmp_path / "r.parquet").frame  # the failures are recorded
    assert frame["run_id"].nunique() == 2 and set(frame["status"]) == {"failed"}


def test_trial_of_a_killed_process_is_retrained_with_same_weights(tmp_path):
    cfg = sweep_config(tmp_path, trials=2)
    run_sweep(sweep_config(tmp_path, trials=1))
    study = optuna.load_study(study_name=run_sweep(cfg).study_name, storage=cfg.storage)
    # simulate a worker on this host killed mid-trial: a RUNNING trial with a dead pid
    dead = study.ask(
        {
            "u0": optuna.distributions.FloatDistribution(0, 1),
            "u1": optuna.distributions.FloatDistribution(0, 1),
        }
    )
    dead.set_user_attr("host", socket.gethostname())
    dead.set_user_attr("pid", 2**22 + 12345)  # beyond pid_max defaults: never alive
    params = dict(dead.params)
    out = run_sweep(sweep_config(tmp_path, trials=3))
    assert out.finished == 3
    trials = optuna.load_study(study_name=out.study_name, storage=cfg.storage).get_trials()
    assert trials[dead.number].state == optuna.trial.TrialState.FAIL
    retry = [t for t in trials if t.user_attrs.get("retry_of") == dead.number]
    assert len(retry) == 1 and retry[0].params == params
    assert retry[0].state == optuna.trial.TrialState.COMPLETE


def test_other_setting_under_same_study_name_is_refused(tmp_path):
    run_sweep(sweep_config(tmp_path, trials=1, study_name="mine"))
    with pytest.raises(ParetokitError, match="choose another --study-name"):
        run_sweep(sweep_config(tmp_path, trials=1, study_name="mine", epochs=2))


def test_unreachable_storage_is_a_clear_error(tmp_path):
    with pytest.raises(StorageError, match="storage"):
        run_sweep(sweep_config(tmp_path, storage=f"sqlite:///{tmp_path}/no/such/dir/x.db"))


def test_export_rebuilds_the_results_file_from_the_study(tmp_path):
    cfg = sweep_config(tmp_path, trials=3)
    name = run_sweep(cfg).study_name
    exported = tmp_path / "exported.parquet"
    assert export_study(cfg.storage, name, exported) == 6
    a = read_results(tmp_path / "r.parquet")
    b = read_results(exported)
    assert a.meta == b.meta
    key = ["run_id", "split"]
    cols = [c for c in a.frame.columns if c.startswith(("w.", "metric.", "loss."))]
    pd.testing.assert_frame_equal(
        a.frame.sort_values(key)[key + cols].reset_index(drop=True),
        b.frame.sort_values(key)[key + cols].reset_index(drop=True),
    )
    assert export_study(cfg.storage, name, exported) == 0  # nothing new: nothing added


def test_export_of_a_missing_study_is_a_clear_error(tmp_path):
    cfg = sweep_config(tmp_path, trials=1)
    name = run_sweep(cfg).study_name
    with pytest.raises(StorageError, match=f"no study .nope.*{re.escape(name)}"):
        export_study(cfg.storage, "nope", tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()


def test_population_trains_batches_of_p_and_matches_one_at_a_time(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "pop").mkdir()
    one = run_sweep(sweep_config(tmp_path / "one", trials=5)).results.frame
    out = run_sweep(sweep_config(tmp_path / "pop", trials=5, population=3))
    assert (out.complete, out.new_trials, out.population) == (5, 5, 3)
    pop = out.results.frame
    assert len(pop) == 10 and not pop.duplicated(["run_id", "split"]).any()
    sizes = pop.groupby("trial")["options"].first().map(lambda o: json.loads(o)["population"])
    assert sizes.to_dict() == {0: 3, 1: 3, 2: 3, 3: 2, 4: 2}  # 5 = 3 + 2, never beyond
    key = ["trial", "split"]
    one, pop = one.sort_values(key).reset_index(drop=True), pop.sort_values(key)
    pop = pop.reset_index(drop=True)
    w = [c for c in one.columns if c.startswith("w.")]
    np.testing.assert_array_equal(one[w].to_numpy(), pop[w].to_numpy())  # same weights
    m = [c for c in one.columns if c.startswith(("metric.", "loss."))]
    np.testing.assert_allclose(one[m].to_numpy(), pop[m].to_numpy(), rtol=1e-4, atol=1e-6)


def test_population_of_diverging_trials_records_each_failure(tmp_path):
    cfg = sweep_config(
        tmp_path, problem="tests.user_problem:make_diverging", population=2, count_failed=True
    )
    out = run_sweep(cfg)
    assert (out.failed, out.complete, out.new_trials) == (3, 0, 3)
    frame = read_results(tmp_path / "r.parquet").frame
    assert frame["run_id"].nunique() == 3 and set(frame["status"]) == {"failed"}


def test_population_auto_and_bad_values(tmp_path):
    out = run_sweep(sweep_config(tmp_path, trials=2, population="auto"))
    assert out.population >= 1 and out.complete == 2
    for bad in (0, "-1", "many"):
        with pytest.raises(ParetokitError, match="--population must be"):
            run_sweep(sweep_config(tmp_path, population=bad))


def test_sweep_help_names_every_sampler_and_the_new_options():
    from typer.testing import CliRunner

    from paretokit.cli import app
    from paretokit.sampling import ALIASES, SAMPLERS

    text = " ".join(
        CliRunner().invoke(app, ["sweep", "--help"], env={"COLUMNS": "200"}).output.split()
    )
    for name in (*SAMPLERS, *ALIASES):
        assert re.search(rf"\b{name}\b", text), name
    for option in ("--population", "--count-failed", "--grid-resolution"):
        assert option in text


def test_bad_population_and_heartbeat_timings_are_one_line_errors(tmp_path):
    from typer.testing import CliRunner

    from paretokit.cli import app

    base = ["sweep", "--problem", USER, "--out", str(tmp_path / "r.parquet")]
    for extra, message in (
        (["--population", "many"], "--population must be a count ≥ 1 or 'auto'"),
        (["--heartbeat-interval", "5", "--grace-period", "5"], "--grace-period longer"),
    ):
        result = CliRunner().invoke(app, [*base, *extra])
        assert result.exit_code == 1 and message in result.stderr, result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "r.parquet").exists()
