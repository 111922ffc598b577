"""FairGrad: α-fair allocation of the update among tasks."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import GramianWeighting
from paretokit.methods._solvers import positive_newton

RESIDUAL_TOL = 1e-11  # backward error of the fixed point at which Newton stops
CONTRACT_TOL = 1e-8  # the residual every returned solution meets
# Squared min-norm of the unit gradients' hull at or below which an input without a
# resolvable fixed point is treated as Pareto-stationary (the same rule as Nash-MTL's).
STATIONARY_TOL = 1e-6
EPS = float(np.finfo(np.float64).eps)


def alpha_fair_weights(A: np.ndarray, alpha: float, max_iter: int = 200) -> np.ndarray:
    """w > 0 with ``(Aw)_i = w_i^{−1/α}`` for every i, for a Gramian A with nonzero diagonal.

    w minimizes the strictly convex ½wᵀAw − Σ h(w_i) with h'(w) = w^{−1/α} (h = log for α = 1,
    else w^{1−1/α}/(1−1/α)); its gradient Aw − w^{−1/α} vanishes exactly at the fixed point.
    Damped Newton (:func:`positive_newton`, affine invariant) in the coordinates
    β_i = w_i ‖g_i‖, started at the exact solution for orthogonal gradients,
    w_i = ‖g_i‖^{−2α/(1+α)}, i.e. β_i = ‖g_i‖^{(1−α)/(1+α)}: with p = 1/α the condition reads
    (Cβ)_i = β_i^{−p} ‖g_i‖^{p−1} (C the unit gradients' Gramian), so for α ≠ 1 the solution
    spreads with the gradients' norms and a start at β = 1 would be far from it on badly
    scaled input. The Hessian there is C + p·I.

    The residual is the fixed point's backward error, relative to the size of its terms:
    ``max_i |(Aw)_i − w_i^{−1/α}| / ((|A|w)_i + w_i^{−1/α})``. (A residual relative to
    w_i^{−1/α} alone cannot be met in float64 when a task's share (Aw)_i is far below the
    rounding error of the sum that forms it: e.g. α = 0.1 with norms 1e-6 and 1, where
    (Aw)_1 ≈ 1e-49 is a difference of O(1) terms; the direction is still determined to
    rounding.) Stops at residual ≤ max(1e-11, 4Kε) and raises :class:`MethodError` when
    that is not reached or exceeds 1e-8 (no fixed point: the input is Pareto-stationary or
    numerically so).
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
        # (Cβ)_i − β_i^{-p} n_i^{p-1} = n_i ((Aw)_i − w_i^{-1/α}), relative to the size of
        # its terms: the backward error of the fixed point (see the docstring)
        target = (b / n) ** (-p) / n
        r = np.abs(C @ b - target) / (np.abs(C) @ b + target)
        return float(r.max()), 4.0 * k * EPS

    beta = positive_newton(
        f,
        derivatives,
        residual,
        n ** ((1.0 - alpha) / (1.0 + alpha)),
        tol=RESIDUAL_TOL,
        contract=CONTRACT_TOL,
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

    Degenerate input: zero gradients get weight 0 (the rest share the update). A fixed point
    exists exactly when 0 is not in the hull of the gradients; for Pareto-stationary input,
    and for input within 1e-3 of it (the unit gradients' hull has min-norm² ≤ 1e-6, where the
    weights grow without bound), the weights and the direction are 0, as in Nash-MTL.
    Rank-deficient Gramians (e.g. QM9's nearly collinear energy targets) are no special case:
    the fixed point exists whenever some direction improves every task. Every other input
    meets the fixed point to a backward error of 1e-8 (:func:`alpha_fair_weights`): checked
    over typical, badly scaled (norms 1e-3…1e3, overall scale 1e-3…1e3), conflicting,
    near-duplicate and rank-deficient gradients for α from 0.1 to 20.
    """

    name: ClassVar[str] = "fairgrad"
    summary: ClassVar[str] = "α-fair allocation: (GGᵀw)_i = w_i^(−1/α) (exact Newton)"
    citation: ClassVar[str] = (
        "Ban & Ji, Fair Resource Allocation in Multi-Task Learning, ICML 2024, arXiv:2402.15638"
    )

    def __init__(
        self, n_tasks: int, *, seed: int = 0, alpha: float = 1.0, feature_level: bool = False
    ) -> None:
        super().__init__(n_tasks, seed=seed, feature_level=feature_level)
        if not alpha > 0:
            raise MethodError("fairgrad: alpha must be > 0")
        self.alpha = float(alpha)

    def _array_weights(self, A: np.ndarray, losses: Tensor | None) -> np.ndarray:
        n, live = self.live_rows(A)
        w = np.zeros(A.shape[0])
        if live.size:
            # A fixed point exists exactly when 0 is not in the hull of the gradients (some
            # direction improves every task); near that the weights grow without bound.
            # Pareto-stationary input, or within √STATIONARY_TOL of it, gets 0, as in Nash-MTL.
            C = self.scale_free(A, n, live)
            u, _ = self.hull_weights(C)
            if float(u @ C @ u) > STATIONARY_TOL:
                w[live] = alpha_fair_weights(A[np.ix_(live, live)], self.alpha)
        return w
