"""Faults and resume on the embedded storage (SQLite): a worker killed mid-trial (on this host,
or seen from another worker through heartbeats), Ctrl-C, diverging trials and the budget, a
crash while the results file is written. Killed and interrupted workers are real processes
running ``python -m paretokit.cli sweep``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from typer.testing import CliRunner

import paretokit.results
from paretokit.cli import app
from paretokit.results import read_results
from paretokit.study import SweepConfig, run_sweep
from paretokit.study.workers import FAILURE, RETRY_OF, beyond_budget, give_back, trial_counts

ROOT = Path(__file__).resolve().parent.parent
SLOW = "tests.fault_problems:slow"
FLAKY = "tests.fault_problems:first_run_diverges"
TrialState = optuna.trial.TrialState


def cli_args(tmp_path: Path, problem: str = SLOW, trials: int = 3, *extra: str) -> list[str]:
    return [
        "sweep",
        "--problem",
        problem,
        "--tasks",
        "2",
        "--trials",
        str(trials),
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--sampler",
        "random",
        "--seeds",
        "1",
        "--out",
        str(tmp_path / "r.parquet"),
        "--storage",
        storage(tmp_path),
        *extra,
    ]


def storage(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 's.db'}"


def start_worker(
    tmp_path: Path, *extra: str, step_seconds: float = 0.0, trials: int = 3, hold: int = -1
) -> subprocess.Popen:
    """A sweep process whose trials take ~10 × step_seconds (10 training steps each) more; with
    ``hold`` ≥ 0 its run number ``hold`` (= trial ``hold`` for one worker) stops at its first
    training step and stays there (see tests/fault_problems.py)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "PARETOKIT_TEST_STEP_SECONDS": str(step_seconds),
    }
    if hold >= 0:
        env["PARETOKIT_TEST_HOLD"] = f"{hold}:{tmp_path / 'holding'}"
    return subprocess.Popen(
        [sys.executable, "-m", "paretokit.cli", *cli_args(tmp_path, SLOW, trials, *extra)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def study_of(tmp_path: Path) -> optuna.Study:
    url = storage(tmp_path)
    (name,) = optuna.get_all_study_names(url)
    return optuna.load_study(study_name=name, storage=url)


def wait_until_training(tmp_path: Path, proc: subprocess.Popen, number: int) -> None:
    """Wait for the event that the worker started with ``hold=number`` is in trial
    ``number``'s training (the file it creates there; earlier trials are complete by then),
    however slow the machine: the trial stays there until the test acts."""
    deadline = time.monotonic() + 600  # only against a hang: no timing is being tested
    while not (tmp_path / "holding").exists():
        assert proc.poll() is None, proc.communicate()
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"trial {number} never started")
        time.sleep(0.05)
    (running,) = study_of(tmp_path).get_trials(states=(TrialState.RUNNING,))
    assert running.number == number and running.user_attrs["pid"] == proc.pid


def sweep_config(tmp_path: Path, problem: str = SLOW, **kw) -> SweepConfig:
    base = dict(
        problem=problem,
        tasks="2",
        trials=3,
        epochs=1,
        device="cpu",
        sampler="random",
        seeds=1,
        out=tmp_path / "r.parquet",
        storage=storage(tmp_path),
    )
    return SweepConfig(**{**base, **kw})


def assert_exact(tmp_path: Path, budget: int, retried: int) -> None:
    """``budget`` complete trials, the dead trial ``retried`` retrained once with its weights,
    one row per (trial, split) in the results file and none of the dead trial."""
    trials = study_of(tmp_path).get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == budget
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    dead = trials[retried]
    assert dead.state == TrialState.FAIL and FAILURE not in dead.user_attrs
    retries = [t for t in trials if t.user_attrs.get(RETRY_OF) == retried]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == dead.params
    frame = read_results(tmp_path / "r.parquet").frame
    assert len(frame) == 2 * budget and not frame.duplicated(["run_id", "split"]).any()
    assert sorted(frame["trial"].unique()) == sorted(t.number for t in complete)
    weights = frame[frame["split"] == "val"][["w.a", "w.b"]]
    assert not weights.duplicated().any()


def test_sigkill_mid_trial_then_rerun_retrains_that_trial_once(tmp_path):
    proc = start_worker(tmp_path, hold=1)
    wait_until_training(tmp_path, proc, 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert study_of(tmp_path).get_trials()[1].state == TrialState.RUNNING  # as the kill left it

    rerun = run_sweep(sweep_config(tmp_path))  # same host: the dead pid is seen at once
    assert (rerun.complete, rerun.new_trials) == (3, 2)
    assert_exact(tmp_path, budget=3, retried=1)


def test_trial_of_a_worker_dead_elsewhere_is_retried_after_the_grace_period(tmp_path):
    beat = ("--heartbeat-interval", "1", "--grace-period", "2")
    proc = start_worker(tmp_path, *beat, hold=1)
    wait_until_training(tmp_path, proc, 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    study = study_of(tmp_path)
    dead = study.get_trials()[1]
    store = optuna.storages.RDBStorage(storage(tmp_path))  # no pid check on another host:
    trial_id = store.get_trial_id_from_study_id_trial_number(
        store.get_study_id_from_name(study.study_name), dead.number
    )
    store.set_trial_user_attr(trial_id, "host", "another-machine")

    start = time.monotonic()
    out = run_sweep(sweep_config(tmp_path, heartbeat_interval=1, grace_period=2))
    # this worker trains trial 2, waits for trial 1's heartbeat to go stale, then retries it
    assert out.complete == 3 and time.monotonic() - start >= 1.0
    assert_exact(tmp_path, budget=3, retried=1)


def test_ctrl_c_stops_cleanly_and_the_rerun_continues(tmp_path):
    proc = start_worker(tmp_path, hold=1)
    wait_until_training(tmp_path, proc, 1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "re-run the same command to resume" in err
    assert "Traceback" not in err
    frame = read_results(tmp_path / "r.parquet").frame  # valid, with the finished trial
    assert list(frame["trial"].unique()) == [0]
    trials = study_of(tmp_path).get_trials()
    assert trials[1].state == TrialState.FAIL  # not left running
    queued = [t for t in trials if t.state == TrialState.WAITING]
    assert len(queued) == 1 and queued[0].user_attrs[RETRY_OF] == 1
    assert queued[0].params == trials[1].params

    rerun = run_sweep(sweep_config(tmp_path))
    assert (rerun.complete, rerun.new_trials) == (3, 2)
    assert_exact(tmp_path, budget=3, retried=1)


def test_diverged_trial_is_failed_with_reason_and_another_is_asked(tmp_path):
    out = run_sweep(sweep_config(tmp_path, FLAKY))
    assert (out.complete, out.failed, out.finished, out.new_trials) == (3, 1, 3, 4)
    frame = read_results(tmp_path / "r.parquet").frame
    failed = frame[frame["status"] == "failed"]
    assert list(failed["trial"].unique()) == [0]
    assert failed["error"].str.contains("non-finite training loss").all()
    assert failed[[c for c in frame.columns if c.startswith("metric.")]].isna().all().all()
    assert (frame[frame["status"] == "ok"]["trial"].nunique()) == 3
    (trial,) = [t for t in study_of(tmp_path).get_trials() if t.state == TrialState.FAIL]
    assert "non-finite training loss" in trial.user_attrs[FAILURE]


def test_count_failed_lets_the_diverged_trial_use_up_budget(tmp_path):
    runner = CliRunner()
    env = {"PYTHONPATH": str(ROOT)}
    result = runner.invoke(app, [*cli_args(tmp_path, FLAKY, 3), "--count-failed"], env=env)
    assert result.exit_code == 0, result.output
    assert "2 complete, 1 failed (3 new)" in result.stdout
    assert read_results(tmp_path / "r.parquet").frame["trial"].nunique() == 3


def test_only_failures_stop_the_sweep_with_one_clear_line(tmp_path):
    args = cli_args(tmp_path, "tests.user_problem:make_diverging", 2)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "2 trials failed" in result.stderr and "--count-failed" in result.stderr
    assert "Traceback" not in result.output
    assert read_results(tmp_path / "r.parquet").frame["trial"].nunique() == 2


def test_crash_while_writing_results_leaves_the_old_file_and_loses_no_trial(tmp_path, monkeypatch):
    run_sweep(sweep_config(tmp_path, trials=2))
    path = tmp_path / "r.parquet"
    before = path.read_bytes()

    def crash(table, where, **kw):
        where.write(b"PAR1 half a file")
        raise OSError("disk died mid-write")

    monkeypatch.setattr("pyarrow.parquet.write_table", crash)
    with pytest.raises(paretokit.results.ResultsFileError, match="disk died.*left unchanged"):
        run_sweep(sweep_config(tmp_path, trials=3))
    assert path.read_bytes() == before  # untouched, still readable
    assert read_results(path).frame["trial"].nunique() == 2
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []

    monkeypatch.undo()  # the trial that finished during the crash is in the study: synced now
    out = run_sweep(sweep_config(tmp_path, trials=3))
    assert (out.complete, out.new_trials) == (3, 0)
    frame = read_results(path).frame
    assert frame["run_id"].nunique() == 3 and len(frame) == 6


def test_progress_counts_come_from_the_study(tmp_path):
    seen = []
    from paretokit.study import SweepCallbacks

    run_sweep(
        sweep_config(tmp_path, FLAKY, trials=2),
        SweepCallbacks(on_progress=lambda c: seen.append((c.complete, c.failed, c.running))),
    )
    assert seen[0] == (0, 0, 0) and seen[-1] == (2, 1, 0)
    assert (0, 1, 0) in seen  # the failed first trial is shown as failed, not complete
    assert pd.Series([s[0] for s in seen]).is_monotonic_increasing


def test_workers_asking_at_once_for_the_last_slot_keep_exactly_one(tmp_path):
    url = storage(tmp_path)
    first = optuna.create_study(study_name="s", storage=url, directions=["minimize"] * 2)
    second = optuna.load_study(study_name="s", storage=url)  # another worker's view
    done = first.ask()
    first.tell(done, [1.0, 1.0])
    # budget 2, one complete: both workers see a free slot and ask before either checks
    a, b = first.ask(), second.ask()
    assert not beyond_budget(second, a, 2, False)  # the earlier trial keeps the slot
    assert beyond_budget(first, b, 2, False)  # the later one is beyond, seen from either side
    assert beyond_budget(second, b, 2, False)
    give_back(second, [b])
    counts = trial_counts(first)
    assert (counts.complete, counts.running, counts.waiting) == (1, 1, 0)  # no weights drawn yet


def test_an_enqueued_point_given_back_before_its_weights_are_drawn_is_queued_again(tmp_path):
    study = optuna.create_study(storage=storage(tmp_path), directions=["minimize"] * 2)
    study.enqueue_trial({"u0": 0.25, "u1": 0.5})
    asked = study.ask()  # popped from the queue; its weights are not suggested yet
    give_back(study, [asked])
    (queued,) = study.get_trials(states=(TrialState.WAITING,))
    assert queued.system_attrs["fixed_params"] == {"u0": 0.25, "u1": 0.5}
    assert queued.user_attrs[RETRY_OF] == asked.number
    assert study.get_trials()[asked.number].state == TrialState.FAIL


@pytest.mark.slow
def test_two_workers_share_the_budget_exactly(tmp_path):
    procs = [start_worker(tmp_path, step_seconds=0.05, trials=6) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    trials = study_of(tmp_path).get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 6
    assert {t.user_attrs["pid"] for t in complete} == {p.pid for p in procs}  # both worked
    frame = read_results(tmp_path / "r.parquet").frame  # one file, appended by both
    assert len(frame) == 12 and frame["run_id"].nunique() == 6
    assert not frame[frame["split"] == "val"][["w.a", "w.b"]].duplicated().any()
