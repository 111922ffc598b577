"""`paretokit report`: every number of a hand-built results file checked by hand, missing
pieces stated (not crashed on), and every output format through the CLI on a real
sweep + compare file."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from paretokit.cli import app
from paretokit.report import build_reports
from paretokit.report_format import display_frame, to_markdown
from paretokit.results import ResultsMeta, RunRecord, TaskMeta, append_results, read_results

META = ResultsMeta("toy", (TaskMeta("a", "mae", False), TaskMeta("b", "accuracy", True)))
runner = CliRunner()


def _record(run_id, kind, method, metrics, seed=0, seconds=10.0, trial=-1, status="ok"):
    m = list(metrics) if metrics is not None else None
    return RunRecord(
        study="toy-study",
        problem="toy",
        run_id=run_id,
        kind=kind,
        method=method,
        seed=seed,
        task_names=["a", "b"],
        epochs=1,
        batch_size=8,
        lr=0.01,
        device="cpu",
        weights=[0.5, 0.5],
        metrics={"val": m, "test": m} if m is not None else None,
        losses={"val": [1.0, 1.0], "test": [1.0, 1.0]} if m is not None else None,
        train_seconds=seconds,
        step_ms=1.0,
        trial=trial,
        status=status,
    )


SWEEP = [((3.0, 0.5), 10.0), ((1.0, 0.2), 10.0), ((2.0, 0.6), 20.0), ((2.5, 0.55), 5.0)]


def write_file(path, sweep=True, methods=True, stl=True):
    records = []
    if sweep:
        for i, (m, s) in enumerate(SWEEP):  # written in trial order = finish order
            records.append(_record(f"sweep:{i}", "sweep", "sweep", m, seconds=s, trial=i))
    if methods:
        records += [
            _record("m1:0", "method", "m1", (2.2, 0.58), seed=0, seconds=30.0),
            _record("m1:1", "method", "m1", (2.4, 0.56), seed=1, seconds=34.0),
            _record("m2:0", "method", "m2", (0.9, 0.7), seed=0, seconds=50.0),
        ]
    if stl:
        records += [
            _record("stl:a:0", "stl", "stl:a", (1.0, 0.1), seed=0, seconds=7.0),
            _record("stl:a:1", "stl", "stl:a", (1.2, 0.1), seed=1, seconds=7.0),
            _record("stl:b:0", "stl", "stl:b", (9.0, 0.7), seed=0, seconds=7.0),
            _record("stl:b:1", "stl", "stl:b", (9.0, 0.7), seed=1, seconds=7.0),
        ]
    for r in records:
        append_results(path, r.rows(), META)
    return read_results(path)


def test_every_number_by_hand(tmp_path):
    (rep,) = build_reports(write_file(tmp_path / "r.parquet"), split="test")
    t = rep.methods.set_index("method")
    assert list(t.index) == ["stl", "m1", "m2"]
    # STL point: a from stl:a runs (1.0, 1.2), b from stl:b runs (0.7, 0.7)
    assert t.loc["stl", "a"] == pytest.approx(1.1) and t.loc["stl", "b"] == pytest.approx(0.7)
    # seed statistics: sample std and Student-t 95% half-width (t_{0.975,1} = 12.7062047)
    assert t.loc["m1", "a"] == pytest.approx(2.3)
    assert t.loc["m1", "a.std"] == pytest.approx(math.sqrt(0.02))
    assert t.loc["m1", "a.ci95"] == pytest.approx(12.706204736 * math.sqrt(0.02) / math.sqrt(2))
    assert math.isnan(t.loc["m2", "a.std"])  # one seed: no spread
    # Δm% against STL: a ↓ (2.3 − 1.1)/1.1, b ↑ −(0.57 − 0.7)/0.7
    assert t.loc["m1", "delta_m"] == pytest.approx(50 * (1.2 / 1.1 + 0.13 / 0.7))
    assert t.loc["stl", "delta_m"] == 0.0
    # mean rank over (stl, m1, m2): a ranks 2, 3, 1; b ranks 1.5, 3, 1.5
    np.testing.assert_allclose(t["mean_rank"], [1.75, 3.0, 1.25])

    # normalization over all points: a in [0.9, 3.0], b in [0.2, 0.7] (higher is better)
    np.testing.assert_allclose(rep.ideal, [0.9, 0.7])
    np.testing.assert_allclose(rep.nadir, [3.0, 0.2])
    np.testing.assert_allclose(rep.reference, [3.0 + 0.21, 0.2 - 0.05])
    # the front: trials 1 and 2 (trial 0 and 3 are dominated by trial 2)
    sw = rep.sweep
    assert sw.points == 4 and sw.front_size == 2 and sorted(sw.front["trial"]) == [1, 2]
    assert sw.seconds == pytest.approx(45.0)
    # HV in normalized units: z(t1) = (0.1/2.1, 1), z(t2) = (1.1/2.1, 0.2), reference 1.1
    z1, z2 = 0.1 / 2.1, 1.1 / 2.1
    hv = (z2 - z1) * (1.1 - 1.0) + (1.1 - z2) * (1.1 - 0.2)
    assert sw.hypervolume == pytest.approx(hv)

    # m1: dominated by trial 2 in both seeds; ε < 0; the sweep matched it at trial 3 (of 4),
    # after 10 + 10 + 20 s of training
    assert t.loc["m1", "dominated_seeds"] == 2
    assert t.loc["m1", "epsilon"] < 0
    assert t.loc["m1", "sweep_trials_to_match"] == 3
    assert t.loc["m1", "sweep_seconds_to_match"] == pytest.approx(40.0)
    assert t.loc["m1", "hv_contribution"] == pytest.approx(0.0)
    assert t.loc["m1", "verdict"].startswith("inside the sweep front on all seeds (2 of 2")
    # m2 = (0.9, 0.7) is the ideal point: it dominates the whole front
    assert t.loc["m2", "dominated_seeds"] == 0
    assert t.loc["m2", "epsilon"] == pytest.approx(z2)  # min over front of max_j (f_j − p_j)
    assert t.loc["m2", "hv_contribution"] == pytest.approx(1.1 * 1.1 - hv)
    assert t.loc["m2", "hv_contribution_pct"] == pytest.approx(100 * (1.21 - hv) / hv)
    assert math.isnan(t.loc["m2", "sweep_trials_to_match"])
    assert "extends the front" in t.loc["m2", "verdict"]
    assert "the sweep did not reach it within 4 trials" in t.loc["m2", "verdict"]
    assert (
        "after 3 trials, 40 s of training (the method trained 32 s per seed)"
        in (t.loc["m1", "verdict"])
    )
    # per-seed rows
    ps = rep.per_seed.set_index(["method", "seed"])
    assert ps.loc[("m1", 1), "dominated"] and not ps.loc[("m2", 0), "dominated"]
    assert rep.notes == []


def test_another_baseline_and_the_val_split(tmp_path):
    res = write_file(tmp_path / "r.parquet")
    (rep,) = build_reports(res, split="val", baseline="m2")
    t = rep.methods.set_index("method")
    assert t.loc["m2", "delta_m"] == 0.0
    assert t.loc["m1", "delta_m"] == pytest.approx(50 * (1.4 / 0.9 + 0.13 / 0.7))


@pytest.mark.parametrize(
    "parts, note",
    [
        ({"stl": False}, "no STL rows: Δm% not available — run `paretokit compare stl`"),
        ({"sweep": False}, "no sweep rows"),
        ({"methods": False}, "no method rows"),
    ],
)
def test_missing_pieces_are_stated(tmp_path, parts, note):
    (rep,) = build_reports(write_file(tmp_path / "r.parquet", **parts))
    assert any(n.startswith(note) for n in rep.notes), rep.notes
    to_markdown([rep])  # renders without the missing columns
    display_frame(rep)


def test_nan_metrics_and_a_single_row(tmp_path):
    path = tmp_path / "r.parquet"
    append_results(path, _record("s0", "sweep", "sweep", (1.0, 0.5), trial=0).rows(), META)
    (rep,) = build_reports(read_results(path))
    assert rep.sweep.points == 1 and rep.sweep.front_size == 1 and rep.methods.empty
    # a finished run whose metric is NaN (e.g. a problem's metric undefined) is left out
    append_results(path, _record("m", "method", "m", (float("nan"), 0.5)).rows(), META)
    append_results(path, _record("f", "method", "f", None, status="failed").rows(), META)
    (rep,) = build_reports(read_results(path))
    assert "1 finished run(s) with a NaN metric left out" in rep.notes
    assert rep.methods.empty


def test_cli_formats_on_the_hand_built_file(tmp_path):
    path = tmp_path / "r.parquet"
    write_file(path)
    table = runner.invoke(app, ["report", str(path)])
    assert table.exit_code == 0, table.output
    for text in ("sweep: 4 trials", "2 on the front", "m1: inside the sweep front", "Δm%"):
        assert text in table.stdout
    md = runner.invoke(app, ["report", str(path), "--format", "markdown"]).stdout
    assert "| method | seeds |" in md and "| m2 |" in md and "**m1**: inside" in md
    js = json.loads(runner.invoke(app, ["report", str(path), "--format", "json"]).stdout)
    assert js[0]["sweep"]["front_size"] == 2 and js[0]["reference"][0] == pytest.approx(3.21)
    m2 = next(m for m in js[0]["methods"] if m["method"] == "m2")
    assert m2["sweep_trials_to_match"] is None and m2["a.std"] is None  # NaN → null
    csv = pd.read_csv(
        io.StringIO(runner.invoke(app, ["report", str(path), "--format", "csv"]).stdout)
    )
    assert list(csv["method"]) == ["stl", "m1", "m2"] and set(csv["problem"]) == {"toy"}


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["report", "nope.parquet"], "does not exist"),
        (["report", "{file}", "--margin", "0"], "--margin"),
        (["report", "{file}", "--margin", "inf"], "--margin"),
    ],
)
def test_report_user_errors(tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    write_file(tmp_path / "r.parquet")
    result = runner.invoke(app, [a.replace("{file}", "r.parquet") for a in args])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert fragment in result.stderr


def test_report_on_a_real_sweep_and_compare(tmp_path):
    out = tmp_path / "r.parquet"
    common = ["--problem", "multidigits", "--epochs", "1", "--device", "cpu", "--out", str(out)]
    sweep = ["sweep", "--trials", "3", "--storage", f"sqlite:///{tmp_path / 's.db'}", *common]
    assert runner.invoke(app, sweep).exit_code == 0
    assert runner.invoke(app, ["compare", "ls", "mgda", "--seeds", "2", *common]).exit_code == 0
    for fmt in ("table", "markdown", "json", "csv"):
        result = runner.invoke(app, ["report", str(out), "--format", fmt])
        assert result.exit_code == 0, result.output
    js = json.loads(runner.invoke(app, ["report", str(out), "--format", "json"]).stdout)
    (rep,) = js
    assert rep["sweep"]["trials"] == 3 and {m["method"] for m in rep["methods"]} == {
        "stl",
        "ls",
        "mgda",
    }
    for m in rep["methods"]:
        if m["method"] != "stl":
            assert m["seeds"] == 2 and 0 <= m["dominated_seeds"] <= 2
            assert m["sweep_trials_to_match"] is None or 1 <= m["sweep_trials_to_match"] <= 3


def test_compare_stl_adds_only_the_baselines(tmp_path):
    out = tmp_path / "r.parquet"
    common = ["--problem", "multidigits", "--epochs", "1", "--device", "cpu", "--out", str(out)]
    result = runner.invoke(app, ["compare", "stl", "--seeds", "1", *common])
    assert result.exit_code == 0, result.output
    frame = read_results(out).frame
    assert set(frame["kind"]) == {"stl"} and sorted(set(frame["method"])) == [
        "stl:left",
        "stl:right",
    ]
    (rep,) = build_reports(read_results(out))
    assert list(rep.methods["method"]) == ["stl"]
    assert not any("no STL rows" in n for n in rep.notes)


def test_no_seed_dominated_but_the_mean_is(tmp_path):
    # a ↓, b ↑: the sweep point (1.0, 0.5) dominates neither seed (0.5, 0.2) nor (1.6, 0.8),
    # but it dominates their mean (1.05, 0.5)
    path = tmp_path / "r.parquet"
    rows = _record("s0", "sweep", "sweep", (1.0, 0.5), trial=0).rows()
    rows += _record("m:0", "method", "m", (0.5, 0.2), seed=0).rows()
    rows += _record("m:1", "method", "m", (1.6, 0.8), seed=1).rows()
    append_results(path, rows, META)
    (rep,) = build_reports(read_results(path))
    row = rep.methods.set_index("method").loc["m"]
    assert row["dominated_seeds"] == 0 and row["mean_dominated"]
    assert row["verdict"].startswith("no seed dominated, but the sweep front dominates its mean")


def test_stl_runs_count_for_their_own_task_only(tmp_path):
    path = tmp_path / "r.parquet"
    rows = _record("s0", "sweep", "sweep", (1.0, 0.5), trial=0).rows()
    rows += _record("stl:a", "stl", "stl:a", (1.0, float("nan"))).rows()
    rows += _record("stl:b", "stl", "stl:b", (float("nan"), 0.7)).rows()
    rows += _record("m", "method", "m", (1.1, 0.77)).rows()
    append_results(path, rows, META)
    (rep,) = build_reports(read_results(path))
    assert rep.notes == []
    t = rep.methods.set_index("method")
    assert t.loc["stl", "a"] == 1.0 and t.loc["stl", "b"] == 0.7
    assert t.loc["m", "delta_m"] == pytest.approx(50 * (0.1 / 1.0 - 0.07 / 0.7))


def test_two_settings_two_reports_and_failed_runs_noted(tmp_path):
    path = tmp_path / "r.parquet"
    write_file(path)
    other = _record("x:0", "method", "m1", (2.0, 0.6))
    other.lr = 0.1
    append_results(path, other.rows(), META)
    append_results(path, _record("f", "method", "m3", None, status="failed").rows(), META)
    reps = build_reports(read_results(path))
    assert [r.setting["lr"] for r in reps] == [0.01, 0.1]
    assert list(reps[1].methods["method"]) == ["m1"] and reps[1].sweep is None
    assert "1 failed run(s) not shown (status failed, see their error)" in reps[0].notes
    assert list(reps[0].methods["method"]) == ["stl", "m1", "m2"]  # the lr=0.1 run not mixed in
    csv = pd.read_csv(
        io.StringIO(runner.invoke(app, ["report", str(path), "--format", "csv"]).stdout)
    )
    assert sorted(set(csv["lr"])) == [0.01, 0.1]


def test_reference_margin_where_all_points_agree(tmp_path):
    path = tmp_path / "r.parquet"
    append_results(path, _record("s0", "sweep", "sweep", (2.0, 0.5), trial=0).rows(), META)
    (rep,) = build_reports(read_results(path), margin=0.1)
    # one point: each range is empty, so the margin is 10% of the value itself
    np.testing.assert_allclose(rep.reference, [2.2, 0.45])
    assert rep.sweep.hypervolume == pytest.approx(0.1 * 0.1)
