"""Runs against the toy's known front: distances and positions (analysis.reach), the report's
section on a hand-made results file (counts, positions, coverage, JSON, Markdown, claim), and
the paths figure."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from paretokit.analysis import reach, toy
from paretokit.report import build_reports, restrict
from paretokit.report import formats as rf
from paretokit.report.claims import claim_paragraph
from paretokit.report.front import reach_paragraph
from paretokit.results import (
    ResultsMeta,
    RunRecord,
    TaskMeta,
    append_results,
    read_results,
    trajectory_json,
)

META = ResultsMeta("toy", (TaskMeta("f1", "value", False), TaskMeta("f2", "value", False)))
FRONT = toy.front(0.1)


def test_distance_position_and_coverage() -> None:
    front = reach.known_front("toy", ["f1", "f2"], ["value", "value"])
    assert front is not None and np.array_equal(front.points, FRONT.points)
    assert reach.known_front("toy", ["a", "b"], ["mae", "mae"]) is None  # other files
    assert reach.known_front("qm9", ["f1", "f2"], ["value", "value"]) is None
    near = reach.nearest_on_front(FRONT.points[[0, 1000, 2000]], front)
    assert near.distance == pytest.approx([0, 0, 0], abs=1e-12)
    assert near.position == pytest.approx([0.0, 0.5, 1.0], abs=1e-9)  # the front is symmetric
    # the exact points halfway between the default ones lie on its polyline to well below
    # the tolerance (the chords' sagitta)
    halfway = toy.front(0.1, 4001).points[1::4]
    assert reach.nearest_on_front(halfway, front).distance.max() < 1e-6
    # moved off the middle along the normal by 0.02: distance 0.02 (in scaled units the front
    # is symmetric about the diagonal, so the normal there is (1, 1)/√2); beyond an end: the
    # distance to the end
    off = FRONT.points[1000] + 0.02 * front.ranges / math.sqrt(2)
    beyond = FRONT.points[0] + np.array([-0.03 * front.ranges[0], 0.0])
    near = reach.nearest_on_front(np.array([off, beyond, [np.nan, 1.0]]), front)
    assert near.distance[:2] == pytest.approx([0.02, 0.03], rel=1e-3)
    assert near.position[1] == 0.0 and math.isnan(near.distance[2])
    assert reach.coverage(np.array([0.0, 0.05, 0.55, 1.0])) == 0.3
    assert reach.coverage(np.array([])) == 0.0


def _run(run_id: str, kind: str, method: str, seed: int, point, trial: int = -1) -> RunRecord:
    f = [float(v) for v in point]
    path = {"step": [0, 10], "loss": [list(toy.losses(np.array(toy.STARTS[seed]))), f],
            "x": [list(toy.STARTS[seed]), [0.0, -8.0]]}  # fmt: skip
    return RunRecord(
        study="toy-study", problem="toy", run_id=run_id, kind=kind, method=method, seed=seed,
        task_names=["f1", "f2"], epochs=35, batch_size=1, lr=1e-3, device="cpu",
        weights=[0.5, 0.5], metrics={"val": f, "test": f}, losses={"val": f, "test": f},
        train_seconds=1.0, step_ms=0.1, trial=trial, trajectory=trajectory_json(path),
    )  # fmt: skip


@pytest.fixture
def toy_file(tmp_path):
    """nashmtl on the front from all 5 starts (positions 0, .25, .5, .75, 1); mgda on it from
    starts 0 and 2 only; a sweep of 2 trials × 5 seeds, on it only from seed 4; STL."""
    on = {s: FRONT.points[500 * s] for s in range(5)}
    ranges = FRONT.points.max(axis=0) - FRONT.points.min(axis=0)
    away = FRONT.points[1000] + 0.05 * ranges / math.sqrt(2)  # 0.05 off the middle (normal)
    rows = []
    for s in range(5):
        rows += _run(f"method:nashmtl:s{s}", "method", "nashmtl", s, on[s]).rows()
        rows += _run(
            f"method:mgda:s{s}", "method", "mgda", s, on[s] if s in (0, 2) else away
        ).rows()
        rows += _run(f"stl:f1:s{s}", "stl", "stl:f1", s, FRONT.points[0]).rows()
        rows += _run(f"stl:f2:s{s}", "stl", "stl:f2", s, FRONT.points[-1]).rows()
        for trial in range(2):
            point = FRONT.points[1900 + 50 * trial] if s == 4 else away
            rows += _run(f"sweep:toy:{trial}:s{s}", "sweep", "sweep", s, point, trial).rows()
    path = tmp_path / "toy.parquet"
    append_results(path, rows, META)
    return path


def test_report_section_counts_positions_and_coverage(toy_file) -> None:
    (report,) = build_reports(read_results(toy_file))
    section = report.front
    assert section is not None and section.tolerance == reach.REACH_TOLERANCE
    groups = {g["group"]: g for g in section.groups.to_dict("records")}
    assert list(groups) == ["sweep", "nashmtl", "mgda", "stl:f1", "stl:f2"]
    nash, mgda, sweep = groups["nashmtl"], groups["mgda"], groups["sweep"]
    assert (nash["starts_reaching"], nash["starts"], nash["runs_reaching"]) == (5, 5, 5)
    # positions: the share of the front's length (each loss in units of its range)
    scaled = FRONT.points / (FRONT.points.max(axis=0) - FRONT.points.min(axis=0))
    arc = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(scaled, axis=0), axis=1))])
    assert nash["positions"] == pytest.approx(arc[[0, 500, 1000, 1500, 2000]] / arc[-1], abs=1e-9)
    assert nash["positions"][2] == pytest.approx(0.5, abs=1e-9)
    assert nash["coverage"] == 0.5  # stretches 0, 2, 5, 7 and 9 of 10
    assert mgda["reaching_seeds"] == [0, 2] and mgda["runs_reaching"] == 2
    assert mgda["median_distance"] == pytest.approx(0.05, rel=1e-3)
    assert (sweep["runs"], sweep["runs_reaching"], sweep["reaching_seeds"]) == (10, 2, [4])
    assert sweep["coverage"] == 0.1  # both end points lie in the last stretch
    runs = section.runs
    assert set(runs[runs["group"] == "mgda"]["start"]) == {f"({a:g}, {b:g})" for a, b in toy.STARTS}

    # JSON (strict), Markdown and the claim paragraph say the same
    data = json.loads(rf.dumps_json([report]))
    groups_json = {g["group"]: g for g in data[0]["known_front"]["groups"]}
    assert groups_json["mgda"]["reaching_seeds"] == [0, 2]
    assert data[0]["known_front"]["tolerance"] == reach.REACH_TOLERANCE
    md = rf.to_markdown([report])
    assert "end points against the true Pareto front" in md and "2 of 5 (0, 2)" in md
    claim = claim_paragraph("reach", report)
    assert "from every start: nashmtl" in claim and "mgda (2 of 5)" in claim
    assert "reaches the front from all five starts holds here (5 of 5 starts)" in claim
    assert "2 of 10 cases, from 1 of 5 starts, covering 10%" in claim
    # a study still running: Nash-MTL reached from every start it has run, not all five yet
    partial = section.groups.copy()
    partial.loc[partial["group"] == "nashmtl", ["starts", "starts_reaching"]] = 3
    text = reach_paragraph(dataclasses.replace(section, groups=partial))
    assert "holds for the 3 starts run so far, the others not run yet" in text
    # compare's restricted report keeps the sweep, the compared method and STL
    kept = restrict(report, ["mgda"]).front.groups["group"].tolist()
    assert kept == ["sweep", "mgda", "stl:f1", "stl:f2"]


def test_no_section_for_other_problems(tmp_path) -> None:
    meta = ResultsMeta("synthetic", META.tasks)
    rows = _run("method:ls:s0", "method", "ls", 0, FRONT.points[3]).rows()
    for row in rows:
        row["problem"] = "synthetic"
    append_results(tmp_path / "r.parquet", rows, meta)
    (report,) = build_reports(read_results(tmp_path / "r.parquet"))
    assert report.front is None
    assert json.loads(rf.dumps_json([report]))[0]["known_front"] is None
    assert "no known Pareto front" in claim_paragraph("reach", report)


def test_paths_figure_renders(toy_file, tmp_path) -> None:
    from paretokit.plot import plot_frontier

    results = read_results(toy_file)
    out = plot_frontier(results, tmp_path / "paths.png")  # auto: the paths figure
    assert out.stat().st_size > 10_000
    svg = plot_frontier(results, tmp_path / "paths.svg", view="paths")
    text = svg.read_text()
    assert "LS sweep (2 weights)" in text and "nashmtl" in text and "true Pareto front" in text
    assert "start 4 (9.0, -1.0)" in text
    plot_frontier(results, tmp_path / "pairs.png", view="pairs")  # the verdict figure still
