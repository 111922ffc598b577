"""The multifashion problem: reading Fashion-MNIST's IDX files, the overlay's geometry, the
deterministic pairing and its labels, the error when the data is absent, and a short training
run.

Most tests use small fake IDX files in a temporary folder (``$PARETOKIT_FASHION_MNIST``). The
tests on the real data skip when Debian's ``dataset-fashion-mnist`` is not installed, except
under CI (``CI`` set), where .ci/run installs it and a skip would hide that.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from paretokit.errors import ProblemError
from paretokit.methods import get_method
from paretokit.problems import get_problem, multifashion
from paretokit.problems.multifashion import MultiFashion
from paretokit.train import RunConfig, train_run

N_TRAIN_FILE, N_TEST_FILE, N_VAL = 60, 20, 15


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, np.ndarray]:
    """Fake Fashion-MNIST files (random images and labels) in a folder named by the
    environment variable, a validation pool of N_VAL images and a fresh cache folder."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, size=(N_TRAIN_FILE, 28, 28)),
        "train_labels": rng.integers(0, 10, size=N_TRAIN_FILE),
        "test_images": rng.integers(0, 256, size=(N_TEST_FILE, 28, 28)),
        "test_labels": rng.integers(0, 10, size=N_TEST_FILE),
    }
    folder = tmp_path / "fashion"
    folder.mkdir()
    for key, name in multifashion.FILES.items():
        write_idx(folder / name, arrays[key])
    monkeypatch.setenv(multifashion.ENV_VAR, str(folder))
    monkeypatch.setenv("PARETOKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(multifashion, "N_VAL", N_VAL)
    return {k: v.astype(np.uint8) for k, v in arrays.items()}


def test_read_idx_round_trips_and_rejects_garbage(tmp_path: Path) -> None:
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    write_idx(tmp_path / "a.gz", images)
    assert np.array_equal(multifashion.read_idx(tmp_path / "a.gz"), images)
    with gzip.open(tmp_path / "b.gz", "wb") as handle:
        handle.write(b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + b"abc")  # 3 of 5 bytes
    with pytest.raises(ProblemError, match="not an IDX file"):
        multifashion.read_idx(tmp_path / "b.gz")


def test_overlay_places_items_top_left_and_bottom_right() -> None:
    ones = np.full((1, 28, 28), 200, dtype=np.uint8)
    zeros = np.zeros((1, 28, 28), dtype=np.uint8)
    left, right = multifashion.overlay(ones, zeros)[0], multifashion.overlay(zeros, ones)[0]
    assert left.shape == right.shape == (28, 28)
    # the canvas is 36 wide; output pixel i samples canvas pixel floor((i + 0.5) * 36 / 28)
    centres = np.floor((np.arange(28) + 0.5) * 36 / 28)
    in_left, in_right = centres < 28, (centres >= 6) & (centres < 34)
    assert np.array_equal(left > 0, np.outer(in_left, in_left))
    assert np.array_equal(right > 0, np.outer(in_right, in_right))
    assert left[0, 0] == 200 and left[-1, -1] == 0 and right[0, 0] == 0 and right[-3, -3] == 200
    # the overlap is the pixelwise max of the two items
    both = multifashion.overlay(np.full_like(ones, 50), ones)[0]
    overlap = np.outer(in_left & in_right, in_left & in_right)
    assert (both[overlap] == 200).all() and (both[~overlap & (both > 0)] > 0).all()


def test_generation_is_deterministic_with_correct_labels(fake_data) -> None:
    a = multifashion.generate(fake_data)
    b = multifashion.generate(fake_data)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(multifashion.generate(fake_data, seed=1)["train_sources"],
                              a["train_sources"])  # fmt: skip
    sizes = {"train": N_TRAIN_FILE - N_VAL, "val": N_VAL, "test": N_TEST_FILE}
    for split, n in sizes.items():
        part = "test" if split == "test" else "train"
        images, labels = fake_data[f"{part}_images"], fake_data[f"{part}_labels"]
        x, y, src = a[f"{split}_x"], a[f"{split}_y"], a[f"{split}_sources"]
        assert x.shape == (n, 28, 28) and x.dtype == np.uint8
        assert y.shape == src.shape == (n, 2) and y.dtype == np.int64
        # the labels are those of the two source items, the image their overlay
        assert np.array_equal(y, labels[src])
        assert np.array_equal(x, multifashion.overlay(images[src[:, 0]], images[src[:, 1]]))
        # every pool item is the top-left item once; its partner is another item of the pool
        assert sorted(src[:, 0]) == sorted(multifashion.pools(N_TRAIN_FILE, N_TEST_FILE)[split][1])
        assert (src[:, 0] != src[:, 1]).all() and set(src[:, 1]) <= set(src[:, 0])
    # train and validation items come from disjoint parts of the training file
    assert not set(a["train_sources"].ravel()) & set(a["val_sources"].ravel())


def test_problem_splits_shapes_standardization_and_cache(fake_data, monkeypatch) -> None:
    problem = get_problem("multifashion")
    assert problem.task_names == ["left", "right"]
    assert all(t.higher_is_better and t.metric == "accuracy" for t in problem.tasks)
    splits = problem.splits()
    assert {k: len(s) for k, s in splits.items()} == {
        "train": N_TRAIN_FILE - N_VAL, "val": N_VAL, "test": N_TEST_FILE,
    }  # fmt: skip
    assert splits["train"].x.shape[1:] == (1, 28, 28) and splits["train"].x.dtype == torch.float32
    assert abs(float(splits["train"].x.mean())) < 1e-4
    assert abs(float(splits["train"].x.std()) - 1.0) < 1e-2
    # the second problem reads the cache entry instead of generating again
    monkeypatch.setattr(multifashion, "generate", lambda *a, **k: pytest.fail("regenerated"))
    again = MultiFashion().splits()
    assert torch.equal(again["test"].y, splits["test"].y)


def test_missing_data_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(multifashion.ENV_VAR, str(tmp_path))
    with pytest.raises(ProblemError, match="install Debian's package dataset-fashion-mnist"):
        get_problem("multifashion").splits()
    env = {**os.environ, multifashion.ENV_VAR: str(tmp_path), "PARETOKIT_CACHE": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "paretokit.cli", "compare", "ls", "--problem", "multifashion",
         "--seeds", "1", "--out", str(tmp_path / "r.parquet"), "--device", "cpu"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "dataset-fashion-mnist" in errors[0]
    assert done.stderr.strip().splitlines()[-1] == errors[0]
    assert "Traceback" not in done.stderr


def test_tiny_training_run_through_the_engine(fake_data) -> None:
    problem = get_problem("multifashion")
    config = RunConfig(epochs=2, batch_size=16, lr=1e-3, seed=0, device=torch.device("cpu"))
    result = train_run(problem, get_method("mgda", 2), config)
    again = train_run(problem, get_method("mgda", 2), config)
    for split in ("val", "test"):
        assert all(0.0 <= m <= 1.0 for m in result.metrics[split])
        assert all(np.isfinite(result.losses[split]))
    assert result.metrics == again.metrics  # same seed, same device: same numbers


# --- the real data (Debian's package) ----------------------------------------------------------


@pytest.fixture(scope="module")
def real_problem() -> MultiFashion:
    try:
        multifashion.data_dir()
    except ProblemError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (CI must run these tests: .ci/run installs the package)")
        pytest.skip(str(exc))
    problem = MultiFashion()
    problem.splits()
    return problem


def test_real_data_sizes_and_labels_of_the_sources(real_problem: MultiFashion) -> None:
    splits = real_problem.splits()
    assert {k: len(s) for k, s in splits.items()} == {"train": 50000, "val": 10000, "test": 10000}
    arrays = multifashion.load_arrays()
    source = multifashion.read_fashion_mnist(multifashion.data_dir())
    for split in ("val", "test"):
        part = "test" if split == "test" else "train"
        src = arrays[f"{split}_sources"]
        assert np.array_equal(arrays[f"{split}_y"], source[f"{part}_labels"][src])
        assert np.array_equal(splits[split].y.numpy(), arrays[f"{split}_y"])
    # every class appears in both positions, about uniformly (Fashion-MNIST is balanced)
    counts = np.bincount(arrays["train_y"][:, 1], minlength=10)
    assert counts.min() > 0.8 * 5000 and counts.max() < 1.2 * 5000


def test_real_data_loss_decreases_in_a_few_steps(real_problem: MultiFashion) -> None:
    torch.manual_seed(0)
    model = real_problem.build_model()
    opt = torch.optim.Adam(model.parameters(), lr=real_problem.defaults.lr)
    train = real_problem.splits()["train"]
    batches = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[: 150 * 64]
    losses = []
    for b in batches.split(64):
        loss = real_problem.losses(model(train.x[b]), train.y[b])
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
        losses.append(loss.detach())
    first, last = torch.stack(losses[:5]).mean(0), torch.stack(losses[-5:]).mean(0)
    assert (last < first - 0.5).all(), (first, last)  # ln 10 ≈ 2.30 at chance
