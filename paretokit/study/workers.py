"""Many workers on one Optuna study: a study-wide budget, heartbeats, and no trial lost.

Any number of ``paretokit sweep`` processes, on one machine or many, may share a study. Each
asks its own trials; the storage is the only thing they share. The rules that make the total
exact:

* **Budget slots.** A trial holds a slot while it runs and keeps it once it counts
  (complete; failed for a reason of its own, such as a NaN loss, only when failures count). A
  worker asks only while ``counted + running < budget``. Workers asking at the same moment may
  all see the last free slot, so each checks after its ask: the slot holders ranked by start
  time (then trial number) keep their slots up to the budget, and a trial ranked beyond it is
  given back at once (:func:`beyond_budget`). Every worker ranks the same holders the same way,
  so exactly the first ones stay. (Start times are written by each worker's clock: machines
  whose clocks disagree by more than an ask takes can misrank them and overshoot the budget.)
* **Heartbeats.** :class:`Heartbeats` records, from a daemon thread, a heartbeat for every
  trial the worker is training, every ``heartbeat_interval`` seconds (Optuna does this only
  inside ``Study.optimize``; the sweep uses ask/tell). A trial whose heartbeat is older than the
  grace period belongs to a dead worker: :func:`fail_stale` fails it and queues its parameters
  again (same weights) via the storage's stale-trial callback, :func:`requeue_stale`. Optuna
  fails a trial only if it is still running, so exactly one worker queues the retry.
* **Dead local workers.** A running trial started on this host by a process that no longer
  exists (a killed sweep) is failed and queued again at once, without waiting for the grace
  period (:func:`recover_dead_local_trials`).
* **Ctrl-C or a crash.** The trials in training are failed and queued again
  (:func:`give_back`), so re-running the command trains their weights first.

* **Owners.** A worker announces itself in the study (a study system attribute
  ``paretokit_worker:<host>:<pid>``, :func:`register`) before it asks anything, and creates
  each new trial with its owner (user attributes ``host`` and ``pid``) in the same storage
  write (:func:`ask_owned`); a queued retry gets its owner right after it is taken. A
  running trial without an owner was asked by other code, or is a retry whose worker was
  killed between taking it and writing the owner: when no other
  announced worker can be alive (every other one ran on this host and is gone) it is failed and
  queued again at once; otherwise after ``owner_grace`` seconds from its start
  (:func:`recover_ownerless`), since a live worker writes the owner within one storage write.
* **Journal files.** Their lock is an ``flock`` (:class:`FlockLock`) that the kernel releases
  when its holder dies, instead of Optuna's lock file that a killed worker leaves behind (the
  next writer would wait 30 s to break it). Every writer of a sweep's journal must use it, i.e.
  be a paretokit sweep.

A failed trial that was queued again never counts; its retry has the same parameters, a new
trial number and the user attributes ``retry_of`` (the number it retrains) and ``retries``
(how many workers died on these weights in a row; after :data:`MAX_RETRIES` they are dropped
and the budget goes to a new trial). A running trial with no heartbeat at all (a worker killed
between creating it and its first heartbeat, on another host, or any foreign trial on a
storage without heartbeats) is found stale only by a re-run on its own host (its process is
gone) or, without an owner, after ``owner_grace``; a trial of a worker that died on another
host, on a journal file (no heartbeats), waits until it is failed by hand (``optuna`` CLI or
API) or a worker on that host runs again.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import optuna
from optuna.trial import FrozenTrial, Trial, TrialState

FAILURE = "paretokit_failure"  # user attribute: why the trial failed (it then counts as failed)
RETRY_OF = "retry_of"
RETRIES = "retries"
MAX_RETRIES = 3  # a trial whose worker died this many times in a row is not queued again
WORKER = "paretokit_worker:"  # study system attribute prefix: the workers that joined the study
OWNER_GRACE = 30.0  # seconds a trial may lack an owner while another worker may be alive


@dataclass(frozen=True)
class TrialCounts:
    """The study's trials across all workers."""

    complete: int
    failed: int  # failed for a reason of their own (e.g. a NaN loss)
    running: int
    waiting: int  # queued: retries of trials whose worker died or was interrupted

    def counted(self, count_failed: bool) -> int:
        """Trials that used up budget."""
        return self.complete + (self.failed if count_failed else 0)


def trial_counts(study: optuna.Study) -> TrialCounts:
    trials = study.get_trials(deepcopy=False)
    return TrialCounts(
        complete=sum(t.state == TrialState.COMPLETE for t in trials),
        failed=sum(failed_with_reason(t) for t in trials),
        running=sum(t.state == TrialState.RUNNING for t in trials),
        waiting=sum(t.state == TrialState.WAITING for t in trials),
    )


def failed_with_reason(trial: FrozenTrial) -> bool:
    return trial.state == TrialState.FAIL and FAILURE in trial.user_attrs


def counts_against_budget(trial: FrozenTrial, count_failed: bool) -> bool:
    return trial.state == TrialState.COMPLETE or (count_failed and failed_with_reason(trial))


def beyond_budget(study: optuna.Study, trial: Trial, budget: int, count_failed: bool) -> bool:
    """Whether a just-asked trial ranks beyond the budget among the trials holding a slot
    (running or counted), ordered by start time, then number (see the module docstring)."""
    holders = [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state == TrialState.RUNNING or counts_against_budget(t, count_failed)
    ]
    holders.sort(key=lambda t: (t.datetime_start or datetime.max, t.number))
    rank = next((i for i, t in enumerate(holders) if t.number == trial.number), len(holders))
    return rank >= budget


def beyond_budget_of(
    study: optuna.Study, trials: Sequence[Trial], budget: int, count_failed: bool
) -> list[Trial]:
    """Of the just-asked ``trials``, those that rank beyond the budget (one look at the study
    for the whole batch; the rule of :func:`beyond_budget`)."""
    holders = [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state == TrialState.RUNNING or counts_against_budget(t, count_failed)
    ]
    holders.sort(key=lambda t: (t.datetime_start or datetime.max, t.number))
    rank = {t.number: i for i, t in enumerate(holders)}
    return [t for t in trials if rank.get(t.number, len(holders)) >= budget]


def owner() -> dict[str, object]:
    """This worker: the user attributes that make a trial its own."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def claim(trial: Trial) -> None:
    """Write this worker as ``trial``'s owner: the first write after asking it (``pid`` last,
    so a trial has an owner exactly when it has a ``pid``)."""
    for key, value in owner().items():
        trial.set_user_attr(key, value)


def ask_owned(
    study: optuna.Study,
    storage: optuna.storages.BaseStorage,
    wanted: int,
    on_ask: Callable[[int, int], None] | None = None,
) -> list[tuple[Trial, int]]:
    """Ask ``wanted`` trials of ``study`` (opened on ``storage``) for this worker, with their
    storage trial ids: first the queued retries (one look at the queue for all of them), then
    new trials created with their owner in the same storage write, so that a new trial of this
    worker is never without an owner.

    ``Study.ask`` is not used: each call re-reads every unfinished trial of the study (Optuna's
    cache syncs them before it looks for queued trials), so asking the P trials of a
    population cost O(P·N) trial reads (2,000 asks: minutes). Here a trial costs one storage
    write and one read whatever the study holds. ``on_ask(asked, of)`` reports progress."""
    study_id = storage.get_study_id_from_name(study.study_name)
    asked: list[tuple[Trial, int]] = []

    def take(trial_id: int, owned: bool) -> None:
        trial = Trial(study, trial_id)
        if not owned:
            claim(trial)
        asked.append((trial, trial_id))
        if on_ask:
            on_ask(len(asked), wanted)

    try:
        queued = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,))
        for t in queued:
            if len(asked) >= wanted:
                break
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
            if _start(storage, trial_id):  # another worker may have taken it first
                take(trial_id, owned=False)
        while len(asked) < wanted:
            template = optuna.trial.create_trial(state=TrialState.RUNNING, user_attrs=owner())
            take(storage.create_new_trial(study_id, template_trial=template), owned=True)
    except BaseException:
        give_back(study, [trial for trial, _ in asked])
        raise
    return asked


def _start(storage: optuna.storages.BaseStorage, trial_id: int) -> bool:
    """Move a queued trial to RUNNING; False when another worker took or finished it first."""
    try:
        return bool(storage.set_trial_state_values(trial_id, state=TrialState.RUNNING))
    except RuntimeError:  # already finished (newer Optuna: UpdateFinishedTrialError)
        return False


def register(storage: optuna.storages.BaseStorage, study: optuna.Study) -> None:
    """Announce this worker in the study, before it asks any trial (see the module docstring).

    Study system attributes have no public method on :class:`optuna.Study` (Optuna 5 has no
    ``set_system_attr``), so they are written through the storage's public interface, on the
    storage object the study was opened on."""
    me = owner()
    key = f"{WORKER}{me['host']}:{me['pid']}"
    study_id = storage.get_study_id_from_name(study.study_name)
    storage.set_study_system_attr(study_id, key, datetime.now().isoformat())


def others_may_be_alive(storage: optuna.storages.BaseStorage, study: optuna.Study) -> bool:
    """Whether a worker other than this one that joined the study may still run: one on another
    host (its liveness cannot be seen from here), or one on this host whose process exists."""
    me = owner()
    study_id = storage.get_study_id_from_name(study.study_name)
    for key in storage.get_study_system_attrs(study_id):
        if not key.startswith(WORKER):
            continue
        host, _, pid = key[len(WORKER) :].rpartition(":")
        if host == me["host"] and pid == str(me["pid"]):
            continue
        if host != me["host"] or pid_alive(int(pid) if pid.isdigit() else -1):
            return True
    return False


def recover_ownerless(
    study: optuna.Study, storage: optuna.storages.BaseStorage, owner_grace: float = OWNER_GRACE
) -> None:
    """Fail and queue again the running trials that have no owner: at once when no other worker
    can be alive, else once they are ``owner_grace`` seconds old (see the module docstring).
    Call it only between batches: this worker's own trials all have their owner then."""
    ownerless = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if "pid" not in t.user_attrs
    ]
    if not ownerless:
        return
    alive = others_may_be_alive(storage, study)
    now = datetime.now()
    for t in ownerless:
        start = t.datetime_start or now
        if alive and (now - start).total_seconds() < owner_grace:
            continue
        if _fail(study, t.number) is not None:
            requeue(study, t, died=True)


def requeue(study: optuna.Study, trial: FrozenTrial, *, died: bool) -> bool:
    """Queue the parameters of a failed, unfinished trial again; returns whether it did. A
    trial whose worker ``died`` is queued at most :data:`MAX_RETRIES` times in a row (a trial
    that kills its worker every time must not loop forever); an interrupted one always is."""
    retries = int(trial.user_attrs.get(RETRIES, 0)) + (1 if died else 0)
    if retries > MAX_RETRIES:
        return False
    attrs = {RETRY_OF: trial.number, RETRIES: retries}
    if not trial.params:  # failed before drawing its weights: only an enqueued point is owed
        fixed = trial.system_attrs.get("fixed_params")
        if fixed:
            study.enqueue_trial(fixed, user_attrs=attrs, skip_if_exists=False)
        return bool(fixed)
    study.add_trial(
        optuna.trial.create_trial(
            state=TrialState.WAITING,
            params=trial.params,
            distributions=trial.distributions,
            user_attrs=attrs,
        )
    )
    return True


def requeue_stale(study: optuna.Study, trial: FrozenTrial) -> None:
    """The storage's stale-trial callback: a trial whose heartbeat stopped is retried."""
    requeue(study, trial, died=True)


def fail_stale(study: optuna.Study) -> None:
    """Fail the running trials whose heartbeat is older than the grace period (their worker
    died) and queue them again (no-op on storages without heartbeats)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def recover_dead_local_trials(study: optuna.Study) -> None:
    """Fail and queue again the running trials that this host started in a process that is
    gone, so a re-run retrains their weights at once instead of after the grace period."""
    host, me = socket.gethostname(), os.getpid()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid = int(t.user_attrs.get("pid", -1))
        if t.user_attrs.get("host") != host or pid == me or pid_alive(pid):
            continue
        if _fail(study, t.number) is not None:
            requeue(study, t, died=True)


def give_back(study: optuna.Study, trials: Iterable[Trial]) -> None:
    """Fail this worker's unfinished trials (Ctrl-C, or beyond the budget) and queue the ones
    that had weights again."""
    for trial in trials:
        failed = _fail(study, trial.number)
        if failed is not None:
            requeue(study, failed, died=False)


def _fail(study: optuna.Study, number: int) -> FrozenTrial | None:
    """Tell a running trial (any worker's: by its number) that it failed; the failed trial, or
    None when it had already finished (e.g. another worker failed it as stale first: the
    storage refuses the second write, so exactly one worker queues its retry)."""
    try:
        return study.tell(number, state=TrialState.FAIL)
    except (ValueError, RuntimeError):  # finished: "Cannot tell a … trial", or the storage's
        return None  # UpdateFinishedTrialError when another worker won the race


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Heartbeats:
    """Records a heartbeat for each of this worker's running trials every ``interval`` seconds,
    from a daemon thread, on storages that have heartbeats (Optuna's RDB storages)."""

    def __init__(self, storage: optuna.storages.BaseStorage, study_name: str) -> None:
        self._storage = storage
        self._study_name = study_name
        self._study_id: int | None = None
        interval = getattr(storage, "get_heartbeat_interval", lambda: None)()
        self._interval = float(interval) if interval else None
        self._ids: dict[int, int] = {}  # trial number → the storage's trial id
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self._interval is not None:
            self._thread = threading.Thread(target=self._run, name="heartbeats", daemon=True)
            self._thread.start()

    @property
    def storage(self) -> optuna.storages.BaseStorage:
        """The storage the heartbeats are recorded on (the study's)."""
        return self._storage

    def add(self, number: int, trial_id: int | None = None) -> None:
        """Keep trial ``number`` alive from now on (its first heartbeat is recorded at once).
        ``trial_id``: its storage id when the caller knows it (else looked up).
        A heartbeat is recorded by the storage's trial id (public storage interface; a
        :class:`optuna.Trial` keeps its id private), looked up once per trial."""
        if self._interval is None:
            return
        if trial_id is None:
            if self._study_id is None:
                self._study_id = self._storage.get_study_id_from_name(self._study_name)
            trial_id = self._storage.get_trial_id_from_study_id_trial_number(self._study_id, number)
        with self._lock:
            self._ids[number] = trial_id
        self._beat(trial_id)

    def discard(self, number: int) -> None:
        with self._lock:
            self._ids.pop(number, None)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def _run(self) -> None:
        assert self._interval is not None
        while not self._stop.wait(self._interval):
            with self._lock:
                ids = list(self._ids.values())
            for trial_id in ids:
                self._beat(trial_id)

    def _beat(self, trial_id: int) -> None:
        try:
            self._storage.record_heartbeat(trial_id)
        except Exception:  # a busy database: the next beat comes within the grace period
            pass


class FlockLock:
    """A journal file's lock as an ``flock`` on ``<journal>.flock``: the kernel releases it
    when the holding process dies, so a SIGKILL never leaves a lock behind. (Optuna's journal
    backend takes any object with ``acquire`` and ``release``.)"""

    def __init__(self, path: str) -> None:
        self._path = path
        self._fh: object | None = None
        self._local = threading.Lock()  # flock is per open file: serialize this process's threads

    def acquire(self) -> bool:
        self._local.acquire()
        try:
            fh = open(self._path, "a")
            fcntl.flock(fh, fcntl.LOCK_EX)
        except BaseException:
            self._local.release()
            raise
        self._fh = fh
        return True

    def release(self) -> None:
        fh, self._fh = self._fh, None
        try:
            if fh is not None:
                fcntl.flock(fh, fcntl.LOCK_UN)  # type: ignore[arg-type]
                fh.close()  # type: ignore[attr-defined]
        finally:
            self._local.release()
