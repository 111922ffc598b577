"""Samplers of the weight simplex: where a sweep puts its next loss weights.

One module per concept: :mod:`~paretokit.sampling.simplex` (the parametrization below),
:mod:`~paretokit.sampling.simple` (Dirichlet, Sobol), :mod:`~paretokit.sampling.grid`,
:mod:`~paretokit.sampling.adaptive`, and :mod:`~paretokit.sampling.make` (by name).

**One parametrization for every sampler.** A trial suggests K numbers ``u_k ∈ [0, 1]`` (Optuna
parameters ``u0 … u{K−1}``) and trains on the weights

    E_k = −log(1 − u_k),    w = E / Σ_j E_j.

For independent uniform u_k, E_k ~ Exp(1) and w ~ Dirichlet(1, …, 1), the uniform distribution
on the simplex (Devroye, *Non-Uniform Random Variate Generation*, 1986, §V.2 and §XI.4). The
inverse ``u_k = 1 − exp(−w_k)`` maps any point of the simplex back to parameters that
reproduce it (E = w, Σ E = 1), so samplers that choose weights directly (``grid``,
``adaptive``) store ordinary ``u`` parameters and every study reads the same way.

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
