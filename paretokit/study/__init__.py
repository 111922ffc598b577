"""The Optuna side of a sweep, one concept per module:

- :mod:`~paretokit.study.config` — what a sweep is asked (:class:`SweepConfig`), its progress
  hooks and its outcome (no torch, no optuna);
- :mod:`~paretokit.study.naming` — the training setting, the default study name, the results
  metadata (``compare`` names its runs with it; no torch, no optuna);
- :mod:`~paretokit.study.storage` — storages from URLs, opening retries, one clear error;
- :mod:`~paretokit.study.opening` — a study created or resumed, its setting checked;
- :mod:`~paretokit.study.sampler_check` — one study keeps one sampler;
- :mod:`~paretokit.study.records` — what a sweep stores in its study, read back checked;
- :mod:`~paretokit.study.export` — a study's rows into a results file;
- :mod:`~paretokit.study.batch` — one batch of trials trained with every seed and told;
- :mod:`~paretokit.study.loop` — :func:`run_sweep`, the ask/tell loop;
- :mod:`~paretokit.study.workers` — many workers on one study: budget, heartbeats, retries.

The names below are resolved lazily (PEP 562), so ``from paretokit.study import SweepConfig``
imports neither torch nor optuna.
"""

from __future__ import annotations

from paretokit._lazy import lazy_names

_LAZY = {
    "DEFAULT_SEEDS": "paretokit.study.config",
    "SweepCallbacks": "paretokit.study.config",
    "SweepConfig": "paretokit.study.config",
    "SweepOutcome": "paretokit.study.config",
    "default_study_name": "paretokit.study.naming",
    "results_meta": "paretokit.study.naming",
    "study_setting": "paretokit.study.naming",
    "default_storage": "paretokit.study.storage",
    "open_storage": "paretokit.study.storage",
    "export_study": "paretokit.study.export",
    "population_size": "paretokit.study.loop",
    "run_sweep": "paretokit.study.loop",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)

__all__ = sorted(_LAZY)
