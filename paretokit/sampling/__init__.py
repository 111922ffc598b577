"""Samplers of the weight simplex: where a sweep puts its next loss weights.

**One parametrization for every sampler** (:mod:`~paretokit.sampling.simplex`): a trial
suggests K numbers ``u_k ∈ [0, 1]`` (Optuna parameters ``u0 … u{K−1}``) and trains on
``w ∝ −log(1 − u)``, uniform on the simplex for uniform u; samplers that choose weights
directly store the ``u`` that reproduce them. One module per sampler family:
:mod:`~paretokit.sampling.simple` (Dirichlet, Sobol), :mod:`~paretokit.sampling.grid`,
:mod:`~paretokit.sampling.adaptive`; :mod:`~paretokit.sampling.make` builds them by name.

**Samplers** (:data:`SAMPLERS`, built by :func:`make_sampler`):

- ``dirichlet`` — uniform on the simplex: u drawn from a generator seeded with
  (seed, trial number), so parallel workers with one seed never draw the same weights.
  ``random`` is an alias (older studies).
- ``qmc`` — the trial-number-th point of one scrambled Sobol sequence in [0, 1)^K (Owen
  scrambling, scipy's ``qmc.Sobol``), mapped as above: low discrepancy in u, even coverage of
  the simplex for small budgets; race-free across workers for the same reason.
- ``tpe``, ``nsga2`` — Optuna's TPE (multivariate, constant liar for parallel workers) and
  NSGA-II on the u parameters.
- ``grid`` — the simplex lattice ``{w : w_k = i_k/n, Σ i_k = n}`` with ``C(n+K−1, K−1)``
  points, each trained once (see :class:`SimplexGridSampler`).
- ``adaptive`` — dichotomic search for the front's largest gap (see :class:`AdaptiveSampler`;
  experimental).
"""

from paretokit.sampling.adaptive import AdaptiveSampler, Gap
from paretokit.sampling.grid import (
    MAX_GRID_POINTS,
    SimplexGridSampler,
    lattice,
    lattice_order,
    lattice_resolution,
    lattice_size,
)
from paretokit.sampling.make import ALIASES, SAMPLERS, make_sampler
from paretokit.sampling.simple import DirichletSampler, SimplexSampler, SobolSampler
from paretokit.sampling.simplex import (
    param_names,
    params_to_weights,
    search_space,
    suggest_weights,
    trial_weights,
    weights_to_params,
)

__all__ = [
    "ALIASES",
    "MAX_GRID_POINTS",
    "SAMPLERS",
    "AdaptiveSampler",
    "DirichletSampler",
    "Gap",
    "SimplexGridSampler",
    "SimplexSampler",
    "SobolSampler",
    "lattice",
    "lattice_order",
    "lattice_resolution",
    "lattice_size",
    "make_sampler",
    "param_names",
    "params_to_weights",
    "search_space",
    "suggest_weights",
    "trial_weights",
    "weights_to_params",
]
