"""SIGKILL at random moments of a small sweep, each followed by a resume (issue 11 §2).

Each round starts a sweep in a fresh folder, kills it with SIGKILL after a random delay (drawn
from a seeded generator over the length of an uninterrupted run: before the storage exists,
while it is created, between ``ask`` and the trial's owner, mid-epoch, while the results file
is written), then resumes it. Every resume must end with exactly the budget of complete trials,
nothing running or queued, one row per (run, split) and no duplicate weights — without waiting
for another worker, since none is alive — on SQLite and on the journal file.

The workers are forked from a fork server that imported paretokit but never ran torch, so a
round costs no interpreter start (the whole test stays well under two minutes in CI).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import optuna
import pytest

from paretokit.results import read_results
from paretokit.study import SweepConfig, open_storage, run_sweep

ROUNDS = 10
BUDGET = 3
RESUME_LIMIT_S = 60.0  # at least; scaled by the uninterrupted run's length on a busy machine
GRACE_S = 3600  # the grace periods in the test: a resume that waited for one would take an hour


def _config(folder: Path, journal: bool) -> SweepConfig:
    storage = str(folder / "s.log") if journal else f"sqlite:///{folder / 's.db'}"
    return SweepConfig(
        problem="tests.user_problem:make",
        tasks="a,b",
        trials=BUDGET,
        epochs=1,
        seeds=1,  # one row pair per trial: a duplicate weight would be a duplicate trial
        device="cpu",
        out=folder / "r.parquet",
        storage=storage,
        study_name="kill",
        heartbeat_interval=1,
        grace_period=GRACE_S,  # a resume must not need it
    )


def _sweep(folder: str, journal: bool) -> None:
    import torch

    from paretokit.study import workers

    torch.set_num_threads(1)
    workers.recover_ownerless.__defaults__ = (float(GRACE_S),)  # never wait it out, either
    run_sweep(_config(Path(folder), journal))


def _context() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["paretokit.study.loop", "tests.user_problem"])
    return ctx


def _check(folder: Path, journal: bool) -> None:
    config = _config(folder, journal)
    study = optuna.load_study(study_name="kill", storage=open_storage(config.storage))
    trials = study.get_trials()
    states = [t.state for t in trials]
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == BUDGET, states
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")], states
    frame = read_results(config.out).frame
    assert len(frame) == 2 * BUDGET and not frame.duplicated(["run_id", "split"]).any()
    assert sorted(frame["trial"].unique()) == sorted(t.number for t in complete)
    val = frame[frame["split"] == "val"]
    assert not val[["w.a", "w.b"]].duplicated().any()


@pytest.mark.parametrize("journal", [False, True], ids=["sqlite", "journal"])
def test_random_sigkills_each_followed_by_a_resume(tmp_path, journal):
    ctx = _context()
    rng = random.Random(11 + journal)

    def start(folder: Path):
        proc = ctx.Process(target=_sweep, args=(str(folder), journal))
        proc.start()
        return proc

    limit = [RESUME_LIMIT_S * 5]  # the first run creates the storage and warms the caches

    def finish(folder: Path, what: str) -> float:
        began = time.monotonic()
        proc = start(folder)
        proc.join(limit[0])
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
            proc.join()
            raise AssertionError(f"{what} did not finish within {limit[0]:.0f} s")
        assert proc.exitcode == 0, f"{what} exited with {proc.exitcode}"
        return time.monotonic() - began

    reference = tmp_path / "reference"
    reference.mkdir()
    length = finish(reference, "the uninterrupted sweep")
    _check(reference, journal)
    limit[0] = max(RESUME_LIMIT_S, 8 * length)  # far below GRACE_S
    for i in range(ROUNDS):
        folder = tmp_path / f"round{i}"
        folder.mkdir()
        delay = rng.uniform(0.0, length)
        proc = start(folder)
        proc.join(delay)
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        took = finish(folder, f"the resume after a SIGKILL at {delay:.2f} s (round {i})")
        _check(folder, journal)
        assert took < limit[0]


def _sweep_killed_after_ask(folder: str, journal: bool, nth: int, foreign: bool) -> None:
    """A sweep that SIGKILLs itself right after its ``nth`` trial is created: the trial
    exists, running, with no heartbeat. ``foreign``: it was asked by ``Study.ask`` (an older
    paretokit, or another program sharing the study) and has no owner either."""
    import optuna.trial

    from paretokit.study import workers

    made = []

    def kill_at_nth(trial):
        made.append(trial)
        if len(made) == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    if foreign:

        def ask_owned(study, storage, wanted, on_ask=None):
            asked = []
            for _ in range(wanted):
                asked.append((study.ask(), None))
                kill_at_nth(asked[-1][0])
                workers.claim(asked[-1][0])
            return asked

        workers.ask_owned = ask_owned
    else:
        real_init = optuna.trial.Trial.__init__

        def init(self, *args, **kwargs):
            real_init(self, *args, **kwargs)
            kill_at_nth(self)

        optuna.trial.Trial.__init__ = init
    _sweep(folder, journal)


@pytest.mark.parametrize("journal", [False, True], ids=["sqlite", "journal"])
@pytest.mark.parametrize("nth", [1, 2])
@pytest.mark.parametrize("foreign", [False, True], ids=["owned", "foreign"])
def test_sigkill_between_ask_and_owner_then_resume_finishes_at_once(
    tmp_path, journal, nth, foreign
):
    """Before: the resume waited for the ownerless trial forever on the journal file, and on
    SQLite until a grace period that never started (no heartbeat was ever recorded). Now a
    sweep's trials are created with their owner; a trial without one (asked by other code) is
    still recovered at once when no other worker can be alive."""
    ctx = _context()
    proc = ctx.Process(target=_sweep_killed_after_ask, args=(str(tmp_path), journal, nth, foreign))
    proc.start()
    proc.join(RESUME_LIMIT_S * 5)
    assert proc.exitcode == -signal.SIGKILL
    config = _config(tmp_path, journal)
    study = optuna.load_study(study_name="kill", storage=open_storage(config.storage))
    running = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
    assert len(running) == 1
    assert ("pid" in running[0].user_attrs) is not foreign  # no window without an owner
    resume = ctx.Process(target=_sweep, args=(str(tmp_path), journal))
    resume.start()
    resume.join(RESUME_LIMIT_S * 5)  # a busy machine; still far below GRACE_S
    if resume.is_alive():
        os.kill(resume.pid, signal.SIGKILL)
        resume.join()
        raise AssertionError(f"the resume waited more than {RESUME_LIMIT_S * 5} s")
    assert resume.exitcode == 0
    _check(tmp_path, journal)
