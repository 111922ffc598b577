"""Appending batch by batch (a sweep): each append writes only its batch, readers see every row,
the guarantees of append_results hold, and closing leaves one file."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from paretokit import results as R
from paretokit import results_store as store
from paretokit.errors import ResultsFileError
from paretokit.results_append import ResultsAppender, fold_parts
from tests.test_results import META, record


def rows(*ids: str, metric: float = 1.0) -> list[dict]:
    return [row for i in ids for row in record(i, metric).rows()]


def test_appends_go_to_parts_readers_see_them_and_close_leaves_one_file(tmp_path):
    path = tmp_path / "r.parquet"
    with ResultsAppender(path, META) as app:
        assert app.append(rows("r0")) == 2  # no file yet: written whole
        first = store.file_state(path)
        for i in range(1, 5):
            assert app.append(rows(f"r{i}")) == 2
        assert store.file_state(path) == first  # the file itself was not rewritten
        assert len(store.list_parts(path)) == 4
        assert R.read_results(path).frame["run_id"].tolist() == [
            f"r{i}" for i in range(5) for _ in range(2)
        ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet"]
    assert pq.read_table(path).num_rows == 10  # folded: the file alone holds every row


def test_an_append_reads_no_row_the_file_already_holds(tmp_path, monkeypatch):
    path = tmp_path / "r.parquet"
    R.append_results(path, rows(*[f"old{i}" for i in range(50)]), META)
    app = ResultsAppender(path, META)
    app.append(rows("r0"))  # the first append indexes the file once
    reads = []
    real = pq.read_table

    def counted(source, *args, **kwargs):
        reads.append((str(source), kwargs.get("columns")))
        return real(source, *args, **kwargs)

    monkeypatch.setattr("pyarrow.parquet.read_table", counted)
    for i in range(1, 3 * store.FANOUT):
        app.append(rows(f"r{i}"))
    assert not [r for r in reads if r[0] == str(path)]  # never the file
    parts = store.list_parts(path)
    assert all(sum(store.part_level(p) == lv for p in parts) < store.FANOUT for lv in range(3))
    monkeypatch.undo()
    frame = R.read_results(path).frame
    assert frame["run_id"].tolist()[100::2] == [f"r{i}" for i in range(3 * store.FANOUT)]
    app.close()
    assert not store.list_parts(path) and len(R.read_results(path).frame) == 2 * (50 + 24)


def test_a_held_run_is_not_added_again_and_another_run_under_its_id_is_refused(tmp_path):
    path = tmp_path / "r.parquet"
    with ResultsAppender(path, META) as app:
        app.append(rows("r0", "r1"))
        app.append(rows("r2"))
        assert app.append(rows("r1", "r2")) == 0  # same runs: nothing added
        with pytest.raises(ResultsFileError, match="two different runs under one id"):
            app.append(rows("r2", metric=9.0))
        assert app.append(rows("r2", metric=9.0), check=False) == 0  # held: dropped unread
    assert len(R.read_results(path).frame) == 6


def test_two_appenders_see_each_others_rows(tmp_path):
    path = tmp_path / "r.parquet"
    a, b = ResultsAppender(path, META), ResultsAppender(path, META)
    a.append(rows("r0"))
    b.append(rows("r1"))
    a.append(rows("r2"))
    assert b.append(rows("r0", "r2", "r3")) == 2  # only r3 is new to the file
    a.close()  # folds every writer's parts; b goes on appending to the new file
    assert b.append(rows("r3", "r4")) == 2
    b.close()
    assert sorted(set(R.read_results(path).frame["run_id"])) == [f"r{i}" for i in range(5)]


def test_a_file_of_other_tasks_is_refused(tmp_path):
    path = tmp_path / "r.parquet"
    R.append_results(path, rows("r0"), META)
    other = R.ResultsMeta("toy", (R.TaskMeta("a", "mae", False, "eV"),))
    with pytest.raises(ResultsFileError, match="another --out"):
        ResultsAppender(path, other).append(rows("r1"))


def test_parts_left_by_a_crash_are_read_and_folded_by_the_next_writer(tmp_path):
    path = tmp_path / "r.parquet"
    app = ResultsAppender(path, META)
    app.append(rows("r0"))
    app.append(rows("r1"))  # never closed: a killed sweep
    assert len(R.read_results(path).frame) == 4 and store.list_parts(path)
    R.append_results(path, rows("r2"), META)
    assert not store.list_parts(path) and len(pq.read_table(path)) == 6
    app.append(rows("r3"))
    R.merge_results([path], path)  # merge folds too
    assert not store.list_parts(path) and len(pq.read_table(path)) == 8
    fold_parts(path)  # nothing to fold: a no-op
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet"]


def test_parts_of_a_deleted_file_do_not_come_back_in_a_new_one(tmp_path):
    path = tmp_path / "r.parquet"
    app = ResultsAppender(path, META)
    app.append(rows("r0"))
    app.append(rows("old"))  # a part; then the sweep is killed and the file deleted by hand
    path.unlink()
    R.append_results(path, rows("r1"), META)
    assert R.read_results(path).frame["run_id"].unique().tolist() == ["r1"]
    ResultsAppender(path, META).append(rows("old2"))  # a part again, left behind
    path.unlink()
    with ResultsAppender(path, META) as again:
        again.append(rows("r2"))
    assert R.read_results(path).frame["run_id"].unique().tolist() == ["r2"]
