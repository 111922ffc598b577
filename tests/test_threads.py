"""torch's CPU threads: chosen before any work (``--threads``, else $OMP_NUM_THREADS, else 1)
and recorded in every results row; files written before the column existed read as -1."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import torch
from typer.testing import CliRunner

from paretokit.cli import app
from paretokit.errors import ParetokitError
from paretokit.results import append_results, read_results
from paretokit.train import use_threads
from tests.test_report import META, write_file

runner = CliRunner()


@pytest.fixture(autouse=True)
def keep_torch_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_default_is_one_thread_unless_omp_num_threads_says(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert use_threads() == 1 == torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert use_threads() == 2 == torch.get_num_threads()
    assert use_threads(1) == 1  # the option wins over the environment


@pytest.mark.parametrize("env, threads", [("two", None), ("0", None), ("", 0), ("", -3)])
def test_bad_thread_counts_are_user_errors(monkeypatch, env, threads):
    monkeypatch.setenv("OMP_NUM_THREADS", env)
    with pytest.raises(ParetokitError, match="thread"):
        use_threads(threads)


def test_sweep_and_compare_record_their_threads(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    out, db = tmp_path / "r.parquet", f"sqlite:///{tmp_path / 's.db'}"
    tiny = ["--problem", "multidigits", "--epochs", "1", "--device", "cpu", "--out", str(out)]
    sweep = runner.invoke(app, ["sweep", *tiny, "--trials", "1", "--storage", db])
    assert sweep.exit_code == 0, sweep.output
    compare = runner.invoke(app, ["compare", "ls", *tiny, "--seeds", "1", "--threads", "1"])
    assert compare.exit_code == 0, compare.output
    frame = read_results(out).frame
    assert set(frame.loc[frame["kind"] == "sweep", "threads"]) == {2}  # from the environment
    assert set(frame.loc[frame["kind"] != "sweep", "threads"]) == {1}  # --threads
    assert frame["threads"].dtype == "int64"


def test_threads_zero_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["sweep", "--problem", "multidigits", "--threads", "0"])
    assert result.exit_code == 1 and result.stderr.startswith("error: --threads")
    assert list(tmp_path.iterdir()) == []


def test_a_file_without_the_column_reads_as_unrecorded(tmp_path):
    path = tmp_path / "old.parquet"
    write_file(path)
    table = pq.read_table(path)
    pq.write_table(table.drop(["threads"]), path)  # as written before the column existed
    old = read_results(path).frame
    assert (old["threads"] == -1).all()
    rows = old.iloc[:1].to_dict(orient="records")
    rows[0].update(run_id="new", threads=4)
    assert append_results(path, rows, META) == 1
    frame = read_results(path).frame
    assert frame.set_index("run_id")["threads"].to_dict()["new"] == 4
    assert (frame.loc[frame["run_id"] != "new", "threads"] == -1).all()
