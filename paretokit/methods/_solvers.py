"""Small dense solvers on K×K Gramians, shared by the gradient aggregations.

Several Gramian-based methods reduce a step to a quadratic programme on ``A = G Gᵀ``
(K × K, K ≲ 50) over the simplex or the non-negative orthant (MGDA, CAGrad, UPGrad; the
fixed-point methods use it to detect Pareto stationarity), or to a positive fixed point
(Nash-MTL, FairGrad). This module solves them exactly, in
float64 numpy, calling LAPACK directly (``scipy.linalg.lapack``): on matrices this small the
per-call overhead of ``numpy.linalg`` (≈10 µs) would dominate the arithmetic.

* :func:`nnqp` — ``min ½xᵀQx + qᵀx`` over ``x ≥ 0`` by the Lawson–Hanson active-set method
  in Gramian form, with Jacobi scaling and a final check of every KKT condition.
* :func:`nnqp_many` — many such programmes sharing Q, solved in lockstep (batched LAPACK).
* :func:`min_norm_weights` — the exact minimum-norm point of the convex hull of the rows
  (MGDA), reduced to one :func:`nnqp` (least-distance programming).
* :func:`positive_newton` — damped Newton for the strictly convex potentials whose
  minimizers are the positive fixed points of Nash-MTL and FairGrad.

Solvers raise :class:`~paretokit.errors.MethodError` rather than return an answer they have
not verified; callers decide what a degenerate input (zero rows, Pareto stationarity) means.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy.linalg import lapack
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._nnqp_batched import is_definite, nnqp_lockstep

EPS = float(np.finfo(np.float64).eps)


def gramian_array(gramian: Tensor) -> np.ndarray:
    """The Gramian as a float64 array, symmetrized: ``G @ G.T`` in float32 is symmetric only
    to rounding (~1e-7 relative), and a solver that factors one triangle but checks its answer
    with the whole matrix would see that asymmetry as a KKT violation. NaN or inf (e.g. GGᵀ
    overflowing float32 for gradients of norm ≳ 1e19) is a :class:`MethodError`."""
    A = gramian.detach().to(device="cpu", dtype=torch.float64).numpy()
    if not np.isfinite(A).all():
        raise MethodError(
            "the Gramian GGᵀ has NaN or inf entries (gradients too large for the dtype?)"
        )
    return 0.5 * (A + A.T)


# --- linear algebra ----------------------------------------------------------------------
def psd_part(M: np.ndarray) -> np.ndarray:
    """The nearest positive semidefinite matrix to the symmetric ``M`` (Frobenius norm, Higham
    1988): its eigenvalues clipped at 0. A Gramian is PSD; one formed from float32 gradients
    that are nearly dependent can have eigenvalues of −1e-7·‖A‖ from rounding alone, which an
    exact solver's KKT check then reports as a violation."""
    e, V = np.linalg.eigh(M)
    if e.min() >= 0.0:
        return M
    P = (V * np.maximum(e, 0.0)) @ V.T
    return 0.5 * (P + P.T)


def _cholesky(M: np.ndarray, pivot_tol: float) -> np.ndarray | None:
    """Upper Cholesky factor of a symmetric M, or None when M is not numerically definite
    (a pivot ≤ ``pivot_tol`` × its diagonal entry)."""
    c, info = lapack.dpotrf(M, lower=0, clean=0)
    if info != 0:
        return None
    piv = np.diagonal(c) ** 2
    if (piv <= pivot_tol * np.diagonal(M)).any():
        return None
    return c


def _cho_solve(c: np.ndarray, b: np.ndarray) -> np.ndarray:
    x, info = lapack.dpotrs(c, b, lower=0)
    if info != 0:  # pragma: no cover - dpotrs fails only on invalid arguments
        raise MethodError(f"internal error: dpotrs info={info}")
    return x


# --- non-negative quadratic programme ---------------------------------------------------------
def nnqp(
    Q: np.ndarray, q: np.ndarray, *, name: str = "nnqp", support: np.ndarray | None = None
) -> np.ndarray:
    """Exact solution of ``min ½xᵀQx + qᵀx  s.t.  x ≥ 0`` for a PSD ``Q`` (K ≲ 50).

    Lawson & Hanson's active-set NNLS algorithm (Solving Least Squares Problems, 1974, ch. 23),
    in the Gramian form of Bro & De Jong (J. Chemometrics 1997): variables enter the passive
    set one at a time by most negative gradient, each least-squares subproblem is solved by
    Cholesky on the passive block, and infeasible subproblem solutions are walked back to
    the boundary. A passive block that is not numerically definite (a column dependent on the
    passive ones) rejects the entering variable, so singular Q (rank-deficient G) is handled
    without regularisation; such a variable stays at 0 with a gradient that may be negative by
    up to ~√(64mε) relative (the accuracy to which a near-singular problem is determined). The problem is Jacobi-scaled first (unit diagonal), which makes
    the tolerances scale-free across badly scaled rows. Rows of Q that are exactly zero leave
    their variable at 0 (their linear term must be ≥ 0, else the problem is unbounded).

    ``support`` (a boolean mask, e.g. the previous step's solution ``x > 0``) warm-starts the
    iteration: when the least-squares solution on that passive set is strictly positive the
    iteration starts from it, otherwise from 0. Either way the result is the exact optimum.

    Every KKT condition is verified on return — ``x ≥ 0``, ``∇ = Qx + q`` zero on the support
    and ≥ 0 off it, to 1e-9 relative — and a violation raises :class:`MethodError`.
    """
    n = q.shape[0]
    d = np.sqrt(np.diagonal(Q))
    live = d > 0
    if (q[~live] < 0).any():
        raise MethodError(f"{name}: unbounded problem (zero curvature, negative slope)")
    x_full = np.zeros(n)
    idx_live = np.flatnonzero(live)
    if idx_live.size == 0:
        return x_full
    dl = d[idx_live]
    Qs = Q[idx_live][:, idx_live] / np.multiply.outer(dl, dl)
    qs = q[idx_live] / dl
    warm = None if support is None or support.shape != (n,) else support[idx_live]
    y = _nnqp_unit(Qs, qs, name, warm)
    x_full[idx_live] = y / dl
    return x_full


def nnqp_many(
    Q: np.ndarray, qs: np.ndarray, supports: np.ndarray | None = None, *, name: str = "nnqp"
) -> np.ndarray:
    """:func:`nnqp` for every row ``q_r`` of ``qs`` (R, m), all sharing ``Q``: returns X (R, m).

    When the Jacobi-scaled Q is definite, the R programmes are solved together by block
    principal pivoting, each round one batched LAPACK call for all rows
    (:func:`~paretokit.methods._nnqp_batched.nnqp_lockstep`); a row's answer is accepted only
    when it meets every KKT condition to the tolerance :func:`nnqp` itself verifies, so it is
    the exact optimum. Rows it leaves (a singular or near-singular Q, no termination) are
    solved by :func:`nnqp`, warm-started from ``supports`` (R, m booleans, e.g. the previous
    step's ``X > 0``).
    """
    R, m = qs.shape
    X = np.zeros((R, m))
    todo = np.ones(R, dtype=bool)
    warm = None
    if supports is not None and supports.shape == (R, m):
        warm = supports.astype(bool)
    d = np.sqrt(np.diagonal(Q))
    if R and (d > 0).all():
        Qs = Q / np.multiply.outer(d, d)
        if is_definite(Qs):
            Z, solved = nnqp_lockstep(Qs, qs / d)
            X[solved] = Z[solved] / d
            todo = ~solved
    for r in np.flatnonzero(todo):
        X[r] = nnqp(Q, qs[r], name=name, support=None if warm is None else warm[r])
    return X


# One algorithm (Lawson–Hanson's active set with its KKT exit), kept in one piece so that it
# reads against the textbook's steps.
def _nnqp_unit(
    Q: np.ndarray, q: np.ndarray, name: str, warm: np.ndarray | None = None
) -> np.ndarray:
    """:func:`nnqp` on a unit-diagonal Q (the Lawson–Hanson iteration and the KKT check)."""
    m = q.shape[0]
    x = np.zeros(m)
    P = np.zeros(m, dtype=bool)
    excluded = np.zeros(m, dtype=bool)
    grad = q.copy()
    qscale = float(np.abs(q).max())
    if qscale == 0.0:
        return x
    enter_tol = 1e-13 * qscale
    pivot_tol = 64 * m * EPS
    max_iter = 10 * m + 20
    if warm is not None and warm.any():
        idx = np.flatnonzero(warm)
        c = _cholesky(Q[idx][:, idx], pivot_tol)
        if c is not None:
            z = _cho_solve(c, -q[idx])
            if (z > 0).all():
                x[idx] = z
                P[idx] = True
                grad = Q @ x + q
    for _ in range(max_iter):
        cand = np.where(P | excluded, np.inf, grad)
        j = int(np.argmin(cand))
        if cand[j] >= -enter_tol:
            break
        P[j] = True
        first = True
        while True:
            idx = np.flatnonzero(P)
            c = _cholesky(Q[idx][:, idx], pivot_tol)
            if c is None:
                if not first:  # pragma: no cover - subsets of a definite block stay definite
                    raise MethodError(f"{name}: lost definiteness of the passive set")
                P[j] = False
                excluded[j] = True
                break
            z = _cho_solve(c, -q[idx])
            if (z > 0).all():
                x[:] = 0.0
                x[idx] = z
                excluded[:] = False
                break
            if first and z[np.searchsorted(idx, j)] <= 0:
                # Lawson–Hanson's safeguard: the entering variable would not move inward.
                P[j] = False
                excluded[j] = True
                break
            xi = x[idx]
            neg = z <= 0
            ratios = xi[neg] / (xi[neg] - z[neg])
            k = int(np.argmin(ratios))
            x[idx] = xi + ratios[k] * (z - xi)
            x[idx[np.flatnonzero(neg)[k]]] = 0.0
            x[x < 0] = 0.0
            P = x > 0
            excluded[:] = False
            first = False
        grad = Q @ x + q
    else:
        raise MethodError(f"{name}: active-set iteration did not terminate")
    # KKT verification on the scaled problem. A variable left out because its column is
    # dependent on the support to working precision (Schur pivot ≤ pivot_tol) can keep a
    # gradient of order √pivot_tol: the reduced gradient of a column at distance √s from
    # the support's span is O(√s) (Q = FᵀF, q = Fᵀb), and the problem itself is determined
    # only to that accuracy there; everything else must meet the 1e-9 tolerance.
    gscale = max(qscale, float((np.abs(Q) @ x).max()))
    tol = 1e-9 * gscale
    floor = np.where(excluded, max(tol, 4.0 * np.sqrt(pivot_tol) * gscale), tol)
    supp = x > 0
    if (x < 0).any() or (np.abs(grad[supp]) > tol).any() or (grad < -floor)[~supp].any():
        raise MethodError(f"{name}: KKT conditions not met (max violation {_kkt_gap(x, grad):.3g})")
    return x


def _kkt_gap(x: np.ndarray, grad: np.ndarray) -> float:
    supp = x > 0
    gap = [0.0]
    if supp.any():
        gap.append(float(np.abs(grad[supp]).max()))
    if (~supp).any():
        gap.append(float(-grad[~supp].min()))
    return max(gap)


# --- minimum-norm point of a convex hull ------------------------------------------------------
def min_norm_weights(
    A: np.ndarray, *, name: str = "min-norm", support: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Exact ``w* = argmin_{w ∈ Δ} wᵀAw`` and ``m = w*ᵀAw*`` for a Gramian ``A``.

    The minimum-norm point of ``conv{g_i}`` by least-distance programming (Lawson & Hanson,
    ch. 23): for any t > 0, with ``u* = argmin_{u ≥ 0} ‖Gᵀu‖² + t²(1ᵀu − 1)²`` (the projection
    of (0, t) onto the cone of the lifted rows (g_i, t)), ``s = 1ᵀu* ∈ (0, 1]`` and
    ``w* = u*/s``: the KKT conditions of the cone projection, ``g_jᵀ(Gᵀu*) ≥ t²(1 − s)`` with
    equality on the support and ``‖Gᵀu*‖² = t²s(1 − s)``, are exactly the optimality
    conditions ``g_jᵀp ≥ ‖p‖²`` (equality on the support) of ``p = Gᵀw*``. t² is set to the
    smallest squared row norm, the scale of the answer. The point ``p`` is unique; the
    weights are unique when the rows in the support are affinely independent, otherwise one
    optimal ``w`` is returned.

    A zero row makes the origin part of the hull: the weights are then spread equally over
    the zero rows (m = 0). ``support`` (K booleans, e.g. the previous training step's
    ``w > 0``) warm-starts the active set (:func:`nnqp`); the answer is the same optimum.
    """
    k = A.shape[0]
    diag = np.diagonal(A)
    zero = diag <= 0
    if zero.any():
        return zero / zero.sum(), 0.0
    t2 = float(diag.min())
    u = nnqp(A + t2, np.full(k, -t2), name=name, support=support)
    s = float(u.sum())
    if not s > 0:  # pragma: no cover - s ∈ (0, 1] by the KKT conditions checked in nnqp
        raise MethodError(f"{name}: degenerate least-distance solution")
    w = u / s
    m = max(float(w @ A @ w), 0.0)
    return w, m


# --- positive fixed points (Nash-MTL, FairGrad) ----------------------------------------------
def positive_newton(
    f: Callable[[np.ndarray], float],
    derivatives: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    residual: Callable[[np.ndarray], tuple[float, float]],
    beta: np.ndarray,
    *,
    tol: float,
    contract: float,
    name: str,
    max_iter: int = 200,
) -> np.ndarray:
    """Minimize a strictly convex ``f`` over β > 0 from ``beta`` by damped Newton.

    ``derivatives(β)`` gives f's gradient and (positive definite) Hessian, ``residual(β)``
    the fixed-point residual and the floor below which rounding makes it meaningless. Steps
    are cut to keep β > 0 (fraction to the boundary, 0.99) and backtracked until Armijo's
    condition holds — except when the Newton decrement λ = √(∇fᵀH⁻¹∇f) < ¼: for the
    self-concordant potentials here the full step is then in the quadratically convergent
    region (Boyd & Vandenberghe, Convex Optimization, §9.6.4), where f's decrease (~λ²) can
    fall below rounding and an Armijo test would wrongly refuse it.

    Stops once the residual is ≤ max(tol, floor) and returns β if it is ≤ ``contract``;
    raises :class:`MethodError` (``name`` … not reached) otherwise or without convergence.
    """
    value = f(beta)
    for _ in range(max_iter):
        r, floor = residual(beta)
        if r <= max(tol, floor):
            if r <= contract:
                return beta
            break  # converged as far as float64 allows, short of the contract
        grad, hess = derivatives(beta)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError as exc:  # a positive definite Hessian: only on overflow
            raise MethodError(f"{name}: Newton system singular ({exc})") from exc
        slope = float(grad @ step)
        t = 1.0
        shrink = step > 0  # only decreasing coordinates can cross 0
        if shrink.any():
            t = min(1.0, 0.99 * float(np.min(beta[shrink] / step[shrink])))
        while True:
            candidate = beta - t * step
            new_value = f(candidate)
            if slope < 1.0 / 16 or new_value <= value - 1e-4 * t * slope or t < 1e-12:
                break
            t *= 0.5
        if not np.all(np.isfinite(candidate)) or t < 1e-12:
            break
        beta, value = candidate, new_value
    raise MethodError(f"{name} not reached (K={beta.shape[0]}); input near Pareto-stationary?")
