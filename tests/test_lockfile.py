"""The results file's lock: no lock file is left beside the user's file, and writers that
remove it still exclude each other (no append is lost)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from paretokit.results import ResultsMeta, RunRecord, TaskMeta, append_results, read_results

ROOT = Path(__file__).resolve().parent.parent
META = ResultsMeta("toy", (TaskMeta("a", "mae", False),))


def rows(run_id: str) -> list[dict[str, object]]:
    record = RunRecord(
        study="s", problem="toy", run_id=run_id, kind="method", method="m", seed=0,
        task_names=["a"], epochs=1, batch_size=1, lr=0.1, device="cpu",
        metrics={"val": [1.0], "test": [1.0]}, losses={"val": [1.0], "test": [1.0]},
    )  # fmt: skip
    return record.rows()


def test_no_lock_file_is_left(tmp_path):
    path = tmp_path / "r.parquet"
    append_results(path, rows("x"), META)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet"]


WRITER = """
import sys
from tests.test_lockfile import META, rows
from paretokit.results import append_results
path, me = sys.argv[1], sys.argv[2]
for i in range(6):
    append_results(path, rows(f"{me}:{i}"), META)
"""


def test_concurrent_writers_lose_no_append(tmp_path):
    """Each append reads the file, adds its rows and replaces the file: without mutual
    exclusion, two writers interleaving would drop one's rows."""
    path = tmp_path / "r.parquet"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(w)], cwd=ROOT)
        for w in range(4)
    ]
    assert [p.wait(timeout=600) for p in procs] == [0] * 4
    frame = read_results(path).frame
    assert frame["run_id"].nunique() == 24 and len(frame) == 48
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet"]
