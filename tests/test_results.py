"""The results file: schema, metadata, atomic append, no duplicates, validation."""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paretokit import results as R
from paretokit.errors import ResultsFileError
from tests import helpers

META = R.ResultsMeta(
    "toy", (R.TaskMeta("a", "mae", False, "eV"), R.TaskMeta("b", "accuracy", True))
)


def record(run_id: str, metric_a: float = 1.0, **kw) -> R.RunRecord:
    """A sweep run whose test metric a is one above its validation metric a."""
    return helpers.record(
        run_id, metric=metric_a, test_metric=metric_a + 1, train_seconds=1.5, step_ms=2.0, **kw
    )


def test_columns_and_metadata_round_trip(tmp_path):
    path = tmp_path / "r.parquet"
    assert R.append_results(path, record("r1").rows(), META) == 2
    res = R.read_results(path)
    assert res.meta == META
    assert list(res.frame.columns) == R.columns_for(["a", "b"])
    for col in (
        "study",
        "problem",
        "run_id",
        "kind",
        "method",
        "seed",
        "split",
        "w.a",
        "metric.b",
        "loss.a",
        "train_seconds",
        "step_ms",
        "device",
        "version",
        "status",
    ):
        assert col in res.frame.columns
    val = res.frame[res.frame["split"] == "val"].iloc[0]
    assert val["metric.a"] == 1.0 and val["w.b"] == 0.7 and val["status"] == "ok"
    test = res.frame[res.frame["split"] == "test"].iloc[0]
    assert test["metric.a"] == 2.0 and test["loss.b"] == 0.4


def test_append_keeps_rows_and_skips_duplicates(tmp_path):
    path = tmp_path / "r.parquet"
    R.append_results(path, record("r1").rows(), META)
    assert R.append_results(path, record("r2", 3.0).rows(), META) == 2
    assert R.append_results(path, record("r1").rows(), META) == 0  # same run: not added again
    with pytest.raises(ResultsFileError, match="two different runs under one id"):
        R.append_results(path, record("r1", 99.0).rows(), META)  # another run under r1's id
    frame = R.read_results(path).frame
    assert len(frame) == 4
    assert sorted(frame["run_id"].unique()) == ["r1", "r2"]
    assert frame.loc[frame["run_id"] == "r1", "metric.a"].tolist() == [1.0, 2.0]


def test_failed_run_rows_have_nan_metrics(tmp_path):
    path = tmp_path / "r.parquet"
    rec = record("bad", metrics=None, losses=None, status=R.STATUS_FAILED, error="NaN loss")
    R.append_results(path, rec.rows(), META)
    res = R.read_results(path)
    assert res.frame["status"].tolist() == ["failed", "failed"]
    assert math.isnan(res.frame["metric.a"].iloc[0])
    assert res.ok().empty


def test_other_tasks_are_refused(tmp_path):
    path = tmp_path / "r.parquet"
    R.append_results(path, record("r1").rows(), META)
    other = R.ResultsMeta(
        "toy", (R.TaskMeta("a", "mae", False, "eV"), R.TaskMeta("c", "mae", False))
    )
    with pytest.raises(ResultsFileError, match="another --out"):
        R.append_results(path, record("r2", task_names=["a", "c"]).rows(), other)


def test_crash_mid_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "r.parquet"
    R.append_results(path, record("r1").rows(), META)
    before = path.read_bytes()

    def crash(table, where, **kw):
        where.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr("pyarrow.parquet.write_table", crash)
    with pytest.raises(ResultsFileError, match="disk full.*left unchanged"):
        R.append_results(path, record("r2").rows(), META)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []
    monkeypatch.undo()
    assert len(R.read_results(path).frame) == 2


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.write_text("not parquet"), "not a readable Parquet"),
        (lambda p: pq.write_table(pa.table({"x": [1]}), p), "not a paretokit results file"),
        (lambda p: p.mkdir(), "is a folder"),
    ],
)
def test_reader_rejects_foreign_files(tmp_path, make, message):
    path = tmp_path / "f.parquet"
    make(path)
    with pytest.raises(ResultsFileError, match=message):
        R.read_results(path)


def test_reader_rejects_missing_columns(tmp_path):
    path = tmp_path / "r.parquet"
    R.append_results(path, record("r1").rows(), META)
    table = pq.read_table(path)
    pq.write_table(table.drop(["step_ms"]).replace_schema_metadata(table.schema.metadata), path)
    with pytest.raises(ResultsFileError, match="step_ms"):
        R.read_results(path)


def test_dtypes_are_stable_across_appends(tmp_path):
    path = tmp_path / "r.parquet"
    R.append_results(path, record("r1", kind="sweep").rows(), META)
    R.append_results(path, record("m1", kind="method", weights=None, trial=-1).rows(), META)
    frame = R.read_results(path).frame
    assert frame["seed"].dtype == "int64" and frame["metric.a"].dtype == "float64"
    assert pd.isna(frame.loc[frame["run_id"] == "m1", "w.a"]).all()


def test_trajectory_round_trip_and_old_files(tmp_path):
    path = tmp_path / "r.parquet"
    traj = {"step": [0, 5, 10], "loss": [[1.0, 2.0], [0.123456789, float("nan")], [0.5, 0.25]],
            "x": [[-8.5, 7.5], [-8.4, 7.4], [1 / 3, -2 / 3]]}  # fmt: skip
    text = R.trajectory_json(traj)
    R.append_results(path, record("r1", trajectory=text).rows() + record("r2").rows(), META)
    frame = R.read_results(path).frame
    got = R.read_trajectory(frame[frame.run_id == "r1"]["trajectory"].iloc[0])
    assert got["step"] == [0, 5, 10]
    assert got["loss"][1] == [0.1234568, None]  # 7 significant digits; NaN is null
    assert got["x"][2] == pytest.approx([1 / 3, -2 / 3], rel=1e-6)
    assert R.read_trajectory(frame[frame.run_id == "r2"]["trajectory"].iloc[0]) is None
    # a file written before the column existed reads as "" (no trajectory)
    old = tmp_path / "old.parquet"
    table = pq.read_table(path).drop(["trajectory"])
    pq.write_table(table, old)
    frame = R.read_results(old).frame
    assert list(frame["trajectory"]) == [""] * 4
    assert all(R.read_trajectory(t) is None for t in frame["trajectory"])
    # appending to an old file keeps its rows and adds the column
    R.append_results(old, record("r3", trajectory=text).rows(), META)
    frame = R.read_results(old).frame
    assert R.read_trajectory(frame[frame.run_id == "r3"]["trajectory"].iloc[0])["step"] == [
        0,
        5,
        10,
    ]
    for bad in ('{"step": [0], "loss": [], "x": [[0, 0]]}', "not json", '{"step": []}'):
        with pytest.raises(ResultsFileError, match="damaged trajectory"):
            R.read_trajectory(bad)
