"""`paretokit report`: every number of a hand-built results file checked by hand (front
chosen on validation, methods judged on test seed by seed, outcomes from the t-interval, the
cost to match over trial orders), missing pieces stated (not crashed on), and every output
format through the CLI on a real sweep + compare file."""

from __future__ import annotations

import dataclasses
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from paretokit.cli import app
from paretokit.report import build_reports
from paretokit.report.claims import claim_paragraph
from paretokit.report.formats import display_frame, to_markdown
from paretokit.results import ResultsMeta, RunRecord, TaskMeta, append_results, read_results

META = ResultsMeta("toy", (TaskMeta("a", "mae", False), TaskMeta("b", "accuracy", True)))
runner = CliRunner()
T975_1 = 12.706204736174698  # Student t quantile, 0.975, 1 degree of freedom


def _record(run_id, kind, method, metrics, seed=0, seconds=10.0, trial=-1, status="ok", val=None):
    m = list(metrics) if metrics is not None else None
    v = list(val) if val is not None else m
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
        metrics={"val": v, "test": m} if m is not None else None,
        losses={"val": [1.0, 1.0], "test": [1.0, 1.0]} if m is not None else None,
        train_seconds=seconds,
        step_ms=1.0,
        trial=trial,
        status=status,
    )


# Every test point lies in a ∈ [0, 10] (↓) and b ∈ [0, 1] (↑), with m3 at the ideal (0, 1) and
# m2's seed 2 at the nadir (10, 0): normalized, z = (a / 10, 1 − b).
# trial: (test point, val point, seconds per seed), the same for seeds 0 and 1.
SWEEP = {
    0: ((2.0, 0.6), (2.0, 0.6), 10.0),  # z (0.2, 0.4)
    1: ((6.0, 0.9), (6.0, 0.9), 20.0),  # z (0.6, 0.1)
    # the best trial on test, z (0.1, 0.2), but dominated by trial 0 on validation
    2: ((1.0, 0.8), (3.0, 0.5), 40.0),
}
METHODS = {
    "m1": {0: (1.5, 0.7), 1: (1.6, 0.65)},  # z (0.15, 0.3), (0.16, 0.35)
    "m2": {0: (8.0, 0.2), 1: (8.0, 0.2), 2: (10.0, 0.0)},  # seed 2: no sweep seed 2
    "m3": {0: (0.0, 1.0), 1: (0.0, 1.0)},
}


def write_file(path, sweep=True, methods=True, stl=True, seeds=(0, 1)):
    records = []
    if sweep:
        for trial, (test, val, secs) in SWEEP.items():
            for seed in seeds:
                records.append(
                    _record(
                        f"sweep:{trial}:{seed}", "sweep", "sweep", test, seed, secs, trial, val=val
                    )
                )
    if methods:
        for label, by_seed in METHODS.items():
            for seed, m in by_seed.items():
                records.append(_record(f"{label}:{seed}", "method", label, m, seed, 30.0 + seed))
    if stl:
        for seed in (0, 1):
            records.append(_record(f"stl:a:{seed}", "stl", "stl:a", (1.0, 0.1), seed, 7.0))
            records.append(_record(f"stl:b:{seed}", "stl", "stl:b", (9.0, 0.9), seed, 7.0))
    for r in records:
        append_results(path, r.rows(), META)
    return read_results(path)


def test_every_number_by_hand(tmp_path):
    (rep,) = build_reports(write_file(tmp_path / "r.parquet"), split="test")
    t = rep.methods.set_index("method")
    assert list(t.index) == ["stl", "m1", "m2", "m3"]
    assert rep.split == "test" and rep.choice_split == "val"
    # STL point: a from the stl:a runs, b from the stl:b runs
    assert t.loc["stl", "a"] == pytest.approx(1.0) and t.loc["stl", "b"] == pytest.approx(0.9)
    # seed statistics over all of a method's seeds: sample std, Student-t 95% half-width
    assert t.loc["m1", "a"] == pytest.approx(1.55)
    assert t.loc["m1", "a.std"] == pytest.approx(math.sqrt(0.005))
    assert t.loc["m1", "a.ci95"] == pytest.approx(T975_1 * math.sqrt(0.005) / math.sqrt(2))
    assert t.loc["m2", "seeds"] == 3 and t.loc["m2", "paired_seeds"] == 2
    # Δm% against STL: a ↓ (1.55 − 1)/1, b ↑ −(0.675 − 0.9)/0.9
    assert t.loc["m1", "delta_m"] == pytest.approx(50 * (0.55 + 0.225 / 0.9))
    assert t.loc["stl", "delta_m"] == 0.0

    np.testing.assert_allclose(rep.ideal, [0.0, 1.0])
    np.testing.assert_allclose(rep.nadir, [10.0, 0.0])
    np.testing.assert_allclose(rep.reference, [11.0, -0.1])
    # the front is chosen on validation: trials 0 and 1 (trial 2, the best on test, is
    # dominated by trial 0 on validation)
    sw = rep.sweep
    assert sw.trials == 3 and sw.seeds == [0, 1] and sw.front_size == 2
    assert sorted(sw.front["trial"]) == [0, 1]
    assert sw.seconds == pytest.approx(2 * (10 + 20 + 40))
    # HV of z (0.2, 0.4), (0.6, 0.1) against (1.1, 1.1): 0.4·0.7 + 0.5·1.0
    assert sw.hypervolume == pytest.approx(0.78)
    assert sw.resolution == 0.0  # both chosen trials are extreme: no interior trial

    # m1: ε_0 = max(0.2 − 0.15, 0.4 − 0.3) = 0.1 (trial 0); ε_1 = max(0.04, 0.05) = 0.05
    ps = rep.per_seed.set_index(["method", "seed"])
    assert ps.loc[("m1", 0), "epsilon"] == pytest.approx(0.1)
    assert ps.loc[("m1", 1), "epsilon"] == pytest.approx(0.05)
    half = T975_1 * math.sqrt(0.00125) / math.sqrt(2)
    assert t.loc["m1", "epsilon"] == pytest.approx(0.075)
    assert t.loc["m1", "epsilon_ci95_low"] == pytest.approx(0.075 - half)
    assert t.loc["m1", "epsilon_ci95_high"] == pytest.approx(0.075 + half)
    assert t.loc["m1", "outcome"] == "within_noise"
    # its hypervolume contributions: 0.76 − 0.68 and 0.705 − 0.655, in % of 0.78
    assert ps.loc[("m1", 0), "hv_contribution_pct"] == pytest.approx(100 * 0.08 / 0.78)
    assert ps.loc[("m1", 1), "hv_contribution_pct"] == pytest.approx(100 * 0.05 / 0.78)
    # m2: trial 0 is better by 0.4 everywhere in both paired seeds: dominated, zero width
    assert t.loc["m2", "epsilon"] == pytest.approx(-0.4)
    assert t.loc["m2", "outcome"] == "dominated" and t.loc["m2", "dominated_seeds"] == 2
    assert not ps.loc[("m2", 2), "paired"] and math.isnan(ps.loc[("m2", 2), "epsilon"])
    # m3 at the ideal point: beyond by 0.4, adds 1.21 − 0.78 of hypervolume
    assert t.loc["m3", "outcome"] == "beyond" and t.loc["m3", "epsilon"] == pytest.approx(0.4)
    assert t.loc["m3", "hv_contribution_pct"] == pytest.approx(100 * 0.43 / 0.78)

    # cost to match over 1000 orders of 3 trials: every single trial already dominates m2
    assert t.loc["m2", "trials_to_match_median"] == 1
    assert t.loc["m2", "trials_to_match_q75"] == 1 and t.loc["m2", "never_matched_share"] == 0
    assert t.loc["m2", "seconds_to_match_q25"] in (20.0, 40.0, 80.0)
    # no subset of the trials ever reaches m3
    assert t.loc["m3", "never_matched_share"] == 1.0
    assert math.isnan(t.loc["m3", "trials_to_match_median"])
    # m1: matched by trial 0 or 2 alone, and after two trials when trial 1 comes first
    assert t.loc["m1", "trials_to_match_median"] == 1 and t.loc["m1", "trials_to_match_q75"] == 2

    assert t.loc["m3", "verdict"].startswith("beyond the sweep front (ε +0.400")
    assert (
        "in 100% of 1000 trial orders the sweep did not match it within 3 trials"
        in (t.loc["m3", "verdict"])
    )
    assert t.loc["m2", "verdict"].startswith("dominated by the sweep front (ε -0.400")
    assert t.loc["m1", "verdict"].startswith("within seed noise of the sweep front")
    assert "after a median of 1 trials" in t.loc["m1", "verdict"]
    assert [n.code for n in rep.notes] == ["unpaired"]
    assert "m2 seed(s) 2" in rep.notes[0].text


def test_the_front_is_chosen_on_validation(tmp_path):
    """Trial 2 is the best trial on test; judged against it m1 would be dominated (its
    ε_0 = max(0.1 − 0.15, 0.2 − 0.3) = −0.05), but validation does not choose it."""
    (rep,) = build_reports(write_file(tmp_path / "r.parquet"))
    table = rep.sweep.table.set_index("trial")
    assert table["chosen"].tolist() == [True, True, False]
    test_best = table[["metric.a"]].idxmin().iloc[0]
    assert test_best == 2 and not table.loc[test_best, "chosen"]
    ps = rep.per_seed.set_index(["method", "seed"])
    assert ps.loc[("m1", 0), "epsilon"] == pytest.approx(0.1)


def test_single_seed_sweeps_report_with_a_note(tmp_path):
    (rep,) = build_reports(write_file(tmp_path / "r.parquet", seeds=(0,)))
    t = rep.methods.set_index("method")
    assert rep.sweep.seeds == [0]
    assert set(t.loc[["m1", "m2", "m3"], "outcome"]) == {"within_noise"}
    assert t.loc["m3", "paired_seeds"] == 1 and t.loc["m3", "epsilon"] == pytest.approx(0.4)
    assert math.isnan(t.loc["m3", "epsilon_ci95_low"])
    assert math.isnan(t.loc["m3", "never_matched_share"])  # no cost without an interval
    assert "single_seed" in [n.code for n in rep.notes]
    assert t.loc["m3", "verdict"].startswith("within noise: one paired seed")
    md = runner.invoke(app, ["report", str(tmp_path / "r.parquet"), "--format", "markdown"])
    assert "sweep --seeds" in md.stdout  # the CLI's advice


def test_another_baseline_and_the_val_split(tmp_path):
    res = write_file(tmp_path / "r.parquet")
    (rep,) = build_reports(res, split="val", baseline="m2")
    t = rep.methods.set_index("method")
    assert t.loc["m2", "delta_m"] == 0.0
    # m2 on val (= test for methods here): a 26/3, b 0.4/3; m1: a 1.55, b 0.675
    a2, b2 = 26 / 3, 0.4 / 3
    assert t.loc["m1", "delta_m"] == pytest.approx(50 * ((1.55 - a2) / a2 - (0.675 - b2) / b2))
    assert rep.split == "val" and rep.choice_split == "val"


@pytest.mark.parametrize(
    "parts, note",
    [
        ({"stl": False}, "no_stl"),
        ({"sweep": False}, "no_sweep"),
        ({"methods": False}, "no_methods"),
    ],
)
def test_missing_pieces_are_stated(tmp_path, parts, note):
    (rep,) = build_reports(write_file(tmp_path / "r.parquet", **parts))
    assert note in [n.code for n in rep.notes], rep.notes
    to_markdown([rep])  # renders without the missing columns
    display_frame(rep)


def test_nan_metrics_and_a_single_row(tmp_path):
    path = tmp_path / "r.parquet"
    append_results(path, _record("s0", "sweep", "sweep", (1.0, 0.5), trial=0).rows(), META)
    (rep,) = build_reports(read_results(path))
    assert rep.sweep.trials == 1 and rep.sweep.front_size == 1 and rep.methods.empty
    # a finished run whose metric is NaN (e.g. a problem's metric undefined) is left out
    append_results(path, _record("m", "method", "m", (float("nan"), 0.5)).rows(), META)
    append_results(path, _record("f", "method", "f", None, status="failed").rows(), META)
    (rep,) = build_reports(read_results(path))
    assert "1 finished run(s) with a NaN metric left out" in [n.text for n in rep.notes]
    assert rep.methods.empty


def test_cli_formats_on_the_hand_built_file(tmp_path):
    path = tmp_path / "r.parquet"
    write_file(path)
    table = runner.invoke(app, ["report", str(path)])
    assert table.exit_code == 0, table.output
    for text in ("sweep: 3 trials × 2 seeds", "2 chosen", "m3: beyond the sweep front", "Δm%"):
        assert text in table.stdout
    assert "front chosen on the val split" in table.stdout
    md = runner.invoke(app, ["report", str(path), "--format", "markdown"]).stdout
    assert "| method | seeds |" in md and "| m2 |" in md and "**m2**: dominated" in md
    js = json.loads(runner.invoke(app, ["report", str(path), "--format", "json"]).stdout)
    assert js[0]["sweep"]["front_size"] == 2 and js[0]["reference"][0] == pytest.approx(11.0)
    assert js[0]["choice_split"] == "val" and js[0]["split"] == "test"
    methods = {m["method"]: m for m in js[0]["methods"]}
    m1, m3 = methods["m1"], methods["m3"]
    assert m1["outcome"] == "within_noise" and m3["outcome"] == "beyond"
    assert m3["epsilon_ci95"] == pytest.approx([0.4, 0.4])
    assert len(m1["hv_contribution_pct_ci95"]) == 2 and m1["trials_to_match_iqr"] == [1, 2]
    assert m3["trials_to_match_median"] is None and m3["never_matched_share"] == 1.0
    assert [p["seed"] for p in methods["m2"]["per_seed"]] == [0, 1, 2]
    assert methods["m2"]["per_seed"][2]["epsilon"] is None  # unpaired: NaN → null
    assert methods["stl"]["outcome"] is None
    csv = pd.read_csv(
        io.StringIO(runner.invoke(app, ["report", str(path), "--format", "csv"]).stdout)
    )
    assert list(csv["method"]) == ["stl", "m1", "m2", "m3"] and set(csv["problem"]) == {"toy"}
    assert list(csv["outcome"].fillna("")) == ["", "within_noise", "dominated", "beyond"]


NEGATIVE = ResultsMeta("toy", (TaskMeta("f1", "value", False), TaskMeta("f2", "value", False)))


def _negative_file(path):
    """STL at (−1, −10) (losses ≤ 0, as the toy's), a method better in both (−1.5, −12) and
    one worse in both (−0.5, −8); two seeds each, no sweep."""
    points = {"stl:f1": (-1.0, 5.0), "stl:f2": (5.0, -10.0), "good": (-1.5, -12.0)}
    points["bad"] = (-0.5, -8.0)
    for label, m in points.items():
        kind = "stl" if label.startswith("stl") else "method"
        for seed in (0, 1):
            rec = _record(f"{label}:{seed}", kind, label, m, seed)
            rec.task_names = ["f1", "f2"]
            append_results(path, rec.rows(), NEGATIVE)
    return path


def test_delta_m_on_a_negative_baseline_is_left_out_with_a_note(tmp_path):
    """Δm% against STL's −1 and −10 would call the better method worse (+35%): it is left out
    (NaN, n/a, null, empty) with one note naming the tasks, and the mean rank stays."""
    (rep,) = build_reports(read_results(_negative_file(tmp_path / "r.parquet")))
    t = rep.methods.set_index("method")
    assert t["delta_m"].isna().all()
    assert t.loc["good", "mean_rank"] == 1.0 and t.loc["bad", "mean_rank"] == 3.0
    (note,) = [n for n in rep.notes if n.code == "delta_m_undefined"]
    assert "f1 (-1)" in note.text and "f2 (-10)" in note.text and "not positive" in note.text
    assert set(display_frame(rep)["Δm% ↓"]) == {"n/a"}
    assert note.text in to_markdown([rep])
    ranking = claim_paragraph("ranking", rep)  # Nash-MTL's Table 2 claim: not tested on it
    assert "Not tested: Δm% left out" in ranking and "+35" not in ranking


def test_cli_on_a_negative_baseline_shows_no_delta_m(tmp_path):
    path = str(_negative_file(tmp_path / "r.parquet"))
    result = runner.invoke(app, ["report", path, "--format", "json"])
    assert result.exit_code == 0, result.output
    (rep,) = json.loads(result.stdout)
    methods = {m["method"]: m for m in rep["methods"]}
    assert all(m["delta_m"] is None for m in methods.values())
    assert methods["good"]["mean_rank"] == 1.0
    assert sum("Δm% left out" in n and "not positive" in n for n in rep["notes"]) == 1
    result = runner.invoke(app, ["report", path, "--format", "csv"])
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert frame["delta_m"].isna().all() and list(frame["mean_rank"]) == [2.0, 1.0, 3.0]
    assert "Δm% left out" in result.stderr
    table = runner.invoke(app, ["report", path])
    assert "Δm% left out" in table.stdout and "+35" not in table.stdout


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
    sweep = [
        "sweep",
        "--trials",
        "3",
        "--seeds",
        "1",
        "--storage",
        f"sqlite:///{tmp_path / 's.db'}",
    ]
    sweep += common
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
            assert m["seeds"] == 2 and m["paired_seeds"] == 1  # the sweep trains seed 0 only
            assert m["outcome"] == "within_noise" and m["trials_to_match_median"] is None


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
    assert "no_stl" not in [n.code for n in rep.notes]


def test_stl_runs_count_for_their_own_task_only(tmp_path):
    path = tmp_path / "r.parquet"
    rows = _record("s0", "sweep", "sweep", (1.0, 0.5), trial=0).rows()
    rows += _record("stl:a", "stl", "stl:a", (1.0, float("nan"))).rows()
    rows += _record("stl:b", "stl", "stl:b", (float("nan"), 0.7)).rows()
    rows += _record("m", "method", "m", (1.1, 0.77)).rows()
    append_results(path, rows, META)
    (rep,) = build_reports(read_results(path))
    assert [n.code for n in rep.notes] == ["single_seed"]
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
    assert "1 failed run(s) not shown (status failed)" in [n.text for n in reps[0].notes]
    assert list(reps[0].methods["method"]) == ["stl", "m1", "m2", "m3"]  # lr=0.1 not mixed in
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


def test_six_metrics_report_estimated_hypervolumes_with_a_note(tmp_path):
    """From six metrics the report's hypervolumes are Monte Carlo estimates (exact WFG grows
    exponentially with M): finite numbers and one note saying so; two metrics: no note."""
    names = [f"t{j}" for j in range(6)]
    meta = ResultsMeta("toy", tuple(TaskMeta(n, "mae", False) for n in names))
    rng = np.random.default_rng(0)
    path = tmp_path / "r.parquet"
    rows = []
    for trial in range(20):  # a front of more than 16 trials: estimated
        for seed in (0, 1):
            m = list(1.0 - np.sqrt(rng.dirichlet(np.ones(6))) + 0.01 * seed)
            rec = _record(f"sweep:{trial}:{seed}", "sweep", "sweep", m, seed, trial=trial)
            rows.append(dataclasses.replace(rec, task_names=names, weights=[1 / 6] * 6))
    for seed in (0, 1):
        m = [0.3] * 6
        rec = _record(f"m:{seed}", "method", "m", m, seed)
        rows.append(dataclasses.replace(rec, task_names=names, weights=[1 / 6] * 6))
    for r in rows:
        r = dataclasses.replace(
            r, losses={"val": [1.0] * 6, "test": [1.0] * 6} if r.metrics else None
        )
        append_results(path, r.rows(), meta)
    (rep,) = build_reports(read_results(path))
    (note,) = [n for n in rep.notes if n.code == "hypervolume_estimated"]
    assert "Monte Carlo" in note.text and "6 metrics" in note.text
    assert math.isfinite(rep.sweep.hypervolume) and rep.sweep.hypervolume > 0
    assert math.isfinite(rep.methods.set_index("method").loc["m", "hv_contribution_pct"])
    (two,) = build_reports(write_file(tmp_path / "two.parquet"))
    assert not [n for n in two.notes if n.code == "hypervolume_estimated"]
