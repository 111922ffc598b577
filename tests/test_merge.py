"""Merging results files (one per sweep worker) and exporting a study back to a results file."""

from __future__ import annotations

import pandas as pd
import pytest

from paretokit import results as R
from paretokit.errors import ResultsFileError
from tests import helpers
from tests.helpers import assert_user_error
from tests.helpers import run as cli
from tests.test_results import META, record


def write(path, *records: R.RunRecord):
    return helpers.write(path, *records, meta=META)


def test_merge_keeps_every_run_once(tmp_path):
    a = write(tmp_path / "a.parquet", record("r1", 1.0), record("r2", 2.0))
    b = write(tmp_path / "b.parquet", record("r2", 2.0), record("r3", 3.0))
    out = tmp_path / "all.parquet"
    assert R.merge_results([a, b], out) == (6, 2)  # 3 runs × 2 splits; r2's two rows dropped
    res = R.read_results(out)
    assert res.meta == META
    assert list(res.frame.columns) == R.columns_for(["a", "b"])
    assert not res.frame.duplicated(["run_id", "split"]).any()
    val = res.frame[res.frame["split"] == "val"].set_index("run_id")["metric.a"]
    assert val.to_dict() == {"r1": 1.0, "r2": 2.0, "r3": 3.0}
    assert R.merge_results([a, b], out) == (6, 8)  # again: nothing new, the file's rows kept


def test_merge_adds_to_an_existing_output_file(tmp_path):
    out = write(tmp_path / "all.parquet", record("r0", 0.5))
    a = write(tmp_path / "a.parquet", record("r1", 1.0))
    assert R.merge_results([a], out) == (4, 0)
    assert sorted(R.read_results(out).frame["run_id"].unique()) == ["r0", "r1"]
    assert R.merge_results([out, a], out) == (4, 2)  # out named as an input is read once


def test_failed_runs_merge_with_nan_metrics(tmp_path):
    failed = record("bad", metrics=None, losses=None, status=R.STATUS_FAILED, error="NaN loss")
    a = write(tmp_path / "a.parquet", failed)
    b = write(tmp_path / "b.parquet", failed, record("r1"))
    assert R.merge_results([a, b], tmp_path / "all.parquet") == (4, 2)


def test_merge_refuses_other_tasks(tmp_path):
    a = write(tmp_path / "a.parquet", record("r1"))
    other = R.ResultsMeta(
        "toy", (R.TaskMeta("a", "mae", False, "eV"), R.TaskMeta("c", "mae", False))
    )
    b = tmp_path / "b.parquet"
    R.append_results(b, record("r2", task_names=["a", "c"]).rows(), other)
    with pytest.raises(ResultsFileError, match="only files of the same problem and tasks"):
        R.merge_results([a, b], tmp_path / "all.parquet")
    assert not (tmp_path / "all.parquet").exists()


def test_merge_refuses_two_runs_under_one_id(tmp_path):
    # e.g. two machines that each ran trial 0 of a study of the same name in their own SQLite
    a = write(tmp_path / "a.parquet", record("sweep:s:0", 1.0))
    b = write(tmp_path / "b.parquet", record("sweep:s:0", 1.5))
    with pytest.raises(ResultsFileError, match="'sweep:s:0' .* differ \\(metric.a 1 vs 1.5\\)"):
        R.merge_results([a, b], tmp_path / "all.parquet")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.write_text("not parquet"), "not a readable Parquet"),
    ],
)
def test_merge_names_the_unreadable_file(tmp_path, make, message):
    a = write(tmp_path / "a.parquet", record("r1"))
    bad = tmp_path / "bad.parquet"
    make(bad)
    with pytest.raises(ResultsFileError, match=message):
        R.merge_results([a, bad], tmp_path / "all.parquet")
    with pytest.raises(ResultsFileError, match="at least one"):
        R.merge_results([], tmp_path / "all.parquet")


def test_crash_while_merging_leaves_the_output_intact(tmp_path, monkeypatch):
    out = write(tmp_path / "all.parquet", record("r0"))
    before = out.read_bytes()
    a = write(tmp_path / "a.parquet", record("r1"))

    def crash(table, where, **kw):
        where.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr("pyarrow.parquet.write_table", crash)
    with pytest.raises(ResultsFileError, match="disk full.*left unchanged"):
        R.merge_results([a], out)
    assert out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_cli_merge(tmp_path):
    a = write(tmp_path / "a.parquet", record("r1", 1.0), record("r2", 2.0))
    b = write(tmp_path / "b.parquet", record("r2", 2.0))
    out = tmp_path / "all.parquet"
    result = cli("merge", a, b, "-o", out)
    assert result.exit_code == 0, result.output
    assert "4 rows" in result.stdout and "2 duplicate" in result.stdout
    assert R.read_results(out).frame["run_id"].nunique() == 2


def test_cli_merge_errors_are_one_line(tmp_path):
    a = write(tmp_path / "a.parquet", record("r1"))
    assert_user_error(
        cli("merge", a, tmp_path / "nope.parquet", "-o", tmp_path / "o.parquet"),
        "nope.parquet",
        "does not exist",
    )
    (tmp_path / "junk.parquet").write_text("junk")
    assert_user_error(
        cli("merge", a, tmp_path / "junk.parquet", "-o", tmp_path / "o.parquet"), "junk.parquet"
    )
    assert cli("merge", a).exit_code == 2  # -o is required (a usage error)


def test_frame_is_untouched_by_merging(tmp_path):
    a = write(tmp_path / "a.parquet", record("r1"))
    before = pd.read_parquet(a)
    R.merge_results([a], tmp_path / "all.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(a), before)


def test_cli_export_rebuilds_the_sweep_rows_from_the_study(tmp_path):
    from paretokit.study import SweepConfig, run_sweep

    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    swept = run_sweep(
        SweepConfig(
            problem="tests.user_problem:make", tasks="2", trials=2, epochs=1, seeds=1, device="cpu",
            storage=storage, study_name="s", out=tmp_path / "r.parquet",
        )
    )  # fmt: skip
    assert swept.finished == 2
    out = tmp_path / "exported.parquet"
    result = cli("export", "--storage", storage, "--study-name", "s", "-o", out)
    assert result.exit_code == 0, result.output
    assert "4 new rows" in result.stdout
    exported, swept_rows = R.read_results(out), R.read_results(tmp_path / "r.parquet")
    assert exported.meta == swept_rows.meta
    cols = ["run_id", "split", "w.a", "w.b", "metric.a", "metric.b", "status"]

    def key(f: pd.DataFrame) -> pd.DataFrame:
        return f[cols].sort_values(["run_id", "split"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(key(exported.frame), key(swept_rows.frame))
    again = cli("export", "--storage", storage, "--study-name", "s", "-o", out)
    assert again.exit_code == 0 and "0 new rows" in again.stdout  # nothing duplicated
    assert_user_error(
        cli("export", "--storage", storage, "--study-name", "nope", "-o", out), "nope"
    )


def test_cli_export_unreachable_storage_is_one_line(tmp_path):
    url = f"sqlite:///{tmp_path}/no/such/dir/x.db"
    assert_user_error(
        cli("export", "--storage", url, "--study-name", "s", "-o", tmp_path / "o.parquet"),
        "storage",
    )
    assert not (tmp_path / "o.parquet").exists()
