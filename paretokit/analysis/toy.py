"""The two-objective toy of CAGrad (Liu et al., NeurIPS 2021, Fig. 1) as Nash-MTL uses it
(Navon et al., ICML 2022, Fig. 1): its losses in NumPy and its exact Pareto front.

For x = (x₁, x₂) ∈ R², with ``LOWER`` = 5·10⁻⁶, t₊ = max(tanh(x₂/2), 0) and
t₋ = max(tanh(−x₂/2), 0):

    ℓ₁ = log max(|−(x₁ + 7)/2 − tanh(−x₂)|, LOWER) + 6
    ℓ₂ = log max(|−(x₁ − 3)/2 + tanh(−x₂) + 2|, LOWER) + 6
    q₁ = ((x₁ − 7)² + 0.1 (x₂ + 8)²)/10 − 20
    q₂ = ((x₁ + 7)² + 0.1 (x₂ + 8)²)/10 − 20
    F_k = t₊ ℓ_k + t₋ q_k,      f₁ = s F₁,  f₂ = F₂

with the first loss scaled by ``s`` (``scale``, 0.1 in Nash-MTL, to show that a method is
invariant to the losses' scales). Above the x₁ axis (x₂ > 0) only the log terms act, below it
only the quadratic ones; at x₂ = 0 both losses are 0.

**The Pareto front, exactly.** Below the axis F_k = τ(x₂) (A_k(x₁) + r(x₂)) with
τ = tanh(−x₂/2) > 0, A₁ = (x₁ − 7)²/10 − 20, A₂ = (x₁ + 7)²/10 − 20 and r = 0.01 (x₂ + 8)².
For a weight λ ∈ [0, 1], λF₁ + (1 − λ)F₂ = τ(x₂)(λA₁ + (1 − λ)A₂ + r(x₂)); since τ > 0 its
minimum over x₁ is at x₁ = 14λ − 7 for every x₂, where λA₁ + (1 − λ)A₂ = 19.6 λ(1 − λ) − 20
=: a(λ), and what remains is the one-dimensional minimum of φ(x₂) = τ(x₂)(a + r(x₂)), whose
derivative changes sign once on (−∞, 0) (negative below, positive above, for every
a ∈ [−20, −15.1]): its root x₂*(λ) ∈ (−8.44, −8.35) is found by bisection to double
precision. Above the axis F_k ≥ log(LOWER) + 6 > −6.21, while the front's middle point
(λ = ½) has F₁ = F₂ < −15: no point there is Pareto optimal. The weighted minima for
λ ∈ [0, 1] are therefore all Pareto optimal, the map λ ↦ (F₁, F₂) is continuous, and the
front is the curve it traces: convex (the slope −λ/(1 − λ) of the supporting line falls
monotonically along it), from F = (−19.99, −0.40) (λ = 1, x₁ = 7) to (−0.40, −19.99)
(λ = 0, x₁ = −7). Scaling f₁ by s > 0 maps the front onto the scaled losses' front (Pareto
optimality is invariant to a positive scaling of an objective). The values are exact to
rounding (≈ 10⁻¹³): the precision stated by :data:`FRONT_PRECISION`.

The reference draws its front along the line x₂ = −8.3552 (x₂*(½)); the exact Pareto set
bends from x₂ = −8.434 at its ends to −8.355 in its middle.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from paretokit.errors import ParetokitError

LOWER = 5e-6
DEFAULT_SCALE = 0.1
STARTS: tuple[tuple[float, float], ...] = (
    (-8.5, 7.5),
    (0.0, 0.0),
    (9.0, 9.0),
    (-7.5, -0.5),
    (9.0, -1.0),
)  # Nash-MTL's five starting points; training seed s starts at STARTS[s]
FRONT_POINTS = 2001  # default resolution of the front: λ on an even grid of [0, 1]
FRONT_PRECISION = 1e-12  # the front points' loss values are exact to this (bisection + rounding)
_BRACKET = (-30.0, -1.0)  # φ' < 0 at −30 and > 0 at −1 for every a ∈ [−20, −15.1]
_NAME = re.compile(r"^toy(?:\(scale=([^()]+)\))?$")


def losses(x: np.ndarray, scale: float = DEFAULT_SCALE) -> np.ndarray:
    """(f₁, f₂) of the module docstring at points ``x`` (..., 2); returns (..., 2)."""
    x = np.asarray(x, dtype=np.float64)
    x1, x2 = x[..., 0], x[..., 1]
    th = np.tanh(-x2)
    log1 = np.log(np.maximum(np.abs(0.5 * (-x1 - 7.0) - th), LOWER)) + 6.0
    log2 = np.log(np.maximum(np.abs(0.5 * (-x1 + 3.0) + th + 2.0), LOWER)) + 6.0
    up = np.maximum(np.tanh(0.5 * x2), 0.0)
    down = np.maximum(np.tanh(-0.5 * x2), 0.0)
    r = 0.1 * (-x2 - 8.0) ** 2
    q1 = ((-x1 + 7.0) ** 2 + r) / 10.0 - 20.0
    q2 = ((-x1 - 7.0) ** 2 + r) / 10.0 - 20.0
    f1 = (up * log1 + down * q1) * scale
    f2 = up * log2 + down * q2
    return np.stack([f1, f2], axis=-1)


def _phi_slope(x2: np.ndarray, a: np.ndarray) -> np.ndarray:
    """φ'(x₂) for φ = τ(x₂)(a + r(x₂)), τ = tanh(−x₂/2), r = 0.01 (x₂ + 8)²."""
    tau = np.tanh(-0.5 * x2)
    return -0.5 * (1.0 - tau**2) * (a + 0.01 * (x2 + 8.0) ** 2) + tau * 0.02 * (x2 + 8.0)


def pareto_set(lam: np.ndarray) -> np.ndarray:
    """The Pareto-optimal x (n, 2) minimizing λF₁ + (1 − λ)F₂, for weights λ (n,) in [0, 1]."""
    lam = np.asarray(lam, dtype=np.float64)
    a = 19.6 * lam * (1.0 - lam) - 20.0
    lo = np.full_like(lam, _BRACKET[0])
    hi = np.full_like(lam, _BRACKET[1])
    for _ in range(80):  # the bracket halves each time: 29 · 2⁻⁸⁰ is below double spacing
        mid = 0.5 * (lo + hi)
        up = _phi_slope(mid, a) > 0
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    return np.stack([14.0 * lam - 7.0, 0.5 * (lo + hi)], axis=-1)


@dataclass(frozen=True)
class Front:
    """A known Pareto front in loss space, ordered along it: ``points`` (n, 2), from the end
    best for the first loss to the end best for the second; ``x`` (n, 2) where each point lies
    in parameter space; ``precision`` bounds the error of each point's loss values."""

    points: np.ndarray
    x: np.ndarray
    precision: float


def front(scale: float = DEFAULT_SCALE, n: int = FRONT_POINTS) -> Front:
    """The toy's exact Pareto front at ``n`` points (λ = 1 … 0 evenly, see the module
    docstring), f₁ including the ``scale``."""
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ParetokitError(f"toy: scale must be a finite number > 0, got {scale!r}")
    if n < 2:
        raise ParetokitError(f"toy: the front needs at least 2 points, got {n}")
    x = pareto_set(np.linspace(1.0, 0.0, n))
    return Front(losses(x, scale), x, FRONT_PRECISION)


def problem_name(scale: float) -> str:
    """The name results files carry: ``toy`` at the default scale, else ``toy(scale=s)``."""
    return "toy" if scale == DEFAULT_SCALE else f"toy(scale={scale!r})"


def scale_of(problem: str) -> float | None:
    """The scale a toy problem name carries (:func:`problem_name`), None for other names."""
    match = _NAME.match(problem)
    if match is None:
        return None
    if match.group(1) is None:
        return DEFAULT_SCALE
    try:
        return float(match.group(1))
    except ValueError:
        return None
