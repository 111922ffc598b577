"""Many sweep workers on one PostgreSQL study (marker ``postgres``).

A throwaway PostgreSQL cluster per test module: ``initdb`` in a temporary folder, the server
on 127.0.0.1 at a free port, trust authentication, no durability (fsync off: the data dies
with the test). initdb refuses to run as root, so as root the server runs as the ``postgres``
user (created by Debian's package) or ``nobody``. Without PostgreSQL or psycopg2 the tests
skip, except under CI (``CI`` set), where .ci/run installs both and a skip would hide that.

Workers are real ``paretokit sweep`` processes on the ``synthetic`` problem (2 tasks, a few
seconds a trial), each with its own ``--out`` file, all on one ``--study-name``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import optuna
import pandas as pd
import pytest
import sqlalchemy
from optuna.trial import TrialState

from paretokit.results import merge_results, read_results

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 2  # ≈ 1–3 s a trial on a 2-core CPU shared by three workers
WORKER_TIMEOUT = 240  # seconds; a hung worker fails the test instead of hanging CI


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the postgres tests: .ci/run installs PostgreSQL)")
    pytest.skip(reason)


def _server_bin() -> Path | None:
    """The folder of initdb/pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    dirs = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    dirs.sort(key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return Path(dirs[-1]).parent if dirs else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    port: int

    def url(self, database: str) -> str:
        return f"postgresql://paretokit@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    try:  # the driver SQLAlchemy picks for postgresql:// (psycopg 3 from SQLAlchemy 2.1 on)
        sqlalchemy.create_engine("postgresql://probe@127.0.0.1:1/probe")
    except ImportError as exc:
        _unavailable(
            f"no PostgreSQL driver for SQLAlchemy ({exc}): pip install 'paretokit[postgres]'"
        )
    bin_dir = _server_bin()
    if bin_dir is None:
        _unavailable("PostgreSQL's initdb/pg_ctl not found (Debian: apt-get install postgresql)")
    as_user: dict[str, object] = {}
    base = Path(tempfile.mkdtemp(prefix="paretokit-pg-", dir="/tmp" if os.geteuid() == 0 else None))
    if os.geteuid() == 0:  # initdb and postgres refuse root: run them as an unprivileged user
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            account = pwd.getpwnam("nobody")
        os.chown(base, account.pw_uid, account.pw_gid)
        as_user = dict(user=account.pw_uid, group=account.pw_gid, extra_groups=[])
    env = {"PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "LC_ALL": "C", "TZ": "UTC"}

    def pg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / args[0]), *args[1:]],
            cwd=base,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            **as_user,  # type: ignore[arg-type]
        )

    data = base / "data"
    init = pg("initdb", "-D", str(data), "-U", "paretokit", "--auth=trust", "-E", "UTF8",
              "--no-locale", "--no-sync")  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stderr[-2000:]}")
    started, port, log = None, 0, ""
    for _ in range(3):  # the free port may be taken between the probe and the start
        port = _free_port()
        options = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=100 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        started = pg("pg_ctl", "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
                     "-o", options, "start")  # fmt: skip
        log = (base / "log").read_text() if (base / "log").exists() else ""
        if started.returncode == 0:
            break
    if started is None or started.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {started and started.stderr} {log[-2000:]}")
    try:
        yield Server(port)
    finally:
        pg("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def database(server: Server) -> str:
    """A fresh database on the test server; its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server.url(name)


# A worker "on another machine": the same command with another host name, so the survivors
# cannot see that its process is gone and must rely on the heartbeat and grace period.
ELSEWHERE = (
    "import socket, sys; socket.gethostname = lambda: 'elsewhere'; "
    "from paretokit.cli import app; sys.argv[0] = 'paretokit'; app()"
)


def start_worker(
    url: str, study: str, trials: int, out: Path, *extra: str, host: str = "here"
) -> subprocess.Popen[bytes]:
    program = ["-m", "paretokit.cli"] if host == "here" else ["-c", ELSEWHERE]
    cmd = [
        sys.executable, *program, "sweep",
        "--problem", "synthetic", "--tasks", "2", "--epochs", str(EPOCHS),
        "--trials", str(trials), "--storage", url, "--study-name", study,
        "--out", str(out), "--device", "cpu", "--format", "json", "--seeds", "1", *extra,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    log = open(out.with_suffix(".log"), "wb")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_all(procs: list[subprocess.Popen[bytes]]) -> list[int]:
    deadline = time.monotonic() + WORKER_TIMEOUT
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=max(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail(f"worker {p.pid} still running after {WORKER_TIMEOUT} s")
    return codes


def worker_log(out: Path) -> str:
    return out.with_suffix(".log").read_text(errors="replace")[-3000:]


def load(url: str, study: str) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna.load_study(study_name=study, storage=url)


def describe(study: optuna.Study) -> str:
    """One line per trial, for the test log: number, state, worker pid, retry, weights' u."""
    lines = []
    for t in study.get_trials(deepcopy=False):
        u = ",".join(f"{t.params[k]:.4f}" for k in sorted(t.params))
        a = t.user_attrs
        lines.append(
            f"  trial {t.number:2d} {t.state.name:8s} host={a.get('host', '-')} "
            f"pid={a.get('pid', '-')} retry_of={a.get('retry_of', '-')} u=({u})"
        )
    return "\n".join(lines)


def check_results(study: optuna.Study, files: list[Path], tmp_path: Path, url: str) -> None:
    """Merging the workers' files and exporting the study give the same runs: one per complete
    trial, each with its own weights."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    expected = {f"sweep:{study.study_name}:{t.number}:s0" for t in complete}
    merged_path = tmp_path / "merged.parquet"
    rows, dropped = merge_results(files, merged_path)
    merged = read_results(merged_path).frame
    print(f"merge: {rows} rows, {dropped} duplicates dropped")
    assert set(merged["run_id"]) == expected
    assert not merged.duplicated(["run_id", "split"]).any()
    weights = [c for c in merged.columns if c.startswith("w.")]
    val = merged[merged["split"] == "val"]
    assert not val.duplicated(weights).any(), val[["run_id", *weights]]

    exported_path = tmp_path / "exported.parquet"
    cli = subprocess.run(
        [sys.executable, "-m", "paretokit.cli", "export", "--storage", url,
         "--study-name", study.study_name, "-o", str(exported_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    print(f"export: {cli.stdout.strip()}")
    exported = read_results(exported_path).frame
    assert set(exported["run_id"]) == expected and len(exported) == 2 * len(expected)
    cols = ["run_id", "split", *weights] + [c for c in merged.columns if c.startswith("metric.")]

    def key(f: pd.DataFrame) -> pd.DataFrame:
        return f[cols].sort_values(["run_id", "split"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(key(merged), key(exported))


def test_three_workers_share_one_budget(database, tmp_path):
    trials, study_name = 9, "team"
    outs = [tmp_path / f"worker_{i}.parquet" for i in range(3)]
    t0 = time.monotonic()
    procs = [start_worker(database, study_name, trials, out) for out in outs]
    codes = wait_all(procs)
    print(f"\n3 workers, --trials {trials}: exit codes {codes}, {time.monotonic() - t0:.1f} s")
    study = load(database, study_name)
    print(describe(study))
    for out, code in zip(outs, codes):
        assert code == 0, worker_log(out)
    states = Counter(t.state for t in study.get_trials(deepcopy=False))
    assert states[TrialState.COMPLETE] == trials, states
    assert states[TrialState.RUNNING] == states[TrialState.WAITING] == 0, states
    # any other trial lost a race for the last slot and was given back before drawing weights
    others = [t for t in study.get_trials(deepcopy=False) if t.state != TrialState.COMPLETE]
    assert all(t.state == TrialState.FAIL and not t.params for t in others), describe(study)

    # every worker trained some of the trials, and its file holds the rows of those
    # (a trial asked in a race for the last slot and given back has no pid and no weights)
    by_worker = Counter(
        t.user_attrs["pid"] for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    )
    print("trials per worker:", {p.pid: by_worker[p.pid] for p in procs})
    for p, out in zip(procs, outs):
        own = {
            f"sweep:{study_name}:{t.number}:s0"
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.user_attrs["pid"] == p.pid
        }
        assert own, f"worker {p.pid} ran no trial: {worker_log(out)}"
        assert own <= set(read_results(out).frame["run_id"])
    check_results(study, outs, tmp_path, database)


def test_killed_worker_trial_is_retried_by_another(database, tmp_path):
    """SIGKILL a worker (on "another machine") mid-trial: once its heartbeat is older than the
    grace period a live worker fails that trial and queues its weights again, and the workers
    together still finish exactly the budget. The victim is killed in its first trial; with 4
    trials and a 10 s grace period the survivors usually take the other three slots before the
    dead trial turns stale, so one of them waits for a free slot (the end-of-budget path)."""
    trials, study_name = 4, "killed"
    beat = ("--heartbeat-interval", "1", "--grace-period", "10")
    outs = [tmp_path / f"worker_{i}.parquet" for i in range(3)]
    victim = start_worker(database, study_name, trials, outs[0], *beat, host="elsewhere")
    survivors = [start_worker(database, study_name, trials, out, *beat) for out in outs[1:]]
    killed, t0, t_kill = None, time.monotonic(), 0.0
    while killed is None and time.monotonic() < t0 + 120 and victim.poll() is None:
        try:
            running = load(database, study_name).get_trials(states=(TrialState.RUNNING,))
        except KeyError:  # the study is not created yet
            running = []
        # mid-trial: its weights are drawn (params set) and it is training
        mine = [t for t in running if t.user_attrs.get("pid") == victim.pid and t.params]
        if mine:
            victim.send_signal(signal.SIGKILL)
            killed, t_kill = mine[0], time.monotonic() - t0
        time.sleep(0.1)
    assert killed is not None, f"the victim never ran a trial: {worker_log(outs[0])}"
    victim.wait()
    codes = wait_all(survivors)
    study = load(database, study_name)
    print(
        f"\nkilled worker {victim.pid} (host 'elsewhere') in trial {killed.number} at "
        f"{t_kill:.1f} s; survivors' exit codes {codes} at {time.monotonic() - t0:.1f} s"
    )
    print(describe(study))
    for out, code in zip(outs[1:], codes):
        assert code == 0, worker_log(out)
    all_trials = study.get_trials(deepcopy=False)
    states = Counter(t.state for t in all_trials)
    assert states[TrialState.COMPLETE] == trials, states
    assert states[TrialState.RUNNING] == states[TrialState.WAITING] == 0, states
    assert all_trials[killed.number].state == TrialState.FAIL
    retries = [t for t in all_trials if t.user_attrs.get("retry_of") == killed.number]
    assert len(retries) == 1 and retries[0].params == killed.params
    assert retries[0].state == TrialState.COMPLETE
    assert retries[0].user_attrs["pid"] in {p.pid for p in survivors}
    check_results(study, outs[1:], tmp_path, database)
