"""Every bad input is one line, exit 1, nothing lost (issue 11 §3), and files and imports
(§4): a full disk, a read-only folder, damaged metadata, problem specs that are not problems,
passwords in storage URLs, a symlinked results file, and an export that never runs code."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import sys

import optuna
import pyarrow.parquet as pq
import pytest

from paretokit.results import RunRecord, append_results, read_results
from tests import helpers
from tests.helpers import META, USER, run, sweep_args


def record(run_id: str, w: float = 0.3) -> RunRecord:
    return helpers.record(run_id, w, trial=int(run_id.rsplit(":", 1)[1]))


def small_sweep(tmp_path, *extra: object, trials: int = 2) -> list[object]:
    return sweep_args(tmp_path, *extra, trials=trials)


def assert_user_error(result, *fragments: str) -> None:
    helpers.assert_user_error(result, *fragments, after_progress=True)


def test_disk_full_while_writing_results_is_one_line_and_keeps_the_old_file(tmp_path, monkeypatch):
    a, out = tmp_path / "a.parquet", tmp_path / "all.parquet"
    append_results(a, record("sweep:s:0").rows(), META)
    append_results(out, record("sweep:s:1", 0.6).rows(), META)
    before = out.read_bytes()

    def full(table, where, **kw):
        where.write(b"PAR1 a bit")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pyarrow.parquet.write_table", full)
    assert_user_error(run("merge", a, "-o", out), "No space left on device", "left unchanged")
    assert out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_disk_full_on_the_sqlite_storage_is_one_line_naming_the_cause(tmp_path, monkeypatch):
    """Optuna's own message blames "exceeding max length"; the cause is the disk."""
    assert run(*small_sweep(tmp_path)).exit_code == 0
    before = len(read_results(tmp_path / "r.parquet").frame)
    real = optuna.storages.RDBStorage.set_trial_user_attr

    def full(self, trial_id, key, value):
        if key == "paretokit_record":  # the write that stores a finished trial's rows
            try:
                raise sqlite3.OperationalError("database or disk is full")
            except sqlite3.OperationalError as exc:
                raise optuna.exceptions.StorageInternalError(
                    "An exception is raised during the commit. This typically happens due to "
                    "invalid data in the commit, e.g. exceeding max length."
                ) from exc
        return real(self, trial_id, key, value)

    monkeypatch.setattr(optuna.storages.RDBStorage, "set_trial_user_attr", full)
    result = run(*small_sweep(tmp_path, trials=3))
    assert_user_error(result, "database or disk is full", "re-run")
    assert len(read_results(tmp_path / "r.parquet").frame) == before  # nothing lost


def test_plot_into_a_folder_it_cannot_write_is_one_line(tmp_path, monkeypatch):
    path = tmp_path / "r.parquet"
    append_results(path, record("sweep:s:0").rows() + record("sweep:s:1", 0.6).rows(), META)
    target = tmp_path / "ro" / "f.png"

    def denied(self, fname, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(fname))

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", denied)
    assert_user_error(run("plot", path, "--out", target), "Permission denied", "ro")


# ---- §3: damaged files ---------------------------------------------------------------------------


def _with_meta(path, meta: object) -> None:
    table = pq.read_table(path)
    metadata = {**table.schema.metadata, b"paretokit": json.dumps(meta).encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path)


@pytest.mark.parametrize(
    "meta, fragment",
    [
        ([1, 2], "JSON list"),
        (
            {"format": 1, "problem": "toy", "tasks": [], "metrics": {}, "directions": {}},
            "no tasks",
        ),
        (
            {"format": 1, "problem": "toy", "tasks": ["a"], "metrics": {"a": "mae"}},
            "no directions",
        ),
    ],
)
def test_damaged_metadata_is_one_line(tmp_path, meta, fragment):
    path = tmp_path / "r.parquet"
    append_results(path, record("sweep:s:0").rows(), META)
    _with_meta(path, meta)
    for command in ("report", "plot"):
        assert_user_error(run(command, path), "damaged paretokit metadata", fragment)


def test_a_learning_rate_stored_as_text_is_one_line(tmp_path):
    path = tmp_path / "r.parquet"
    append_results(path, record("sweep:s:0").rows(), META)
    table = pq.read_table(path)
    frame = table.to_pandas()
    frame["lr"] = "0.1"
    import pyarrow as pa

    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(
            table.schema.metadata
        ),
        path,
    )
    assert_user_error(run("report", path), "numeric column(s) lr", "'0.1'")


# ---- §3: problem specs that are not problems ----------------------------------------------


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("os:system", "cannot be called as f(tasks=...)"),
        ("os:getcwd", "cannot be called as f(tasks=...)"),
        ("builtins:print", "cannot be called as f(tasks=...)"),
        ("math:pi", "is not a problem factory"),
        (":foo", "package.module:name"),
        ("paretokit.problems:Problem", "abstract"),
    ],
)
def test_problem_specs_that_are_not_problems_are_one_line(tmp_path, monkeypatch, spec, fragment):
    monkeypatch.chdir(tmp_path)
    for command in (["sweep"], ["compare", "ls"]):
        assert_user_error(run(*command, "--problem", spec, "--device", "cpu"), fragment)
    assert not (tmp_path / "results.parquet").exists()


def test_a_bad_task_spec_of_a_user_problem_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_user_error(
        run("sweep", "--problem", "tests.bad_problems:unknown_metric", "--device", "cpu"),
        "unknown metric 'f1'",
    )


# ---- §3: passwords -----------------------------------------------------------------------------


def test_storage_passwords_are_masked_in_every_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = "postgresql://bob:s3cr3t@127.0.0.1:1/none"
    for args in (
        ["sweep", "--problem", USER, "--device", "cpu", "--storage", url],
        ["export", "--storage", url, "--study-name", "x"],
    ):
        result = run(*args)
        assert_user_error(result, "bob:***@127.0.0.1")
        assert "s3cr3t" not in result.output


# ---- §4: files and imports -------------------------------------------------------------------


def test_a_symlinked_results_file_is_written_through_to_its_target(tmp_path):
    target, link = tmp_path / "data" / "r.parquet", tmp_path / "link.parquet"
    target.parent.mkdir()
    append_results(target, record("sweep:s:0").rows(), META)
    link.symlink_to(target)
    append_results(link, record("sweep:s:1", 0.6).rows(), META)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(read_results(target).frame) == 4
    assert not (tmp_path / ".link.parquet.lock").exists()  # one lock: the target's
    append_results(target, record("sweep:s:2", 0.9).rows(), META)
    assert len(read_results(link).frame) == 6


def test_export_never_imports_the_module_a_stored_setting_names(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(study_name="x", storage=url, directions=["minimize"] * 2)
    study.set_user_attr("paretokit_setting", {"problem": "this:x", "tasks": ["a", "b"]})
    sys.modules.pop("this", None)
    result = run("export", "--storage", url, "--study-name", "x", "--out", tmp_path / "r.parquet")
    assert_user_error(result, "'this:x'", "--allow-import")
    assert "this" not in sys.modules
    assert not (tmp_path / "r.parquet").exists()


def test_export_refuses_damaged_stored_metadata_and_records(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(study_name="x", storage=url, directions=["minimize"] * 2)
    study.set_user_attr("paretokit_meta", [1, 2])
    result = run("export", "--storage", url, "--study-name", "x", "--out", tmp_path / "r.parquet")
    assert_user_error(result, "damaged results metadata")
    study.set_user_attr("paretokit_meta", json.loads(META.to_json()))
    trial = study.ask()
    bad = {**json.loads(json.dumps(record("sweep:x:0").__dict__)), "task_names": ["a", "zz"]}
    trial.set_user_attr("paretokit_record", json.dumps(bad))
    study.tell(trial, [1.0, 0.5])
    result = run("export", "--storage", url, "--study-name", "x", "--out", tmp_path / "r.parquet")
    assert_user_error(result, "trial 0", "damaged run record")


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_export_of_a_missing_storage_file_refuses_instead_of_creating_it(tmp_path, kind):
    path = tmp_path / ("none.db" if kind == "sqlite" else "none.log")
    url = f"sqlite:///{path}" if kind == "sqlite" else str(path)
    result = run("export", "--storage", url, "--study-name", "x", "--out", tmp_path / "r.parquet")
    assert_user_error(result, "does not exist")
    assert not path.exists()
