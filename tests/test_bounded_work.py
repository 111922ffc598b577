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


def _statements_while_asking(folder, n: int, queued: int = 0) -> tuple[int, int, int]:
    """(asked, SQL statements, bound parameters) while asking ``n`` trials on an SQLite file,
    ``queued`` of them retries waiting in the queue."""
    from sqlalchemy import event

    from paretokit.study import open_storage

    folder.mkdir(exist_ok=True)
    storage = open_storage(f"sqlite:///{folder / 's.db'}")
    study = optuna.create_study(storage=storage, directions=["minimize"] * 2)
    for _ in range(queued):
        study.enqueue_trial({})
    statements, params = [0], [0]

    def count(conn, cursor, statement, parameters, context, executemany):
        statements[0] += 1
        params[0] += len(parameters) if hasattr(parameters, "__len__") else 0

    event.listen(storage.engine, "before_cursor_execute", count)
    heartbeats = workers.Heartbeats(storage, study.study_name)
    try:
        trials = ask(study, n, n, False, heartbeats)
    finally:
        heartbeats.close()
        event.remove(storage.engine, "before_cursor_execute", count)
    return len(trials), statements[0], params[0]


def test_asking_a_trial_costs_the_same_whatever_the_study_holds(tmp_path):
    # Study.ask re-reads every unfinished trial before each ask (its cache syncs them), so a
    # population of P cost O(P²) reads: 2,000 asks projected to ~14 min on a loaded machine.
    small = _statements_while_asking(tmp_path / "a", 25)
    large = _statements_while_asking(tmp_path / "b", 200)
    assert small[0] == 25 and large[0] == 200
    # per asked trial: the same number of statements and of bound parameters (+25% for the
    # few reads per batch); O(N) per ask made the large batch's share 4.5x the small one's
    assert large[1] / 200 <= 1.25 * small[1] / 25
    assert large[2] / 200 <= 1.25 * small[2] / 25


def test_queued_retries_are_asked_first_and_owned(tmp_path):
    asked, _, _ = _statements_while_asking(tmp_path, 5, queued=3)
    assert asked == 5
    study = optuna.load_study(study_name=None, storage=f"sqlite:///{tmp_path / 's.db'}")
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 5  # the 3 queued ones were taken, not left waiting beside 5 new ones
    assert all(t.state == optuna.trial.TrialState.RUNNING for t in trials)
    assert all({"host", "pid"} <= t.user_attrs.keys() for t in trials)
