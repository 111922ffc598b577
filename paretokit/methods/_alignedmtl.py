"""Aligned-MTL: align the task gradients' principal components."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import GramianWeighting


class AlignedMTL(GramianWeighting):
    """Aligned-MTL: Senushkin et al., "Independent Component Alignment for Multi-Task
    Learning", CVPR 2023, https://arxiv.org/abs/2305.19000.

    With the Gramian's eigendecomposition A = GGᵀ = VΛVᵀ restricted to its nonzero spectrum
    (rank r: eigenvalues above K·ε·λ_max), the balance matrix ``B = √λ_min V Λ^{-1/2} Vᵀ``
    makes the aligned gradients BG orthogonal with equal norms ((BG)(BG)ᵀ = λ_min I on the
    range), and the update is ``d = (B w)ᵀG`` for preference weights w (default all ones, as
    the official code's and LibMTL's ``B.sum(0)``).

    Degenerate input: zero G gives zero weights; a rank-deficient Gramian is aligned on its
    range (the null directions get no weight), with λ_min the smallest nonzero eigenvalue.
    """

    name: ClassVar[str] = "alignedmtl"
    summary: ClassVar[str] = "rescale the gradients' principal components to a common norm"
    citation: ClassVar[str] = (
        "Senushkin et al., Independent Component Alignment for Multi-Task Learning, CVPR 2023, "
        "arXiv:2305.19000"
    )

    def __init__(
        self,
        n_tasks: int,
        *,
        seed: int = 0,
        preferences: Sequence[float] = (),
        feature_level: bool = False,
    ) -> None:
        super().__init__(n_tasks, seed=seed, feature_level=feature_level)
        pref = np.ones(n_tasks) if len(preferences) == 0 else np.asarray(preferences, float)
        if pref.shape != (n_tasks,) or not np.all(np.isfinite(pref)):
            raise MethodError(f"alignedmtl: preferences must be {n_tasks} finite numbers")
        self.preferences = tuple(float(p) for p in pref)
        self._pref = pref

    def _array_weights(self, A: np.ndarray, losses: Tensor | None) -> np.ndarray:
        lam, V = np.linalg.eigh(A)
        top = float(lam.max()) if lam.size else 0.0
        keep = lam > A.shape[0] * np.finfo(float).eps * max(top, 0.0)
        w = np.zeros(A.shape[0])
        if top > 0 and keep.any():
            lam, V = lam[keep], V[:, keep]
            B = np.sqrt(lam.min()) * (V / np.sqrt(lam)) @ V.T
            w = B @ self._pref
        return w
