"""CAGrad: conflict-averse gradient descent."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import GramianWeighting
from paretokit.methods._solvers import min_norm_weights, nnqp, psd_part


def cagrad_dual(A: np.ndarray, c: float, support: np.ndarray | None = None) -> np.ndarray:
    """``w* = argmin_{w ∈ Δ} F(w) = wᵀb + s‖Gᵀw‖`` with b = A·1/K (= G g0), s = c‖g0‖.

    Exact: by AM–GM, s‖Gᵀw‖ = min_{τ>0} (s/2)(wᵀAw/τ + τ), so min F = min_τ h(τ) with
    h(τ) = min_{w∈Δ} wᵀb + (s/2τ) wᵀAw + sτ/2, convex in τ, whose derivative has the sign of
    τ² − ‖Gᵀw(τ)‖². For each τ the inner QP is solved exactly: with ρ = s/τ and b = Gg0 it is
    ``min_{w∈Δ} ‖Gᵀw + g0/ρ‖²`` up to a constant, the min-norm point of the hull of the shifted
    rows g_i + g0/ρ (Gramian A + (b1ᵀ + 1bᵀ)/ρ + ‖g0‖²/ρ²; :func:`min_norm_weights`). On its active
    face S the solution is affine in 1/ρ (ρ = s/τ): w(ρ) = u + v/ρ, with u the face's
    min-norm point and v solving [A_S 1; 1ᵀ 0][v; ·] = [−b_S; 0]; since uᵀAv = 0 the condition
    τ² = ‖Gᵀw‖² has the closed-form root ρ = √((s² − vᵀAv)/uᵀAu). That point is returned once
    it is feasible and satisfies the QP's KKT conditions on all coordinates; until then τ
    jumps to the face's root when it lies inside the bracket kept from h′'s sign, and bisects
    the bracket (geometrically) otherwise. Each inner QP is warm-started from the previous
    one's active set, the first from ``support`` (e.g. the previous training step's w > 0).
    """
    k = A.shape[0]
    A = psd_part(A)  # rounding in a float32 Gramian of nearly dependent rows (see psd_part)
    b = A.mean(axis=1)
    s = c * float(np.sqrt(max(A.mean(), 0.0)))
    w = np.full(k, 1.0 / k)
    tau = float(np.sqrt(max(w @ A @ w, 0.0)))
    lo, hi = 0.0, np.inf
    g0_sq = float(A.mean())
    for _ in range(200):
        if tau <= 0.0:
            break
        rho = s / tau
        shifted = psd_part(A + np.add.outer(b, b) / rho + g0_sq / (rho * rho))
        w, _ = min_norm_weights(shifted, name="cagrad", support=support)
        support = w > 0
        closed, root = _closed_form_on_face(A, b, s, support)
        if closed is not None:
            return closed
        q = float(max(w @ A @ w, 0.0))
        if tau * tau > q:
            hi = tau
        else:
            lo = tau
        candidate = s / root if root else float(np.sqrt(q))
        if not lo < candidate < hi:
            candidate = (
                np.sqrt(lo * hi)
                if lo > 0 and np.isfinite(hi)
                else (2.0 * lo if np.isinf(hi) else 0.5 * hi)
            )
        if abs(candidate - tau) <= 1e-15 * tau:
            return w
        tau = candidate
    return w


def _closed_form_on_face(
    A: np.ndarray, b: np.ndarray, s: float, support: np.ndarray
) -> tuple[np.ndarray | None, float | None]:
    """The face's stationary point and its ρ: (w, ρ) if w is optimal, (None, ρ or None) if not."""
    idx = np.flatnonzero(support)
    n = idx.size
    As = A[np.ix_(idx, idx)]
    kkt = np.zeros((n + 1, n + 1))
    kkt[:n, :n], kkt[:n, n], kkt[n, :n] = As, 1.0, 1.0
    rhs = np.zeros((n + 1, 2))
    rhs[n, 0], rhs[:n, 1] = 1.0, -b[idx]
    try:
        uv = np.linalg.solve(kkt, rhs)  # both right-hand sides in one factorization
    except np.linalg.LinAlgError:
        return None, None
    u, v = uv[:n, 0], uv[:n, 1]
    uau, vav = float(u @ As @ u), float(v @ As @ v)
    if uau <= 1e-300 or s * s <= vav:
        return None, None
    rho = float(np.sqrt((s * s - vav) / uau))
    w = np.zeros(A.shape[0])
    w[idx] = u + v / rho
    if w.min() < -1e-12:
        return None, rho
    w = np.maximum(w, 0.0)
    w /= w.sum()
    Aw = A @ w
    grad = rho * Aw + b
    mu = float(grad[idx].mean())
    size = rho * (np.abs(A) @ w) + np.abs(b) + abs(mu)  # per-coordinate scale of the terms
    if float(((grad - mu) / np.maximum(size, 1e-300)).min()) < -1e-9:
        return None, rho
    return w, rho


class CAGrad(GramianWeighting):
    """CAGrad: Liu et al., "Conflict-Averse Gradient Descent for Multi-task Learning",
    NeurIPS 2021, https://arxiv.org/abs/2110.14048.

    The update maximizes the worst task's improvement within a ball around the mean gradient
    g0: ``max_d min_i g_iᵀd  s.t. ‖d − g0‖ ≤ c‖g0‖``. Its dual (the paper's Eq. 5) is
    ``min_{w ∈ Δ} g_wᵀg0 + √φ ‖g_w‖`` with g_w = Gᵀw, φ = c²‖g0‖², and the primal solution is
    ``d = g0 + (√φ / ‖g_w*‖) g_w*``, divided by 1 + c² (``rescale=1``, the official code's
    default), 1 + c (``rescale=2``) or 1 (``rescale=0``). The dual is solved exactly from the
    Gramian (:func:`cagrad_dual`), without the official code's +1e-8 smoothing terms.

    Degenerate input: g0 = 0 gives d = 0 (weights 0); c = 0 gives d = g0. When the dual's
    minimizer has g_w* = 0 (0 in the gradients' hull: Pareto-stationary, the best worst-task
    improvement is 0) the formula above is 0/0; the primal solution is then the projection
    of g0 onto the cone {d : Gd ≥ 0}, ``d = g0 + Gᵀμ`` with ``μ = argmin_{μ≥0} ½μᵀAμ + μᵀGg0``
    (an exact NNQP), which lies in the ball exactly when the optimum is 0. Whenever the
    computed g_w* is within 1e-6 of 0 relative to ‖g0‖ both candidates are formed and the one
    with the larger worst-task improvement (inside the ball) is returned.
    """

    name: ClassVar[str] = "cagrad"
    summary: ClassVar[str] = "best worst-task improvement near the mean gradient (exact dual)"
    citation: ClassVar[str] = (
        "Liu et al., Conflict-Averse Gradient Descent for Multi-task Learning, NeurIPS 2021, "
        "arXiv:2110.14048"
    )

    def __init__(
        self,
        n_tasks: int,
        *,
        seed: int = 0,
        c: float = 0.4,
        rescale: int = 1,
        feature_level: bool = False,
    ) -> None:
        super().__init__(n_tasks, seed=seed, feature_level=feature_level)
        if not c >= 0:
            raise MethodError("cagrad: c must be ≥ 0")
        if rescale not in (0, 1, 2):
            raise MethodError("cagrad: rescale must be 0, 1 or 2")
        self.c, self.rescale = float(c), rescale

    def _array_weights(self, A: np.ndarray, losses: Tensor | None) -> np.ndarray:
        k = A.shape[0]
        g0_sq = float(A.mean())  # ‖g0‖² = (1/K²) 1ᵀA1
        weights = np.zeros(k)
        if g0_sq > 0:
            weights = np.full(k, 1.0 / k)
            if self.c > 0:
                weights = self._primal(A, g0_sq, weights)
            weights /= {0: 1.0, 1: 1.0 + self.c**2, 2: 1.0 + self.c}[self.rescale]
        return weights

    def _primal(self, A: np.ndarray, g0_sq: float, u: np.ndarray) -> np.ndarray:
        """Weights v of the primal solution d = Gᵀv (before rescaling); u = 1/K gives g0."""
        s = self.c * np.sqrt(g0_sq)
        w = cagrad_dual(A, self.c, self.warm_support)
        self.warm_support = w > 0
        gw = float(np.sqrt(max(w @ A @ w, 0.0)))
        candidates = [u + (s / gw) * w] if gw > 0 else [u]
        if gw <= 1e-6 * np.sqrt(g0_sq):  # (near) Pareto-stationary: the projection of g0
            mu = nnqp(A, A @ u, name="cagrad")
            if float(mu @ A @ mu) <= s * s * (1 + 1e-9):
                candidates.append(u + mu)
        # the larger worst-task improvement min_i g_iᵀd = min_i (Av)_i wins
        return max(candidates, key=lambda v: float((A @ v).min()))
