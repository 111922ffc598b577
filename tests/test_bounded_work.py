"""Work is bounded before training starts (issue 11 §2): asking a large population looks at the
study a fixed number of times and reports progress; a grid too large for any sweep is refused
at once however its resolution was chosen."""

from __future__ import annotations

import signal

import optuna
import pytest

from paretokit.errors import ParetokitError
from paretokit.sampling import MAX_GRID_POINTS, make_sampler
from paretokit.study import workers
from paretokit.study.loop import ask


def test_asking_a_population_reads_the_study_a_fixed_number_of_times_and_shows_progress():
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, directions=["minimize"] * 2)
    reads = []
    real = study.get_trials

    def counted(*args, **kwargs):
        reads.append(1)
        return real(*args, **kwargs)

    study.get_trials = counted  # type: ignore[method-assign]
    progress = []
    heartbeats = workers.Heartbeats(storage, study.study_name)
    trials = ask(study, 300, 300, False, heartbeats, lambda n, of: progress.append((n, of)))
    heartbeats.close()
    assert len(trials) == 300
    assert len(reads) <= 3  # was two per asked trial: O(P·N) for a population of P
    assert progress[0] == (1, 300) and progress[-1] == (300, 300)
    assert all(t.user_attrs.keys() >= {"host", "pid"} for t in study.get_trials())


def test_asking_never_goes_beyond_the_budget():
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, directions=["minimize"] * 2)
    heartbeats = workers.Heartbeats(storage, study.study_name)
    assert len(ask(study, 10, 4, False, heartbeats)) == 4
    assert ask(study, 10, 4, False, heartbeats) == []
    heartbeats.close()


@pytest.mark.parametrize("k", [2, 3])
def test_a_grid_for_a_huge_budget_is_refused_at_once(k):
    def hang(signum, frame):
        raise AssertionError("the grid resolution search did not return within 10 s")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(10)
    try:
        with pytest.raises(ParetokitError, match="more than"):
            make_sampler("grid", 0, k, trials=10**12)
        with pytest.raises(ParetokitError, match="more than"):
            make_sampler("grid", 0, k, trials=MAX_GRID_POINTS + 1)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
