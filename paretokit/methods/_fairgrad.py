"""FairGrad: α-fair allocation of the update among tasks."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import GramianWeighting
from paretokit.methods._solvers import positive_newton

RESIDUAL_TOL = 1e-11


def alpha_fair_weights(A: np.ndarray, alpha: float, max_iter: int = 200) -> np.ndarray:
    """w > 0 with ``(Aw)_i = w_i^{−1/α}`` for every i.

    w minimizes the strictly convex ½wᵀAw − Σ h(w_i) with h' (w) = w^{−1/α} (h = log for α = 1,
    else w^{1−1/α}/(1−1/α)); damped Newton (:func:`positive_newton`) in the coordinates
    β_i = w_i ‖g_i‖ for conditioning. Raises MethodError without convergence.
    """
    k = A.shape[0]
    n = np.sqrt(np.diag(A))
    C = A / np.outer(n, n)
    p = 1.0 / alpha

    def h(w: np.ndarray) -> np.ndarray:
        return np.log(w) if p == 1.0 else w ** (1.0 - p) / (1.0 - p)

    def f(b: np.ndarray) -> float:
        return 0.5 * float(b @ C @ b) - float(h(b / n).sum())

    def derivatives(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = b / n
        return C @ b - w ** (-p) / n, C + np.diag(p * w ** (-p - 1.0) / n**2)

    def residual(b: np.ndarray) -> tuple[float, float]:
        w = b / n
        return float(np.abs((C @ b) * n / w ** (-p) - 1.0).max()), 0.0  # (Aw)_i / w_i^{-1/α} − 1

    beta = positive_newton(
        f,
        derivatives,
        residual,
        np.ones(k),
        tol=RESIDUAL_TOL,
        contract=RESIDUAL_TOL,
        name="fairgrad: fixed point",
        max_iter=max_iter,
    )
    return beta / n


class FairGrad(GramianWeighting):
    """FairGrad: Ban & Ji, "Fair Resource Allocation in Multi-Task Learning", ICML 2024,
    https://arxiv.org/abs/2402.15638.

    The update d = Σ w_i g_i maximizes the α-fair utility Σ_i u(g_iᵀd) over a ball; its
    optimality condition is ``(GGᵀw)_i = w_i^{−1/α}`` (the paper's Eq. 8). α = 1 is
    proportional fairness, i.e. Nash-MTL's fixed point w ⊙ Aw = 1; larger α favours the
    worst-off task more (α → ∞: max–min fairness). Solved exactly by Newton
    (:func:`alpha_fair_weights`); the official code uses a least-squares root finder.
    Default α = 1.0; the paper sweeps α per benchmark.

    Degenerate input: zero gradients get weight 0; Pareto-stationary input (no fixed point)
    raises MethodError.
    """

    name: ClassVar[str] = "fairgrad"
    summary: ClassVar[str] = "α-fair allocation: (GGᵀw)_i = w_i^(−1/α) (exact Newton)"
    citation: ClassVar[str] = (
        "Ban & Ji, Fair Resource Allocation in Multi-Task Learning, ICML 2024, arXiv:2402.15638"
    )

    def __init__(self, n_tasks: int, *, seed: int = 0, alpha: float = 1.0) -> None:
        super().__init__(n_tasks, seed=seed)
        if not alpha > 0:
            raise MethodError("fairgrad: alpha must be > 0")
        self.alpha = float(alpha)

    def _array_weights(self, A: np.ndarray, losses: Tensor | None) -> np.ndarray:
        _, live = self.live_rows(A)
        w = np.zeros(A.shape[0])
        if live.size:
            w[live] = alpha_fair_weights(A[np.ix_(live, live)], self.alpha)
        return w
