"""Nash-MTL: the Nash bargaining solution of the tasks' gradients."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from torch import Tensor

from paretokit.errors import MethodError
from paretokit.methods._base import GramianWeighting
from paretokit.methods._solvers import positive_newton

SOLVERS = ("newton", "ccp")
RESIDUAL_TOL = 1e-11  # max_i |α_i (Aα)_i − 1| at which Newton stops
CONTRACT_TOL = 1e-8  # the residual every returned solution meets
# Squared min-norm of the normalized gradients' hull below which an input whose fixed point
# float64 cannot resolve to CONTRACT_TOL is treated as Pareto-stationary (see NashMTL._array_weights).
STATIONARY_TOL = 1e-6
EPS = float(np.finfo(np.float64).eps)


def bargaining_weights(
    C: np.ndarray, start: np.ndarray | None = None, max_iter: int = 200
) -> np.ndarray:
    """β > 0 with ``β ⊙ (Cβ) = 1`` for a PSD C with unit diagonal, by Newton's method.

    β minimizes the strictly convex f(β) = ½βᵀCβ − Σ log β_i (its gradient Cβ − 1/β vanishes
    exactly at the fixed point; its Hessian C + diag(1/β²) is positive definite). Damped Newton
    (:func:`positive_newton`) keeps β > 0, converges globally and, near the solution,
    quadratically (Boyd & Vandenberghe, Convex Optimization, §9.5).
    Starts at β = 1, the solution for orthogonal gradients, unless warm-started.

    Stops at residual ``max_i |β_i(Cβ)_i − 1| ≤ max(RESIDUAL_TOL, floor)``, where
    ``floor = 4K·ε·max(β)·Σβ`` bounds the rounding error of evaluating the residual itself
    (near a Pareto-stationary input β grows like 1/√m and the floor with it). Raises
    :class:`MethodError` when that residual is not reached or exceeds ``CONTRACT_TOL`` (f
    unbounded or numerically so: Pareto-stationary input).
    """
    k = C.shape[0]

    def f(b: np.ndarray) -> float:
        return 0.5 * float(b @ C @ b) - float(np.log(b).sum())

    def derivatives(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return C @ b - 1.0 / b, C + np.diag(1.0 / b**2)

    def residual(b: np.ndarray) -> tuple[float, float]:
        floor = 4.0 * k * EPS * float(b.max()) * float(b.sum())
        return float(np.abs(b * (C @ b) - 1.0).max()), floor

    return positive_newton(
        f,
        derivatives,
        residual,
        start.copy() if start is not None else np.ones(k),
        tol=RESIDUAL_TOL,
        contract=CONTRACT_TOL,
        name="nashmtl: bargaining fixed point",
        max_iter=max_iter,
    )


class NashMTL(GramianWeighting):
    """Nash-MTL: Navon et al., "Multi-Task Learning as a Bargaining Game", ICML 2022,
    https://arxiv.org/abs/2202.01017.

    The update is the Nash bargaining solution of the game whose players are the tasks with
    utilities u_i(Δθ) = g_iᵀΔθ on a ball: Δθ = Σ α_i g_i with α > 0 solving the bargaining
    fixed point ``α ⊙ (Aα) = 1``, A = GGᵀ (the paper's Eq. 3, Claim 3.1). α is the unique
    minimizer of the strictly convex ½αᵀAα − Σ log α_i. We solve it exactly by damped Newton
    on the K×K problem in scale-free coordinates β_i = α_i ‖g_i‖ (C = the correlation matrix
    of the gradients), which makes Axiom 2.4 hold by construction: rescaling a task gradient
    by c > 0 divides its α by c and leaves the direction unchanged. The residual
    ``max_i |α_i (Aα)_i − 1|`` is ≤ 1e-11 on return (contract: 1e-8).

    Options (the official implementation's defaults):

    * ``update_every`` — Nash-MTL-N (paper §6.4): recompute α every N steps and reuse it in
      between; the engine then skips the per-task gradients (:meth:`reuse_weights`).
    * ``max_norm`` — the training engine clips the shared parameters' gradient to norm
      ``max_norm`` after writing the update into it, as the official code does after
      back-propagating Σα_iL_i (``clip_grad_norm_`` on the shared parameters, every step,
      reused weights included); 0 disables. It is an engine setting carried by the method
      (:attr:`max_shared_grad_norm`): the method itself returns ``αᵀG`` unclipped, so
      ``aggregate(G) == weights(G) @ G`` holds, and the task heads get α_k∇L_k unclipped, as
      in the official code.
    * ``solver`` — ``"newton"`` (exact, default) or ``"ccp"``: the paper's own procedure (§3.2,
      a sequence of ``ccp_steps`` convex problems solved with cvxpy/Clarabel, starting from
      α = 1, stopping early as the official code does). It approximates the fixed point; a
      solver failure raises :class:`MethodError` instead of silently keeping old weights.

    Degenerate input: zero task gradients get α = 0 (they cannot move; the rest bargain
    among themselves); at a Pareto-stationary point (0 in the hull of the nonzero gradients,
    where no fixed point exists) and for all-zero G the direction and weights are 0. So are
    they for inputs so close to stationary (unit-normalized gradients' hull within 1e-3 of the
    origin) that float64 cannot resolve the fixed point to 1e-8; any other input meets it.
    """

    name: ClassVar[str] = "nashmtl"
    summary: ClassVar[str] = "Nash bargaining solution α ⊙ GGᵀα = 1 (exact Newton solver)"
    citation: ClassVar[str] = (
        "Navon et al., Multi-Task Learning as a Bargaining Game, ICML 2022, arXiv:2202.01017"
    )

    def __init__(
        self,
        n_tasks: int,
        *,
        seed: int = 0,
        update_every: int = 1,
        max_norm: float = 1.0,
        solver: str = "newton",
        ccp_steps: int = 20,
        feature_level: bool = False,
    ) -> None:
        super().__init__(n_tasks, seed=seed, feature_level=feature_level)
        if not isinstance(update_every, int) or update_every < 1:
            raise MethodError("nashmtl: update_every must be an integer ≥ 1")
        if not max_norm >= 0:
            raise MethodError("nashmtl: max_norm must be ≥ 0 (0 disables clipping)")
        if solver not in SOLVERS:
            raise MethodError(f"nashmtl: solver must be one of {SOLVERS}")
        if not isinstance(ccp_steps, int) or ccp_steps < 1:
            raise MethodError("nashmtl: ccp_steps must be an integer ≥ 1")
        self.update_every, self.max_norm = update_every, float(max_norm)
        self.max_shared_grad_norm = self.max_norm
        self.solver, self.ccp_steps = solver, ccp_steps
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self._beta: np.ndarray | None = None  # warm start, scale-free coordinates
        self._alpha: Tensor | None = None  # weights of the last update (Nash-MTL-N reuse)

    def gramian_weights(self, gramian: Tensor, losses: Tensor | None = None) -> Tensor:
        alpha = super().gramian_weights(gramian, losses)
        self._alpha = alpha.detach()  # what Nash-MTL-N applies until its next update
        return alpha

    def reuse_weights(self) -> Tensor | None:
        if self._alpha is None or self.step_count % self.update_every == 0:
            return None
        self.step_count += 1
        return self._alpha

    def _array_weights(self, A: np.ndarray, losses: Tensor | None) -> np.ndarray:
        norms, live = self.live_rows(A)
        alpha = np.zeros(A.shape[0])
        if not live.size:
            return alpha
        n = norms[live]
        C = self.scale_free(A, norms, live)
        try:
            if self.solver == "ccp":
                beta = _ccp_weights(C, self.ccp_steps)
            else:
                beta = self._newton(C, n.shape)
        except MethodError:
            # No fixed point: f is unbounded exactly when 0 is in the gradients' hull. Near
            # that (hull within √STATIONARY_TOL of 0) β ~ 1/√m and float64 cannot resolve
            # the fixed point to CONTRACT_TOL: treated as stationary too.
            w, _ = self.hull_weights(C)
            if float(w @ C @ w) <= STATIONARY_TOL:
                self._beta = None
                return alpha  # Pareto-stationary: no agreement improves on staying put
            raise
        alpha[live] = beta / n
        return alpha

    def _newton(self, C: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        if shape == (2,):  # start at the closed form: Newton only polishes the rounding
            self._beta = bargaining_weights(C, two_task_start(C))
            return self._beta
        start = self._beta if self._beta is not None and self._beta.shape == shape else None
        try:
            beta = bargaining_weights(C, start)
        except MethodError:
            if start is None:
                raise
            beta = bargaining_weights(C, None)  # the warm start was far: restart cold
        self._beta = beta
        return beta


def two_task_start(C: np.ndarray) -> np.ndarray:
    """K = 2: the fixed point β ⊙ (Cβ) = 1 for C = [[1, ρ], [ρ, 1]] is β₁ = β₂ = 1/√(1 + ρ)
    (then β_i (Cβ)_i = b²(1 + ρ) = 1; it is unique). Where 1 + ρ ≤ 0 (0 in the hull of the
    normalized gradients: Pareto-stationary) there is none, and where its residual's rounding
    floor exceeds the contract float64 cannot resolve it: :class:`MethodError` for both, as
    Newton's method would end (after its iteration limit). Near stationarity a cold Newton start needs
    ~log₂(1/√(1 + ρ)) damped steps, and on the toy's front (float32 gradients, ρ = −1 to
    rounding) 200 failing ones per step."""
    s = 1.0 + float(C[0, 1] + C[1, 0]) / 2.0
    if not s > 0:
        raise MethodError("nashmtl: bargaining fixed point not reached (K=2): 1 + ρ ≤ 0")
    beta = np.full(2, 1.0 / np.sqrt(s))
    if 4.0 * 2 * EPS * float(beta.max()) * float(beta.sum()) > CONTRACT_TOL:
        # the residual's rounding floor (bargaining_weights) exceeds the contract here
        raise MethodError("nashmtl: bargaining fixed point not resolvable in float64 (K=2)")
    return beta


def _ccp_weights(C: np.ndarray, steps: int) -> np.ndarray:
    """The paper's concave–convex procedure (§3.2, Appendix D), in the official code's form:
    starting from β = 1, repeatedly minimize Σ_i (Cβ)_i + φ'(β_t)ᵀ(β − β_t) subject to
    log β_i + log (Cβ)_i ≥ 0 with φ(β) = Σ_i log (Cβ)_i + Σ log β_i linearized at β_t; stop
    when ‖Cβ − 1/β‖ < 1e-3 or the iterate moves less than 1e-6."""
    import cvxpy as cp

    k = C.shape[0]
    beta_t = np.ones(k)
    var = cp.Variable(k, nonneg=True)
    tangent = cp.Parameter(k)
    Cvar = C @ var
    constraints = [cp.log(var[i]) + cp.log(Cvar[i]) >= 0 for i in range(k)]
    # the linearization's constant −φ'(β_t)ᵀβ_t is dropped: the minimizer is the same, and the
    # problem stays DPP (cvxpy compiles it once for all steps)
    problem = cp.Problem(cp.Minimize(cp.sum(Cvar) + tangent @ var), constraints)
    for _ in range(steps):
        tangent.value = 1.0 / beta_t + (1.0 / (C @ beta_t)) @ C
        try:
            problem.solve(solver=cp.CLARABEL)
        except cp.SolverError as exc:
            raise MethodError(f"nashmtl (ccp): solver failed: {exc}") from exc
        if var.value is None or problem.status not in ("optimal", "optimal_inaccurate"):
            raise MethodError(f"nashmtl (ccp): solver status {problem.status}")
        new = np.maximum(var.value, 1e-12)
        moved = np.linalg.norm(new - beta_t)
        beta_t = new
        if np.linalg.norm(C @ beta_t - 1.0 / beta_t) < 1e-3 or moved < 1e-6:
            break
    return beta_t
