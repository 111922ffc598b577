"""The one parametrization of the weight simplex that every sampler goes through.

A trial suggests K numbers ``u_k ∈ [0, 1]`` (Optuna parameters ``u0 … u{K−1}``) and trains on
the weights

    E_k = −log(1 − u_k),    w = E / Σ_j E_j.

For independent uniform u_k, E_k ~ Exp(1) and w ~ Dirichlet(1, …, 1), the uniform distribution
on the simplex (Devroye, *Non-Uniform Random Variate Generation*, 1986, §V.2 and §XI.4). The
inverse ``u_k = 1 − exp(−w_k)`` maps any point of the simplex back to parameters that
reproduce it (E = w, Σ E = 1), so samplers that choose weights directly (``grid``,
``adaptive``) store ordinary ``u`` parameters and every study reads the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, FloatDistribution
from optuna.trial import FrozenTrial, TrialState

from paretokit.errors import ParetokitError

U_MAX = 1.0 - 2.0**-53  # the largest float below 1: keeps −log(1 − u) finite
FIXED = "fixed_params"  # Optuna's system attribute of an enqueued trial
PENDING = (TrialState.RUNNING, TrialState.WAITING)  # trials whose weights are in use, no values


def param_names(k: int) -> list[str]:
    """The Optuna parameter names of K weights: ``u0 … u{K−1}``."""
    return [f"u{i}" for i in range(k)]


def search_space(k: int) -> dict[str, BaseDistribution]:
    """The u parameters' distributions: K uniforms on [0, 1]."""
    return {name: FloatDistribution(0.0, 1.0) for name in param_names(k)}


def params_to_weights(u: Sequence[float]) -> list[float]:
    """``w = E / ΣE`` with ``E_k = −log(1 − u_k)`` (module docstring). All u_k = 0 carries no
    direction and gives the centre of the simplex."""
    e = [-math.log1p(-min(float(x), U_MAX)) for x in u]
    total = math.fsum(e)
    if total <= 0.0:
        return [1.0 / len(e)] * len(e)
    return [x / total for x in e]


def suggest_weights(trial: optuna.Trial, k: int) -> list[float]:
    """Suggest ``u0 … u{K−1}`` on ``trial`` and return the weights they map to (a point of the
    simplex, Σ w = 1, w ≥ 0). Every sampler of this module goes through this one mapping."""
    return params_to_weights([trial.suggest_float(name, 0.0, 1.0) for name in param_names(k)])


def weights_to_params(w: Sequence[float]) -> dict[str, float]:
    """The parameters that reproduce ``w``: ``u_k = 1 − exp(−w_k)`` (so E = w). ``w`` must be
    non-negative and finite with a positive sum; it is scaled to sum 1 first."""
    arr = np.asarray(w, dtype=float)
    if arr.ndim != 1 or len(arr) < 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ParetokitError(f"weights must be finite and non-negative, got {list(arr)}")
    total = math.fsum(arr)
    if total <= 0.0:
        raise ParetokitError("weights must not all be zero")
    if abs(total - 1.0) > 1e-12:
        arr = arr / total
    return {name: float(-math.expm1(-x)) for name, x in zip(param_names(len(arr)), arr)}


def trial_weights(trial: FrozenTrial, k: int) -> np.ndarray | None:
    """The weights a trial trained (or will train, for an enqueued trial), or None if its u
    parameters are not set yet."""
    names = param_names(k)
    for source in (trial.params, trial.system_attrs.get(FIXED) or {}):
        if all(name in source for name in names):
            return np.array(params_to_weights([source[name] for name in names]))
    return None
