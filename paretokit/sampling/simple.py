"""Samplers that know their search space in advance: the base, Dirichlet and Sobol."""

from __future__ import annotations

import math
from abc import abstractmethod

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study
from optuna.trial import FrozenTrial
from scipy.stats import qmc

from paretokit.sampling.simplex import U_MAX, param_names, search_space


class SimplexSampler(BaseSampler):
    """A sampler that knows the search space in advance (the K u parameters) and chooses all of
    them together in :meth:`sample_relative`. Parameters outside that space (none in a sweep)
    are drawn uniformly from a generator seeded with (seed, trial number, name)."""

    def __init__(self, n_tasks: int, seed: int = 0) -> None:
        self.n_tasks = n_tasks
        self.seed = int(seed) % 2**32  # generators take non-negative seeds
        self._space = search_space(n_tasks)

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return dict(self._space)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, float]:
        if not search_space:
            return {}
        return self._params(study, trial)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> float:
        key = [self.seed, trial.number, *param_name.encode()]
        draw = optuna.samplers.RandomSampler(seed=int(np.random.SeedSequence(key).entropy % 2**32))
        return draw.sample_independent(study, trial, param_name, param_distribution)

    @abstractmethod
    def _params(self, study: Study, trial: FrozenTrial) -> dict[str, float]:
        """The trial's u-parameters (its weights mapped by :func:`weights_to_params`)."""


class DirichletSampler(SimplexSampler):
    """Uniform weights on the simplex (Dirichlet(1)): u ~ U[0, 1)^K from a generator seeded with
    (seed, trial number), so a trial's weights depend only on those two numbers."""

    def _params(self, study: Study, trial: FrozenTrial) -> dict[str, float]:
        u = np.random.default_rng([self.seed, trial.number]).random(self.n_tasks)
        return dict(zip(param_names(self.n_tasks), map(float, u)))


class SobolSampler(SimplexSampler):
    """The trial-number-th point of a scrambled Sobol sequence in [0, 1)^K (Sobol' 1967; Owen
    1998 scrambling, as in ``scipy.stats.qmc.Sobol``), mapped to the simplex as every sampler
    is. Points are generated in blocks of powers of two, which keeps the sequence's balance."""

    def __init__(self, n_tasks: int, seed: int = 0) -> None:
        super().__init__(n_tasks, seed)
        self._points = np.empty((0, n_tasks))

    def _params(self, study: Study, trial: FrozenTrial) -> dict[str, float]:
        n = trial.number
        if n >= len(self._points):
            m = max(4, math.ceil(math.log2(n + 1)))
            engine = qmc.Sobol(d=self.n_tasks, scramble=True, seed=self.seed)
            self._points = engine.random_base2(m)
        u = np.minimum(self._points[n], U_MAX)
        return dict(zip(param_names(self.n_tasks), map(float, u)))
