"""MultiFashion: two overlaid Fashion-MNIST items, classify the top-left and the bottom-right one.

The setting of Xin et al. ("Do Current Multi-Task Optimization Methods in Deep Learning Even
Help?", NeurIPS 2022, §4), built as MultiMNIST is by Sener & Koltun ("Multi-Task Learning as
Multi-Objective Optimization", NeurIPS 2018, their ``multi_mnist_loader``) but from
Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, MIT licence) instead of MNIST.

Data: the four ``*-ubyte.gz`` files of Debian's package ``dataset-fashion-mnist``
(``/usr/share/datasets/fashion-mnist``; ``$PARETOKIT_FASHION_MNIST`` names another folder
holding them). Nothing is downloaded.

Construction (Sener & Koltun's): each source image ``a`` (28×28) is paired with one other image
``b`` of the same pool, drawn uniformly at random; ``a`` is pasted at the top-left of a 36×36
canvas (rows and columns 0–27), ``b`` at the bottom-right (6–33), combined by pixelwise max
where they overlap, and the canvas is resized back to 28×28 by nearest-neighbour sampling
(pixel centres). Task ``left`` is ``a``'s class, task ``right`` is ``b``'s.

Splits (sources disjoint, so no test item is seen in training): the last 10,000 images of
Fashion-MNIST's training file are the validation pool, the first 50,000 the training pool, and
its 10,000 test images the test pool; every image of a pool is the top-left item of exactly one
example, so train/val/test hold 50,000/10,000/10,000 examples. The pairing is drawn from a fixed
seed (:data:`SEED`): the data never depends on a run's seed. The overlaid images (uint8) are
generated once and cached on disk (:mod:`paretokit.problems._cache`).

Model: Sener & Koltun's MultiLeNet (their MultiMNIST model; LeNet-style): a shared
trunk conv(1→10, 5×5) → max-pool 2 → ReLU → conv(10→20, 5×5) → Dropout2d(0.5) → max-pool 2 →
ReLU → linear(320→50) → ReLU, and per task a head linear(50→50) → ReLU → Dropout(0.5) →
linear(50→10). Inputs are standardized with the train split's pixel mean and std.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from paretokit.errors import ProblemError
from paretokit.problems._base import Problem, Split, TaskSpec, TrainDefaults
from paretokit.problems._cache import load_or_compute

ENV_VAR = "PARETOKIT_FASHION_MNIST"
DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
PACKAGE = "dataset-fashion-mnist"
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
SIDE = 28  # Fashion-MNIST images and the examples are 28×28
CANVAS = 36  # the overlay canvas before resizing
SHIFT_AT = 6  # the bottom-right item is pasted at rows/columns 6–33 of the canvas
N_VAL = 10_000  # the last images of the training file: the validation pool
SEED = 2018  # fixed: the pairing never depends on a run's seed
GENERATION_VERSION = "v1"  # bump when the construction changes: old cache entries are ignored
HIDDEN = 50


def data_dir() -> Path:
    """The folder holding Fashion-MNIST's four files: ``$PARETOKIT_FASHION_MNIST`` when set,
    else Debian's ``/usr/share/datasets/fashion-mnist``. A clear error when a file is missing."""
    override = os.environ.get(ENV_VAR, "").strip()
    directory = Path(override).expanduser() if override else DEFAULT_DIR
    missing = [f for f in FILES.values() if not (directory / f).is_file()]
    if missing:
        where = f"${ENV_VAR}={override}" if override else str(directory)
        raise ProblemError(
            f"the multifashion problem needs Fashion-MNIST ({', '.join(missing)} not found in "
            f"{where}): install Debian's package {PACKAGE} (apt-get install {PACKAGE}) or set "
            f"{ENV_VAR} to a folder holding its four *-ubyte.gz files"
        )
    return directory


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (LeCun's MNIST format, gzip-compressed) as a uint8 array: images (N, 28, 28)
    or labels (N,)."""
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as exc:
        raise ProblemError(f"cannot read {path}: {exc}; reinstall {PACKAGE}") from exc
    damaged = ProblemError(f"{path} is not an IDX file of uint8 data; reinstall {PACKAGE}")
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise damaged
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise damaged
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise damaged
    return data.reshape(shape)


def read_fashion_mnist(directory: Path) -> dict[str, np.ndarray]:
    """The four arrays of :data:`FILES`, checked for matching lengths and 28×28 images."""
    arrays = {key: read_idx(directory / name) for key, name in FILES.items()}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE) or len(images) != len(labels):
            raise ProblemError(f"the Fashion-MNIST {part} files in {directory} do not match")
        if labels.max(initial=0) >= len(CLASSES):
            raise ProblemError(f"the Fashion-MNIST {part} labels in {directory} are not 0–9")
    if len(arrays["train_images"]) <= N_VAL:
        raise ProblemError(f"the Fashion-MNIST training file in {directory} is too short")
    return arrays


_NEAREST = np.floor((np.arange(SIDE) + 0.5) * CANVAS / SIDE).astype(np.int64)


def overlay(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Sener & Koltun's overlay of ``left`` and ``right`` (N, 28, 28): pasted at (0, 0) and
    (6, 6) of a 36×36 canvas, pixelwise max where they overlap, resized to 28×28 by
    nearest-neighbour sampling of the pixel centres. Same dtype as the inputs."""
    n = len(left)
    canvas = np.zeros((n, CANVAS, CANVAS), dtype=left.dtype)
    canvas[:, :SIDE, :SIDE] = left
    end = SHIFT_AT + SIDE
    window = canvas[:, SHIFT_AT:end, SHIFT_AT:end]  # a view: updated in place
    np.maximum(window, right, out=window)
    return canvas[:, _NEAREST][:, :, _NEAREST]


def pools(n_train_file: int, n_test_file: int) -> dict[str, tuple[str, np.ndarray]]:
    """``{split: (source file, indices of its pool)}``: train = the training file's first
    images, val = its last :data:`N_VAL`, test = the test file."""
    return {
        "train": ("train", np.arange(n_train_file - N_VAL)),
        "val": ("train", np.arange(n_train_file - N_VAL, n_train_file)),
        "test": ("test", np.arange(n_test_file)),
    }


def generate(arrays: dict[str, np.ndarray], seed: int = SEED) -> dict[str, np.ndarray]:
    """The overlaid splits from the Fashion-MNIST arrays: per split ``<split>_x`` (N, 28, 28)
    uint8, ``<split>_y`` (N, 2) int64 labels (top-left, bottom-right) and ``<split>_sources``
    (N, 2) the two items' indices in their source file. Item ``a`` of each pool is the top-left
    item of example ``a``; its partner is drawn uniformly from the rest of the pool."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    layout = pools(len(arrays["train_images"]), len(arrays["test_images"]))
    for split, (part, pool) in layout.items():
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"].astype(np.int64)
        # a partner other than the item itself: shift by 1 … n−1 positions within the pool
        partner = (np.arange(len(pool)) + rng.integers(1, len(pool), size=len(pool))) % len(pool)
        sources = np.stack([pool, pool[partner]], axis=1)
        out[f"{split}_x"] = overlay(images[sources[:, 0]], images[sources[:, 1]])
        out[f"{split}_y"] = labels[sources]
        out[f"{split}_sources"] = sources
    return out


def cache_name(directory: Path) -> str:
    """Cache entry name: the construction's version and a fingerprint of the files' sizes."""
    sizes = ",".join(f"{f}:{(directory / f).stat().st_size}" for f in FILES.values())
    digest = hashlib.sha1(sizes.encode()).hexdigest()[:12]
    return f"multifashion-{GENERATION_VERSION}-s{SEED}-{digest}"


def load_arrays(directory: Path | None = None) -> dict[str, np.ndarray]:
    """The cached overlaid splits (see :func:`generate`), generated on first use."""
    source = data_dir()
    keys = [f"{s}_{a}" for s in ("train", "val", "test") for a in ("x", "y", "sources")]
    return load_or_compute(
        cache_name(source), lambda: generate(read_fashion_mnist(source)), keys, directory
    )


class MultiFashion(Problem):
    """Two 10-way classification tasks, ``left`` (the top-left item) and ``right`` (the
    bottom-right item), on overlaid Fashion-MNIST images (N, 1, 28, 28); metric: accuracy."""

    name = "multifashion"
    summary = (
        "Two overlaid Fashion-MNIST items (Xin et al. 2022's MultiFashion): classify the "
        "top-left and the bottom-right one, MultiLeNet"
    )
    source = (
        "Fashion-MNIST (Xiao et al. 2017, MIT licence) from Debian's package "
        f"{PACKAGE} (or ${ENV_VAR}), overlaid as MultiMNIST (Sener & Koltun 2018): "
        "50,000/10,000/10,000 examples"
    )
    defaults = TrainDefaults(epochs=10, batch_size=256, lr=1e-3)
    default_n_tasks = None

    def __init__(
        self,
        tasks: int | str | Sequence[str] | None = None,
        *,
        cache_directory: Path | None = None,
    ) -> None:
        self._cache_directory = cache_directory
        super().__init__(tasks)

    def available_tasks(self) -> list[TaskSpec]:
        return [
            TaskSpec(
                side, "cross_entropy", "accuracy", True, "", f"the {where} item's class", 1.0, 10
            )
            for side, where in (("left", "top-left"), ("right", "bottom-right"))
        ]

    def _load_splits(self) -> dict[str, Split]:
        arrays = load_arrays(self._cache_directory)
        train = arrays["train_x"].astype(np.float32) / 255.0
        mean, std = float(train.mean()), float(train.std())
        out = {}
        for name in ("train", "val", "test"):
            x = (arrays[f"{name}_x"].astype(np.float32) / 255.0 - mean) / std
            out[name] = Split(torch.from_numpy(x[:, None]), torch.from_numpy(arrays[f"{name}_y"]))
        return out

    def build_trunk(self) -> tuple[nn.Module, int]:
        trunk = nn.Sequential(
            nn.Conv2d(1, 10, kernel_size=5),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Conv2d(10, 20, kernel_size=5),
            nn.Dropout2d(0.5),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(320, HIDDEN),
            nn.ReLU(),
        )
        return trunk, HIDDEN

    def build_head(self, task: TaskSpec, width: int) -> nn.Module:
        return nn.Sequential(
            nn.Linear(width, HIDDEN), nn.ReLU(), nn.Dropout(0.5), nn.Linear(HIDDEN, task.n_classes)
        )
