"""Building a sampler by name."""

from __future__ import annotations

import optuna
from optuna.samplers import BaseSampler

from paretokit.errors import ParetokitError
from paretokit.sampling.adaptive import AdaptiveSampler
from paretokit.sampling.grid import SimplexGridSampler, grid_resolution_for
from paretokit.sampling.simple import DirichletSampler, SobolSampler

SAMPLERS: tuple[str, ...] = ("dirichlet", "grid", "qmc", "tpe", "nsga2", "adaptive")
ALIASES: dict[str, str] = {"random": "dirichlet"}


def make_sampler(
    name: str,
    seed: int,
    n_tasks: int,
    *,
    grid_resolution: int | None = None,
    trials: int | None = None,
    population_size: int | None = None,
) -> BaseSampler:
    """The sampler ``name`` (one of :data:`SAMPLERS`, or an alias) for K = ``n_tasks`` weights.

    ``grid`` uses ``grid_resolution`` n, or by default the smallest n whose lattice has at least
    ``trials`` points; it is an error when the lattice has fewer points than ``trials``.
    ``nsga2`` takes ``population_size`` (a resumed study's), by default
    :func:`nsga2_population` of ``trials``.
    """
    key = ALIASES.get(name, name)
    if key not in SAMPLERS:
        known = ", ".join(SAMPLERS) + " (" + ", ".join(f"{a} = {b}" for a, b in ALIASES.items())
        raise ParetokitError(f"unknown sampler {name!r}; known: {known})")
    if n_tasks < 1:
        raise ParetokitError(f"a sampler needs at least one task, got {n_tasks}")
    if key == "dirichlet":
        return DirichletSampler(n_tasks, seed)
    if key == "qmc":
        return SobolSampler(n_tasks, seed)
    if key == "grid":
        return SimplexGridSampler(n_tasks, grid_resolution_for(n_tasks, grid_resolution, trials))
    if key == "adaptive":
        return AdaptiveSampler(n_tasks, seed)
    if key == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
    population = population_size if population_size is not None else nsga2_population(trials)
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=population)


def nsga2_population(trials: int | None) -> int:
    """NSGA-II's generation size for a budget of ``trials``: a fifth of it, 10 to 50 (50
    without a budget). Stored with the study, so that a resume with a larger budget keeps it."""
    return 50 if trials is None else max(10, min(50, trials // 5))
