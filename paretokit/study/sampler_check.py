"""One study keeps one sampler: what defines where its weights go, stored and checked.

The sampler (an alias resolved) and its resolved options (the grid's resolution, however it was
chosen; NSGA-II's population size) are stored with the study when it is created and compared on
every resume; the seed is part of the training setting (:mod:`paretokit.study.naming`).
NSGA-II's population follows the budget of the run that created the study: a resume with
another ``--trials`` keeps the stored one (:func:`adopted_population`), so that raising the
budget continues the same generations instead of being refused.
"""

from __future__ import annotations

import optuna

from paretokit.errors import ParetokitError, mask_password
from paretokit.sampling import ALIASES
from paretokit.sampling.make import nsga2_population

SAMPLING = "paretokit_sampling"  # study user attribute: the sampling setting


POPULATION = "nsga2_population"


def sampling_setting(
    name: str, sampler: optuna.samplers.BaseSampler, trials: int | None = None
) -> dict[str, object]:
    """What defines where a study's weights go: the sampler ``name`` (aliases resolved) and its
    resolved options (the grid's resolution, however it was chosen; NSGA-II's population for a
    budget of ``trials``)."""
    key = ALIASES.get(name, name)
    setting: dict[str, object] = {"sampler": key}
    resolution = getattr(sampler, "resolution", None)
    if key == "grid" and resolution is not None:
        setting["grid_resolution"] = int(resolution)
    if key == "nsga2":
        setting[POPULATION] = nsga2_population(trials)
    return setting


def adopted_population(study: optuna.Study, sampling: dict[str, object]) -> int | None:
    """The NSGA-II population a resumed study keeps when it differs from ``sampling``'s (the
    caller then rebuilds its sampler with it); None when there is nothing to change."""
    stored = study.user_attrs.get(SAMPLING) or {}
    population = stored.get(POPULATION)
    if population is None or population == sampling.get(POPULATION):
        return None
    return int(population)


def check_sampling(study: optuna.Study, storage_url: str, sampling: dict[str, object]) -> None:
    """Store ``sampling`` with a new study, or refuse a resume with another one (a study from
    before this check adopts the sampler it is resumed with)."""
    stored = study.user_attrs.get(SAMPLING)
    if stored is None:
        study.set_user_attr(SAMPLING, sampling)
        return
    if POPULATION in sampling and POPULATION not in stored and stored == _without(sampling):
        study.set_user_attr(SAMPLING, sampling)  # a study from before the population was stored
        return
    if _without(stored) == _without(sampling):  # NSGA-II keeps its population: see above
        return
    hint = (
        f"; pass --grid-resolution {stored['grid_resolution']} to continue its lattice"
        if "grid_resolution" in stored and sampling.get("sampler") == "grid"
        else ""
    )
    raise ParetokitError(
        f"study {study.study_name!r} in {mask_password(storage_url)} was sampled with "
        f"{_show(stored)}, not {_show(sampling)}: one study keeps one sampler (choose another "
        f"--study-name for another sampler{hint})"
    )


def _without(setting: dict) -> dict:
    return {k: v for k, v in setting.items() if k != POPULATION}


def _show(setting: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in setting.items())
