"""The built-in problems: data shapes and splits, task specs and selection, the QM9 descriptors
and their on-disk cache, and that each model learns something.

QM9 tests use the real cache (``$PARETOKIT_CACHE`` or ``~/.cache/paretokit``): the first run
computes the descriptors once (about 10–15 s on two CPU cores); cache logic is tested on small
inputs in temporary directories.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from paretokit.errors import ProblemError
from paretokit.problems import (
    Problem,
    TrainDefaults,
    _cache,
    builtin_problems,
    get_problem,
    multidigits,
    qm9,
    synthetic,
)
from paretokit.problems.multidigits import MultiDigits
from paretokit.problems.qm9 import QM9
from paretokit.problems.synthetic import Synthetic

QM9_TASKS = ["mu", "alpha", "homo", "lumo", "r2", "zpve", "u0", "u", "h", "g", "cv"]


def _train(problem: Problem, steps: int | None = None, seed: int = 0) -> torch.nn.Module:
    """Plain Adam on the equal-weighted sum of task losses, for the problem's default epochs
    (or only ``steps`` minibatches)."""
    torch.manual_seed(seed)
    model = problem.build_model()
    d = problem.defaults
    opt = torch.optim.Adam(model.parameters(), lr=d.lr)
    train = problem.splits()["train"]
    done = 0
    for _ in range(d.epochs):
        for b in torch.randperm(len(train)).split(d.batch_size):
            loss = problem.losses(model(train.x[b]), train.y[b]).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if steps is not None and done >= steps:
                return model
    return model


def _assert_disjoint_cover(parts: list[np.ndarray], n: int) -> None:
    joined = np.concatenate(parts)
    assert len(np.unique(joined)) == len(joined), "splits overlap"
    assert len(joined) == n and joined.min() == 0 and joined.max() == n - 1


# --- registry and class attributes ------------------------------------------------------------


@pytest.mark.parametrize("name", ["qm9", "multifashion", "multidigits", "synthetic", "toy"])
def test_builtins_are_registered_with_metadata(name: str) -> None:
    assert name in builtin_problems()
    problem = get_problem(name)  # construction is cheap: no data is loaded
    assert problem.name == name
    assert problem.summary and "\n" not in problem.summary
    assert problem.source
    assert isinstance(problem.defaults, TrainDefaults)
    assert (
        problem.defaults.epochs > 0 and problem.defaults.batch_size > 0 and problem.defaults.lr > 0
    )
    assert problem._splits is None


# --- qm9 ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def qm9_problem() -> QM9:
    problem = QM9()
    problem.splits()
    return problem


def test_qm9_tasks_and_specs(qm9_problem: QM9) -> None:
    assert [t.name for t in qm9_problem.available_tasks()] == QM9_TASKS
    assert qm9_problem.task_names == ["mu", "alpha", "homo"]  # default: 3 tasks
    for spec in qm9_problem.available_tasks():
        assert (spec.loss, spec.metric, spec.higher_is_better, spec.n_classes) == (
            "mse",
            "mae",
            False,
            0,
        )
    units = {t.name: t.unit for t in qm9_problem.available_tasks()}
    assert all(units[n] == "eV" for n in ["homo", "lumo", "zpve", "u0", "u", "h", "g"])
    assert units["mu"] == "D"


def test_qm9_split_sizes_shapes_dtypes(qm9_problem: QM9) -> None:
    splits = qm9_problem.splits()
    assert {k: len(v) for k, v in splits.items()} == {
        "train": 110_831,
        "val": 10_000,
        "test": 10_000,
    }
    for split in splits.values():
        assert split.x.shape == (len(split), qm9.N_FEATURES) and split.x.dtype == torch.float32
        assert split.y.shape == (len(split), 3) and split.y.dtype == torch.float32
        assert torch.isfinite(split.x).all() and torch.isfinite(split.y).all()


def test_qm9_split_is_fixed_and_disjoint() -> None:
    a, b = qm9.split_indices(130_831), qm9.split_indices(130_831)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    _assert_disjoint_cover([a["train"], a["val"], a["test"]], 130_831)
    with pytest.raises(ProblemError):
        qm9.split_indices(20_000)


def test_qm9_standardized_on_train(qm9_problem: QM9) -> None:
    train = qm9_problem.splits()["train"]
    y = train.y.double()
    torch.testing.assert_close(y.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-4, rtol=0)
    torch.testing.assert_close(y.std(0), torch.ones(3, dtype=torch.float64), atol=1e-4, rtol=0)
    x = train.x.double()
    varying = x.std(0) > 0
    # ≈ 40 histogram bins are never hit (H–H closer than 1.2 Å, most F–F bins, …): all zero
    assert 240 <= int(varying.sum()) < qm9.N_FEATURES
    assert torch.all(x[:, ~varying] == 0)
    assert x.mean(0).abs().max() < 1e-4
    torch.testing.assert_close(
        x.std(0)[varying], torch.ones(int(varying.sum()), dtype=torch.float64), atol=1e-3, rtol=0
    )
    val_mean = qm9_problem.splits()["val"].y.mean(0)
    assert val_mean.abs().max() < 0.1  # val is standardized with train statistics, not its own


def test_qm9_scales_match_reference_and_units() -> None:
    problem = QM9(tasks=11)
    before = [t.scale for t in problem.tasks]
    problem.splits()
    after = [t.scale for t in problem.tasks]
    np.testing.assert_allclose(after, before, rtol=1e-6)
    np.testing.assert_allclose(after, qm9._REFERENCE_STD, rtol=1e-6)
    # hartree → eV: QM9's mean HOMO is about −0.240 Ha = −6.5 eV; U0 about −411 Ha = −11,180 eV
    raw = qm9.load_arrays()
    assert raw["y"].shape == (130_831, 11) and raw["index"].shape == (130_831,)
    assert np.all(np.diff(raw["index"]) > 0)
    homo_ev = raw["y"][:, 2].mean() * qm9.HARTREE_TO_EV
    assert -6.7 < homo_ev < -6.3
    assert 900 < after[6] < 1300  # U0 spread in eV, not hartree (≈ 40)


def test_qm9_task_selection_by_names_follows_order(qm9_problem: QM9) -> None:
    picked = QM9(tasks=["homo", "mu"])
    assert picked.task_names == ["homo", "mu"]
    y, y_default = picked.splits()["val"].y, qm9_problem.splits()["val"].y
    torch.testing.assert_close(y[:, 0], y_default[:, 2], atol=0, rtol=0)
    torch.testing.assert_close(y[:, 1], y_default[:, 0], atol=0, rtol=0)
    assert [t.scale for t in picked.tasks] == [
        qm9_problem.tasks[2].scale,
        qm9_problem.tasks[0].scale,
    ]
    assert QM9(tasks="mu,alpha").task_names == ["mu", "alpha"]
    assert QM9(tasks="5").task_names == QM9_TASKS[:5]
    assert QM9(tasks=11).n_tasks == 11


@pytest.mark.parametrize("tasks", [1, 12, "12", "mu", "mu,foo", ["alpha", "alpha"], ["nope", "mu"]])
def test_qm9_bad_task_selection(tasks: object) -> None:
    with pytest.raises(ProblemError):
        QM9(tasks=tasks)  # type: ignore[arg-type]


def test_qm9_model_outputs_losses_metrics(qm9_problem: QM9) -> None:
    torch.manual_seed(0)
    model = qm9_problem.build_model()
    batch = qm9_problem.splits()["val"]
    outputs = model(batch.x[:32])
    assert [tuple(o.shape) for o in outputs] == [(32, 1)] * 3
    losses = qm9_problem.losses(outputs, batch.y[:32])
    assert losses.shape == (3,) and torch.all(losses > 0) and losses.requires_grad
    with torch.no_grad():
        assert len(qm9_problem.metrics(model(batch.x[:32]), batch.y[:32])) == 3


def test_qm9_features_carry_signal(qm9_problem: QM9) -> None:
    model = _train(qm9_problem, steps=300)
    val = qm9_problem.splits()["val"]
    with torch.no_grad():
        mae = qm9_problem.metrics(model(val.x), val.y)
    mean_predictor = qm9_problem.metrics([torch.zeros(len(val), 1)] * 3, val.y)
    for name, m, base in zip(qm9_problem.task_names, mae, mean_predictor):
        assert m < 0.7 * base, (name, m, base)


def test_qm9_cache_is_reused(qm9_problem: QM9, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _cache.entry_path(qm9.cache_name(qm9.data_dir()))
    assert path.is_file()

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("descriptors recomputed although the cache exists")

    monkeypatch.setattr(qm9, "compute_arrays", fail)
    x = QM9().splits()["train"].x  # loads in well under 2 s when the CPU is not contended
    torch.testing.assert_close(x, qm9_problem.splits()["train"].x, atol=0, rtol=0)


@pytest.fixture(scope="module")
def tiny_qm9_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three CSVs holding the first 3 molecules of each real qm9pack file."""
    directory = tmp_path_factory.mktemp("qm9pack_data")
    for name in qm9.DATA_FILES:
        pd.read_csv(qm9.data_dir() / name, nrows=3).to_csv(directory / name, index=False)
    return directory


def test_qm9_descriptors_of_real_molecules_match_cache(tiny_qm9_dir: Path) -> None:
    tiny = qm9.compute_arrays(tiny_qm9_dir)
    full = qm9.load_arrays()
    rows = np.searchsorted(full["index"], tiny["index"])
    np.testing.assert_array_equal(full["index"][rows], tiny["index"])
    np.testing.assert_allclose(tiny["x"], full["x"][rows], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(tiny["y"], full["y"][rows])
    methane = tiny["x"][tiny["index"] == 1][0]  # CH4: 4 H, 1 C, 5 atoms
    np.testing.assert_array_equal(methane[:6], [4, 1, 0, 0, 0, 5])


def test_qm9_cache_corrupt_entry_is_recomputed(
    tiny_qm9_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qm9, "data_dir", lambda: tiny_qm9_dir)
    calls: list[int] = []
    real_compute = qm9.compute_arrays

    def counting(directory: Path, progress: object = None) -> dict[str, np.ndarray]:
        calls.append(1)
        return real_compute(directory, progress)  # type: ignore[arg-type]

    monkeypatch.setattr(qm9, "compute_arrays", counting)
    first = qm9.load_arrays(directory=tmp_path)
    path = _cache.entry_path(qm9.cache_name(tiny_qm9_dir), tmp_path)
    assert calls == [1] and path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary leftovers
    qm9.load_arrays(directory=tmp_path)
    assert calls == [1]
    path.write_bytes(b"not an npz file")
    again = qm9.load_arrays(directory=tmp_path)
    assert calls == [1, 1]
    np.testing.assert_array_equal(again["x"], first["x"])
    assert _cache.read_entry(path, ["x", "y", "index"]) is not None  # rewritten, valid


def test_qm9_progress_is_reported(tiny_qm9_dir: Path) -> None:
    seen: list[tuple[str, float]] = []
    qm9.compute_arrays(tiny_qm9_dir, progress=lambda stage, f: seen.append((stage, f)))
    fractions = [f for _, f in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)


def test_qm9_missing_package_or_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(qm9.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ProblemError, match="pip install qm9pack"):
        qm9.data_dir()
    with pytest.raises(ProblemError, match="pip install qm9pack"):
        QM9().splits()

    class Spec:
        submodule_search_locations = [str(tmp_path)]

    monkeypatch.setattr(qm9.importlib.util, "find_spec", lambda name: Spec())
    with pytest.raises(ProblemError, match="data files are missing"):
        qm9.data_dir()


def test_qm9_damaged_csv_is_a_problem_error(tiny_qm9_dir: Path, tmp_path: Path) -> None:
    for name in qm9.DATA_FILES:
        frame = pd.read_csv(tiny_qm9_dir / name)
        if name == qm9.DATA_FILES[0]:
            frame.loc[0, "XYZ_Ang"] = "[[0.0,1.0]]"  # a coordinate missing
        frame.to_csv(tmp_path / name, index=False)
    with pytest.raises(ProblemError, match="damaged"):
        qm9.read_molecules(tmp_path)


def test_coulomb_eigenvalues_of_h2() -> None:
    d_angstrom = 0.74
    types = np.full((1, qm9.MAX_ATOMS), -1)
    types[0, :2] = 0  # two H
    positions = np.zeros((1, qm9.MAX_ATOMS, 3))
    positions[0, 1, 0] = d_angstrom
    eig = qm9.coulomb_eigenvalues(np.array([2]), types, positions)
    off = 1.0 / (d_angstrom * qm9.BOHR_PER_ANGSTROM)  # C = [[0.5, 1/d], [1/d, 0.5]]
    np.testing.assert_allclose(eig[0, :2], [0.5 + off, 0.5 - off], rtol=1e-12)
    assert np.all(eig[0, 2:] == 0)


def test_pair_histograms_count_pairs_by_element() -> None:
    types = np.full((1, qm9.MAX_ATOMS), -1)
    types[0, :3] = [3, 0, 0]  # water: O, H, H
    positions = np.zeros((1, qm9.MAX_ATOMS, 3))
    positions[0, 1] = [0.96, 0.0, 0.0]
    positions[0, 2] = [-0.24, 0.93, 0.0]
    feats = qm9.pair_histograms(types, positions)[0]
    hist = feats[: len(qm9.PAIRS) * qm9.N_BINS].reshape(len(qm9.PAIRS), qm9.N_BINS)
    inv = feats[len(qm9.PAIRS) * qm9.N_BINS :]
    oh, hh = qm9.PAIR_INDEX[3, 0], qm9.PAIR_INDEX[0, 0]
    np.testing.assert_allclose(hist.sum(1)[[oh, hh]], [2.0, 1.0], rtol=1e-12)
    assert hist.sum() == pytest.approx(3.0, rel=1e-12)
    d_hh = np.linalg.norm(positions[0, 1] - positions[0, 2])
    assert inv[hh] == pytest.approx(1.0 / d_hh, rel=1e-12)
    assert inv[oh] == pytest.approx(1 / 0.96 + 1 / np.linalg.norm(positions[0, 2]), rel=1e-12)


# --- the cache helper -----------------------------------------------------------------------


def test_cache_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(_cache.ENV_VAR, str(tmp_path))
    assert _cache.cache_dir() == tmp_path
    monkeypatch.delenv(_cache.ENV_VAR)
    assert _cache.cache_dir() == Path.home() / ".cache" / "paretokit"


def test_cache_computes_once_and_recovers(tmp_path: Path) -> None:
    calls: list[tuple[str, ...]] = []

    def compute(*keys: str):
        def run() -> dict[str, np.ndarray]:
            calls.append(keys)
            return {k: np.arange(5.0) + i for i, k in enumerate(keys)}

        return run

    first = _cache.load_or_compute("entry-v1", compute("a", "b"), ["a", "b"], tmp_path)
    second = _cache.load_or_compute("entry-v1", compute("a", "b"), ["a", "b"], tmp_path)
    assert calls == [("a", "b")]
    np.testing.assert_array_equal(second["b"], first["b"])
    # an entry lacking an expected array is recomputed
    third = _cache.load_or_compute("entry-v1", compute("a", "b", "c"), ["a", "b", "c"], tmp_path)
    assert calls == [("a", "b"), ("a", "b", "c")]
    np.testing.assert_array_equal(third["c"], np.arange(5.0) + 2)
    # a truncated entry is recomputed
    path = _cache.entry_path("entry-v1", tmp_path)
    path.write_bytes(path.read_bytes()[:40])
    again = _cache.load_or_compute("entry-v1", compute("a"), ["a"], tmp_path)
    np.testing.assert_array_equal(again["a"], np.arange(5.0))
    assert len(calls) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["entry-v1.npz"]
    with pytest.raises(ValueError, match="did not return"):
        _cache.load_or_compute("other", compute("a"), ["a", "z"], tmp_path)


def test_cache_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _cache.entry_path("atomic", tmp_path)
    _cache.write_entry(path, {"a": np.ones(3)})

    def broken_savez(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk fell off")

    monkeypatch.setattr(_cache.np, "savez", broken_savez)
    with pytest.raises(RuntimeError):
        _cache.write_entry(path, {"a": np.zeros(3)})
    assert [p.name for p in tmp_path.iterdir()] == ["atomic.npz"]  # temp file removed
    kept = _cache.read_entry(path, ["a"])
    assert kept is not None and np.array_equal(kept["a"], np.ones(3))  # old entry intact


def test_cache_unwritable_directory_still_returns(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.warns(RuntimeWarning, match="could not write"):
        out = _cache.load_or_compute("e", lambda: {"a": np.ones(2)}, ["a"], blocker / "sub")
    np.testing.assert_array_equal(out["a"], np.ones(2))


# --- multidigits ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits() -> MultiDigits:
    problem = MultiDigits()
    problem.splits()
    return problem


def test_multidigits_shapes_specs_and_standardization(digits: MultiDigits) -> None:
    splits = digits.splits()
    assert {k: len(v) for k, v in splits.items()} == multidigits.N_EXAMPLES
    for split in splits.values():
        assert split.x.shape[1:] == (1, 12, 12) and split.x.dtype == torch.float32
        assert split.y.shape == (len(split), 2) and split.y.dtype == torch.int64
        assert int(split.y.min()) >= 0 and int(split.y.max()) <= 9
    x = splits["train"].x.double()
    assert abs(float(x.mean())) < 1e-5 and abs(float(x.std()) - 1.0) < 1e-3
    assert digits.task_names == ["left", "right"]
    for spec in digits.tasks:
        assert (spec.loss, spec.metric, spec.higher_is_better, spec.n_classes) == (
            "cross_entropy",
            "accuracy",
            True,
            10,
        )
    outputs = digits.build_model()(splits["val"].x[:16])
    assert [tuple(o.shape) for o in outputs] == [(16, 10), (16, 10)]


def test_multidigits_pools_disjoint_and_deterministic() -> None:
    a, b = multidigits.make_splits(), multidigits.make_splits()
    for k in a:
        for arr_a, arr_b in zip(a[k], b[k]):
            np.testing.assert_array_equal(arr_a, arr_b)
    used = {k: set(np.unique(a[k][2])) for k in a}
    assert (
        not used["train"] & used["test"]
        and not used["train"] & used["val"]
        and not used["val"] & used["test"]
    )
    assert len(used["train"]) > 900  # most of the ~1,078-image train pool is used
    assert not np.array_equal(multidigits.make_splits(seed=1)["test"][1], a["test"][1])


def test_multidigits_overlay_places_left_up_left_and_right_down_right() -> None:
    rng = np.random.default_rng(0)
    ones, zeros = np.ones((50, 8, 8), np.float32), np.zeros((50, 8, 8), np.float32)
    left = multidigits.overlay(ones, zeros, rng)
    right = multidigits.overlay(zeros, ones, rng)
    assert np.all(left.sum((1, 2)) == 64) and np.all(right.sum((1, 2)) == 64)
    assert np.all(left[:, 9:, :].sum((1, 2)) == 0)
    assert np.all(left[:, :, 9:].sum((1, 2)) == 0) and np.all(left[:, 1:8, 1:8] == 1)
    assert np.all(right[:, :3, :].sum((1, 2)) == 0) and np.all(right[:, :, :3].sum((1, 2)) == 0)
    assert np.all(right[:, 4:11, 4:11] == 1)
    both = multidigits.overlay(ones * 0.5, ones, rng)
    assert both.max() == 1.0 and both[both > 0].min() == 0.5  # pixelwise max, not a sum


def test_multidigits_task_selection() -> None:
    swapped = MultiDigits(tasks=["right", "left"])
    default = MultiDigits()
    torch.testing.assert_close(
        swapped.splits()["test"].y, default.splits()["test"].y.flip(1), atol=0, rtol=0
    )
    for bad in (3, 1, "left,middle", ["left"]):
        with pytest.raises(ProblemError):
            MultiDigits(tasks=bad)  # type: ignore[arg-type]


def test_multidigits_default_training_beats_chance(digits: MultiDigits) -> None:
    model = _train(digits)
    val = digits.splits()["val"]
    with torch.no_grad():
        accuracy = digits.metrics(model(val.x), val.y)
    assert min(accuracy) > 0.6, accuracy  # chance is 0.1; typically ≈ 0.9


# --- synthetic ------------------------------------------------------------------------------


@pytest.mark.parametrize("rho", [-1.0, -0.3, 0.0, 0.5, 0.9, 1.0])
def test_synthetic_directions_have_the_asked_cosine(rho: float) -> None:
    k = synthetic.max_tasks(rho)
    w = synthetic.task_directions(k, rho, synthetic.INPUT_DIM, np.random.default_rng(0))
    assert w.shape == (k, synthetic.INPUT_DIM)
    gram = w @ w.T
    np.testing.assert_allclose(np.diag(gram), 1.0, atol=1e-10)
    np.testing.assert_allclose(gram[~np.eye(k, dtype=bool)], rho, atol=1e-10)


def test_synthetic_task_counts_follow_correlation() -> None:
    assert synthetic.max_tasks(0.5) == 32 and synthetic.max_tasks(-1.0) == 2
    assert synthetic.max_tasks(-0.5) == 3 and synthetic.max_tasks(-0.3) == 4
    assert Synthetic(correlation=-0.9).task_names == ["t1", "t2"]
    assert Synthetic(tasks=32).n_tasks == 32
    with pytest.raises(ProblemError):
        Synthetic(tasks=4, correlation=-0.5)
    with pytest.raises(ProblemError):
        Synthetic(tasks=33)


def test_synthetic_shapes_specs_determinism() -> None:
    a, b = Synthetic(), Synthetic()
    assert a.task_names == ["t1", "t2", "t3"]
    sa, sb = a.splits(), b.splits()
    assert {k: len(v) for k, v in sa.items()} == {"train": 8000, "val": 1000, "test": 1000}
    for k in sa:
        assert sa[k].x.shape == (len(sa[k]), synthetic.INPUT_DIM) and sa[k].x.dtype == torch.float32
        assert sa[k].y.shape == (len(sa[k]), 3) and sa[k].y.dtype == torch.float32
        torch.testing.assert_close(sa[k].x, sb[k].x, atol=0, rtol=0)
        torch.testing.assert_close(sa[k].y, sb[k].y, atol=0, rtol=0)
    assert not torch.equal(Synthetic(seed=1).splits()["train"].y, sa["train"].y)
    torch.testing.assert_close(
        sa["train"].y.double().std(0), torch.ones(3, dtype=torch.float64), atol=1e-3, rtol=0
    )
    for spec in a.tasks:
        assert (spec.loss, spec.metric, spec.higher_is_better, spec.n_classes) == (
            "mse",
            "mae",
            False,
            0,
        )
    assert a.describe()["correlation"] == 0.5 and a.describe()["seed"] == 0
    outputs = a.build_model()(sa["val"].x[:8])
    assert [tuple(o.shape) for o in outputs] == [(8, 1)] * 3


def test_synthetic_subsets_share_structure() -> None:
    full = Synthetic(tasks=["t1", "t2", "t3"]).splits()["val"].y
    picked = Synthetic(tasks="t3,t1").splits()["val"].y
    torch.testing.assert_close(picked, full[:, [2, 0]], atol=0, rtol=0)


def test_synthetic_scale_spread() -> None:
    problem = Synthetic(tasks=3, scale_spread=4.0)
    y = problem.splits()["train"].y.double()
    torch.testing.assert_close(
        y.std(0), torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64), atol=0, rtol=1e-3
    )
    assert [t.scale for t in problem.tasks] == pytest.approx([1.0, 0.5, 0.25], rel=1e-12)
    equal_scales = Synthetic(tasks=3)
    zeros = [torch.zeros(len(y), 1)] * 3
    spread_mae = problem.metrics(zeros, problem.splits()["train"].y)
    equal_mae = equal_scales.metrics(zeros, equal_scales.splits()["train"].y)
    assert spread_mae == pytest.approx(equal_mae, rel=1e-5)  # metrics are in unscaled units
    reversed_order = Synthetic(tasks=["t3", "t2", "t1"], scale_spread=4.0)
    torch.testing.assert_close(
        reversed_order.splits()["train"].y.double().std(0),
        torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64), atol=0, rtol=1e-3,
    )  # fmt: skip


def test_synthetic_correlation_controls_target_correlation() -> None:
    def corr(rho: float) -> float:
        y = Synthetic(tasks=2, correlation=rho).splits()["train"].y.double()
        return float(torch.corrcoef(y.T)[0, 1])

    low, mid, high = corr(0.0), corr(0.5), corr(0.95)
    assert abs(low) < 0.1 and low < mid < high and high > 0.8


@pytest.mark.parametrize(
    "options",
    [
        {"correlation": 1.5},
        {"scale_spread": 0.0},
        {"scale_spread": float("nan")},
        {"n_samples": 10},
    ],
)
def test_synthetic_bad_options(options: dict[str, float]) -> None:
    with pytest.raises(ProblemError):
        Synthetic(**options)  # type: ignore[arg-type]
