"""Never a wrong number without a word (issue 11 §1): stale rows shown as new, settings
replaced by defaults, half-done baselines, duplicated rows, samplers mixed in one study, and
a baseline that is there but not finite."""

from __future__ import annotations

import math
import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paretokit.compare import CompareCallbacks, CompareConfig, run_compare
from paretokit.errors import ResultsFileError
from paretokit.report import build_reports
from paretokit.results import append_results, read_results
from tests.helpers import META, USER, assert_user_error, record, run


def digits_sweep(out, *extra: object) -> list[object]:
    return [
        "sweep",
        "--problem",
        "multidigits",
        "--epochs",
        "1",
        "--batch-size",
        "256",
        "--trials",
        "3",
        "--device",
        "cpu",
        "--out",
        out,
        *extra,
    ]


def rows_of(path):
    return read_results(path).frame.sort_values(["run_id", "split"]).reset_index(drop=True)


# ---- stale rows shown as new ---------------------------------------------------------------


def test_rerun_after_the_storage_was_deleted_is_refused_not_shown_as_new(tmp_path, monkeypatch):
    """The issue's reproduction: sweep, delete paretokit-studies.db, re-run with the grid
    sampler. Before: "3 complete (3 new)" while the file kept the old rows and the printed
    front showed the old weights."""
    monkeypatch.chdir(tmp_path)
    first = run(*digits_sweep("r.parquet"))
    assert first.exit_code == 0, first.output
    before = rows_of("r.parquet")
    (tmp_path / "paretokit-studies.db").unlink()
    again = run(*digits_sweep("r.parquet", "--sampler", "grid"))
    assert_user_error(again, "r.parquet", "another study of the same name", "sweep:")
    assert rows_of("r.parquet").equals(before)  # nothing lost, nothing replaced


def test_copied_file_and_other_epochs_under_one_study_name_is_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = run(*digits_sweep(tmp_path / "a" / "r.parquet", "--study-name", "S"))
    assert first.exit_code == 0, first.output
    shutil.copy(tmp_path / "a" / "r.parquet", tmp_path / "b" / "r.parquet")
    before = rows_of(tmp_path / "b" / "r.parquet")
    again = run(*digits_sweep(tmp_path / "b" / "r.parquet", "--study-name", "S", "--epochs", "2"))
    assert_user_error(again, "another study of the same name")
    assert rows_of(tmp_path / "b" / "r.parquet").equals(before)


def test_export_of_another_study_of_the_same_name_names_both_runs(tmp_path):
    """Before: `export` added "0 new rows" and the file kept the other study's numbers."""
    for seed, db in ((0, "s1.db"), (1, "s2.db")):
        result = run(
            *digits_sweep(
                tmp_path / f"{db}.parquet",
                "--study-name",
                "S",
                "--seed",
                seed,
                "--storage",
                f"sqlite:///{tmp_path / db}",
            )
        )
        assert result.exit_code == 0, result.output
    before = rows_of(tmp_path / "s1.db.parquet")
    exported = run(
        "export",
        "--storage",
        f"sqlite:///{tmp_path / 's2.db'}",
        "--study-name",
        "S",
        "--out",
        tmp_path / "s1.db.parquet",
    )
    assert_user_error(exported, "'sweep:S:0", "s1.db.parquet", "two different runs under one id")
    assert rows_of(tmp_path / "s1.db.parquet").equals(before)


@pytest.mark.parametrize(
    "other, fragment",
    [
        (dict(w=0.6), "w.a 0.3 vs 0.6"),
        (dict(epochs=2), "epochs 1 vs 2"),
        (dict(metric=7.0), "metric.a 1 vs 7"),
    ],
)
def test_append_refuses_another_run_under_a_held_id(tmp_path, other, fragment):
    path = tmp_path / "r.parquet"
    append_results(path, record("sweep:s:0").rows(), META)
    assert append_results(path, record("sweep:s:0").rows(), META) == 0  # the same run: skipped
    with pytest.raises(ResultsFileError, match="two different runs under one id") as err:
        append_results(path, record("sweep:s:0", **other).rows(), META)
    assert fragment in str(err.value) and "'sweep:s:0'" in str(err.value)
    assert len(read_results(path).frame) == 2


# ---- bad settings replaced by defaults ---------------------------------------------------


@pytest.mark.parametrize(
    "command, option, value, fragment",
    [
        ("sweep", "--epochs", "0", "epochs"),
        ("sweep", "--batch-size", "0", "batch size"),
        ("sweep", "--lr", "0", "learning rate"),
        ("sweep", "--lr", "inf", "learning rate"),
        ("compare", "--epochs", "0", "epochs"),
        ("compare", "--epochs", "-1", "epochs"),
        ("compare", "--batch-size", "-5", "batch size"),
        ("compare", "--lr", "-1", "learning rate"),
        ("compare", "--lr", "nan", "learning rate"),
        ("sweep", "--seed", "99999999999999999999", "seed"),
        ("sweep", "--seed", "4294967296", "seed"),
        ("sweep", "--seed", "-1", "seed"),
        ("compare", "--seeds", "4294967297", "seed"),
    ],
)
def test_bad_training_settings_are_refused_before_any_work(
    tmp_path, monkeypatch, command, option, value, fragment
):
    monkeypatch.chdir(tmp_path)
    head = [command]
    if command == "compare":
        head += ["ls"] + (["--seeds", "1"] if option != "--seeds" else [])
    result = run(*head, "--problem", USER, "--device", "cpu", option, value)
    assert_user_error(result, fragment)
    assert not (tmp_path / "results.parquet").exists()
    assert not (tmp_path / "paretokit-studies.db").exists()


# ---- half-done baselines ---------------------------------------------------------------------


def test_interrupted_compare_trains_the_missing_baselines_on_rerun(tmp_path):
    out = tmp_path / "r.parquet"
    config = CompareConfig(
        methods=["ls"], problem=USER, tasks="a,b", seeds=2, epochs=1, out=out, device="cpu"
    )

    def stop_after_first(run, status, error):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_compare(config, CompareCallbacks(on_run_end=stop_after_first))
    assert set(read_results(out).frame["method"]) == {"stl:a"}  # one STL run of four
    outcome = run_compare(config)
    test = read_results(out).frame.query("split == 'test'")
    stl = test[test["kind"] == "stl"]
    assert sorted(zip(stl["method"], stl["seed"])) == [
        ("stl:a", 0),
        ("stl:a", 1),
        ("stl:b", 0),
        ("stl:b", 1),
    ]
    assert outcome.trained == 5 and outcome.skipped == 1
    (rep,) = build_reports(read_results(out))
    assert math.isfinite(rep.methods.set_index("method").loc["ls", "delta_m"])


# ---- duplicated rows on read -------------------------------------------------------------


def _doubled(path, change=None):
    table = pq.read_table(path)
    frame = table.to_pandas()
    twice = frame.iloc[[0]].copy()
    if change:
        twice[change[0]] = change[1]
    both = pa.Table.from_pandas(pd.concat([frame, twice]), preserve_index=False)
    pq.write_table(both.replace_schema_metadata(table.schema.metadata), path)


def test_identical_duplicate_rows_are_dropped_on_read(tmp_path):
    path = tmp_path / "r.parquet"
    append_results(path, record("sweep:s:0").rows() + record("sweep:s:1", w=0.6).rows(), META)
    _doubled(path)
    assert len(pq.read_table(path)) == 5
    frame = read_results(path).frame
    assert len(frame) == 4 and not frame.duplicated(["run_id", "split"]).any()
    build_reports(read_results(path), split="val")  # counts 2 runs, not 3


def test_conflicting_duplicate_rows_are_refused_on_read(tmp_path):
    path = tmp_path / "r.parquet"
    append_results(path, record("sweep:s:0").rows(), META)
    _doubled(path, ("metric.a", 5.0))
    with pytest.raises(ResultsFileError, match="two different runs under one id"):
        read_results(path)
    assert_user_error(run("report", path), "two different runs under one id")


# ---- settings mixed in one study -----------------------------------------------------------


def test_resume_with_another_sampler_is_refused(tmp_path):
    common = ["--problem", USER, "--tasks", "a,b", "--epochs", "1", "--device", "cpu"]
    common += ["--out", tmp_path / "r.parquet", "--storage", f"sqlite:///{tmp_path / 's.db'}"]
    assert run("sweep", *common, "--trials", "2").exit_code == 0
    before = len(read_results(tmp_path / "r.parquet").frame)
    mixed = run("sweep", *common, "--trials", "3", "--sampler", "grid")
    assert_user_error(mixed, "sampler dirichlet", "not sampler grid")
    assert len(read_results(tmp_path / "r.parquet").frame) == before


def test_resume_of_a_grid_with_another_resolution_is_refused(tmp_path):
    common = ["--problem", USER, "--tasks", "a,b", "--epochs", "1", "--device", "cpu"]
    common += ["--out", tmp_path / "r.parquet", "--storage", f"sqlite:///{tmp_path / 's.db'}"]
    common += ["--sampler", "grid"]
    assert run("sweep", *common, "--trials", "2").exit_code == 0  # resolution 1: 2 points
    mixed = run("sweep", *common, "--trials", "3")  # resolution 2 by default
    assert_user_error(mixed, "grid_resolution 1", "grid_resolution 2")


def test_nsga2_keeps_the_population_stored_with_its_study():
    """NSGA-II's population follows the budget of the run that created the study (a fifth of
    --trials, 10 to 50): it is stored with the study, so that a resume with a larger budget
    continues the same generations instead of silently switching population size."""
    import optuna

    from paretokit.sampling import make_sampler
    from paretokit.study.sampler_check import (
        SAMPLING,
        adopted_population,
        check_sampling,
        sampling_setting,
    )

    study = optuna.create_study(directions=["minimize"] * 2)
    first = sampling_setting("nsga2", make_sampler("nsga2", 0, 2, trials=100), trials=100)
    check_sampling(study, "memory", first)
    assert study.user_attrs[SAMPLING] == {"sampler": "nsga2", "nsga2_population": 20}
    larger = sampling_setting("nsga2", make_sampler("nsga2", 0, 2, trials=400), trials=400)
    check_sampling(study, "memory", larger)  # not refused: the budget may grow
    assert adopted_population(study, larger) == 20
    assert adopted_population(study, first) is None
    older = optuna.create_study(directions=["minimize"] * 2)
    older.set_user_attr(SAMPLING, {"sampler": "nsga2"})  # stored before the population was
    check_sampling(older, "memory", larger)
    assert older.user_attrs[SAMPLING] == larger


def test_a_resumed_nsga2_sweep_samples_with_the_stored_population(tmp_path, monkeypatch):
    import optuna

    from paretokit.sampling import make_sampler

    built = []

    def recording(*args, **kwargs):
        built.append(kwargs.get("population_size"))
        return make_sampler(*args, **kwargs)

    monkeypatch.setattr("paretokit.study.loop.make_sampler", recording)
    storage = f"sqlite:///{tmp_path / 's.db'}"
    common = ["--problem", USER, "--tasks", "a,b", "--epochs", "1", "--device", "cpu"]
    common += ["--out", tmp_path / "r.parquet", "--storage", storage, "--sampler", "nsga2"]
    assert run("sweep", *common, "--trials", "2").exit_code == 0
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    assert study.user_attrs["paretokit_sampling"]["nsga2_population"] == 10
    study.set_user_attr("paretokit_sampling", {"sampler": "nsga2", "nsga2_population": 17})
    built.clear()
    assert run("sweep", *common, "--trials", "3").exit_code == 0
    assert built == [None, 17]  # built for the plan, then rebuilt with the study's population


# ---- a baseline that is there but not finite ------------------------------------------------


def test_report_says_the_stl_metric_is_not_finite(tmp_path):
    path = tmp_path / "r.parquet"
    rows = record("m:0", kind="method", method="m").rows()
    rows += record("stl:a:0", kind="stl", method="stl:a", metric=math.inf).rows()
    rows += record("stl:b:0", kind="stl", method="stl:b").rows()
    append_results(path, rows, META)
    (rep,) = build_reports(read_results(path))
    notes = " ".join(n.text for n in rep.notes)
    assert "no STL runs" not in notes
    assert "no finite STL metric for task(s) a (inf)" in notes


def test_report_of_a_split_without_one_finite_run_is_one_line(tmp_path):
    path = tmp_path / "r.parquet"
    rows = record("sweep:s:0", metric=math.inf).rows()
    rows += record("m:0", kind="method", method="m", metric=math.nan).rows()
    append_results(path, rows, META)
    assert_user_error(run("report", path), "no finished run of the test split")
