"""MultiDigits: two overlapped 8×8 digits, classify the left one and the right one.

A miniature MultiMNIST (Sabour, Frosst & Hinton, "Dynamic Routing Between Capsules", NeurIPS
2017; the two-task left/right form of Sener & Koltun, NeurIPS 2018) built from scikit-learn's
bundled digits (``sklearn.datasets.load_digits``: the test set of the UCI "Optical Recognition
of Handwritten Digits" data, 1,797 8×8 images). It trains in seconds on a CPU, which makes it
the problem the test suite runs on.

Construction: the 1,797 images are first split into disjoint train/val/test pools (fixed seed),
so no test digit is ever seen in training. Each example pastes one pool image onto a 12×12 canvas
near the upper-left corner and another near the lower-right corner (each jittered by up to one
pixel), and combines the two by pixelwise max; they overlap in the canvas' middle.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from paretokit.problems._base import Problem, Split, TaskSpec, TrainDefaults

CANVAS = 12
DIGIT = 8
JITTER = 1  # pixels: the left digit sits at (0..1, 0..1), the right one at (3..4, 3..4)
POOL_FRACTIONS = (0.6, 0.2, 0.2)  # of the 1,797 source images: train / val / test pools
N_EXAMPLES = {"train": 6000, "val": 1000, "test": 1000}
SEED = 2017  # fixed: the data never depends on a run's seed
HIDDEN = 128


def overlay(left: np.ndarray, right: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Canvases (N, 12, 12) with ``left`` (N, 8, 8) up-left and ``right`` down-right, by max."""
    n = len(left)
    canvas = np.zeros((n, CANVAS, CANVAS), dtype=np.float32)
    far = CANVAS - DIGIT  # offset of the lower-right placement
    shifts = rng.integers(0, JITTER + 1, size=(n, 4))
    for i in range(n):
        r, c = shifts[i, 0], shifts[i, 1]
        canvas[i, r : r + DIGIT, c : c + DIGIT] = left[i]
        r, c = far - shifts[i, 2], far - shifts[i, 3]
        window = canvas[i, r : r + DIGIT, c : c + DIGIT]  # a view: updated in place
        np.maximum(window, right[i], out=window)
    return canvas


def make_splits(seed: int = SEED) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``{split: (images (N, 1, 12, 12) in [0, 1], labels (N, 2), sources (N, 2))}``.

    Column 0 is the left digit, column 1 the right one; ``sources`` are the indices of the two
    images in ``load_digits()``, each drawn from its split's pool only.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    cut = np.cumsum([round(f * len(images)) for f in POOL_FRACTIONS[:-1]])
    pools = dict(zip(("train", "val", "test"), np.split(order, cut)))
    out = {}
    for name in ("train", "val", "test"):
        pool, n = pools[name], N_EXAMPLES[name]
        sources = np.stack([rng.choice(pool, size=n), rng.choice(pool, size=n)], axis=1)
        x = overlay(images[sources[:, 0]], images[sources[:, 1]], rng)[:, None]
        out[name] = (x, labels[sources], sources)
    return out


class MultiDigits(Problem):
    """Two 10-way classification tasks, ``left`` and ``right``, on overlapped 8×8 digits.

    Inputs (N, 1, 12, 12) are standardized with the train split's pixel mean and std; the
    trunk is a two-layer MLP; metric: accuracy.
    """

    name = "multidigits"
    summary = "Two overlapped 8×8 digits (a tiny MultiMNIST): classify the left and the right one"
    source = (
        "scikit-learn's bundled digits (load_digits; UCI Optical Recognition of Handwritten "
        "Digits, CC BY 4.0; scikit-learn is BSD-3-Clause), overlapped MultiMNIST-style "
        "(Sabour et al. 2017)"
    )
    defaults = TrainDefaults(epochs=10, batch_size=64, lr=2e-3)
    default_n_tasks = None

    def __init__(self, tasks: int | str | Sequence[str] | None = None) -> None:
        super().__init__(tasks)

    def available_tasks(self) -> list[TaskSpec]:
        return [
            TaskSpec(
                side, "cross_entropy", "accuracy", True, "", f"the {side} digit's class", 1.0, 10
            )
            for side in ("left", "right")
        ]

    def _load_splits(self) -> dict[str, Split]:
        raw = make_splits()
        train_x = raw["train"][0]
        mean, std = float(train_x.mean()), float(train_x.std())
        return {
            name: Split(
                torch.from_numpy(((x - mean) / std).astype(np.float32)), torch.from_numpy(y)
            )
            for name, (x, y, _) in raw.items()
        }

    def build_trunk(self) -> tuple[nn.Module, int]:
        trunk = nn.Sequential(
            nn.Flatten(),
            nn.Linear(CANVAS * CANVAS, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(),
        )
        return trunk, HIDDEN
