"""Thinning a recorded path (paretokit.polyline, Ramer–Douglas–Peucker): what it keeps, the
bound on what it drops, and the results file's stored paths (thinned when written, older
unthinned cells still read and drawn)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from paretokit.errors import ParetokitError
from paretokit.polyline import simplify
from paretokit.results import TRAJECTORY_TOLERANCE, read_trajectory, trajectory_json


def deviation(points: np.ndarray, kept: list[int]) -> float:
    """The largest distance of any point from the polyline through the kept ones (between its
    two kept neighbours), each coordinate scaled by the path's range, as simplify measures."""
    span = np.ptp(points, axis=0)
    z = points / np.where(span > 0, span, 1.0)
    worst = 0.0
    for a, b in zip(kept, kept[1:]):
        chord = z[b] - z[a]
        for i in range(a + 1, b):
            t = np.clip((z[i] - z[a]) @ chord / (chord @ chord), 0, 1) if chord @ chord else 0.0
            worst = max(worst, float(np.linalg.norm(z[i] - z[a] - t * chord)))
    return worst


def test_a_straight_path_keeps_its_ends_and_a_corner_is_kept() -> None:
    line = np.linspace([0.0, 0.0], [3.0, 30.0], 101)
    assert simplify(line, 1e-3) == [0, 100]
    corner = np.vstack([np.linspace([0, 0], [1, 0], 51), np.linspace([1, 0], [1, 1], 51)[1:]])
    assert simplify(corner, 1e-3) == [0, 50, 100]
    assert simplify(corner, 0.0) == [0, 50, 100]  # points exactly on a chord are not needed
    assert simplify(corner[:2], 0.5) == [0, 1] and simplify(corner[:1], 0.5) == [0]


@pytest.mark.parametrize("tolerance", [1e-4, 1e-3, 1e-2])
def test_every_dropped_point_lies_within_the_tolerance(tolerance: float) -> None:
    """A noisy spiral in 4 coordinates of very different scales (as a toy run: two losses, two
    parameters): the kept points are an ascending subset with both ends, fewer the looser the
    tolerance, and no recorded point is farther than the tolerance from their polyline."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 6 * np.pi, 400)
    path = np.column_stack([np.cos(t) * t, 100 * np.sin(t), 0.01 * t, np.exp(-t)])
    path += rng.normal(scale=1e-4, size=path.shape) * np.ptp(path, axis=0)
    kept = simplify(path, tolerance)
    assert kept[0] == 0 and kept[-1] == len(path) - 1 and kept == sorted(set(kept))
    assert deviation(path, kept) <= tolerance
    assert len(kept) < len(path) and len(simplify(path, 2 * tolerance)) <= len(kept)


def test_bad_input_and_non_finite_paths() -> None:
    with pytest.raises(ParetokitError, match=r"\(N, D\)"):
        simplify(np.zeros(5), 1e-3)
    with pytest.raises(ParetokitError, match="tolerance"):
        simplify(np.zeros((5, 2)), -1.0)
    with_nan = np.linspace([0.0, 0.0], [1.0, 1.0], 5)
    with_nan[2, 0] = np.nan
    assert simplify(with_nan, 1e-3) == [0, 1, 2, 3, 4]  # nothing to measure: kept whole


def test_a_toy_run_is_stored_thinned_and_an_older_unthinned_cell_still_reads() -> None:
    """A real toy run (MGDA from start 3, 1,000 steps): the stored path is a subset of the
    recorded points (the same exact pairs, start and end point included) within the tolerance
    of the recorded path, and a cell holding every recorded point (files written before
    thinning) reads back unchanged."""
    import torch

    from paretokit.methods import get_method
    from paretokit.problems import get_problem
    from paretokit.train import RunConfig, train_run

    cfg = RunConfig(epochs=1, batch_size=1, lr=1e-3, seed=3, device=torch.device("cpu"))
    recorded = train_run(get_problem("toy"), get_method("mgda", 2), cfg).trajectory
    full = read_trajectory(trajectory_json(recorded, tolerance=0.0))
    stored = read_trajectory(trajectory_json(recorded))
    assert stored is not None and full is not None
    assert len(stored["step"]) < len(full["step"]) == len(recorded["step"])
    index = [full["step"].index(s) for s in stored["step"]]
    assert index[0] == 0 and index[-1] == len(full["step"]) - 1
    assert [full["loss"][i] for i in index] == stored["loss"]
    assert [full["x"][i] for i in index] == stored["x"]
    points = np.hstack([np.array(full["loss"]), np.array(full["x"])])
    assert deviation(points, index) <= TRAJECTORY_TOLERANCE
    old_cell = json.dumps(full)  # an older file's cell: every recorded point, evenly spaced
    assert read_trajectory(old_cell) == full
