"""One study keeps one sampler: what defines where its weights go, stored and checked.

The sampler (an alias resolved) and its resolved options (the grid's resolution, however it was
chosen) are stored with the study when it is created and compared on every resume; the seed is
part of the training setting (:mod:`paretokit.study.naming`).
"""

from __future__ import annotations

import optuna

from paretokit.errors import ParetokitError, mask_password
from paretokit.sampling import ALIASES

SAMPLING = "paretokit_sampling"  # study user attribute: the sampling setting


def sampling_setting(name: str, sampler: optuna.samplers.BaseSampler) -> dict[str, object]:
    """What defines where a study's weights go: the sampler ``name`` (aliases resolved) and its
    resolved options (the grid's resolution, however it was chosen)."""
    key = ALIASES.get(name, name)
    setting: dict[str, object] = {"sampler": key}
    resolution = getattr(sampler, "resolution", None)
    if key == "grid" and resolution is not None:
        setting["grid_resolution"] = int(resolution)
    return setting


def check_sampling(study: optuna.Study, storage_url: str, sampling: dict[str, object]) -> None:
    """Store ``sampling`` with a new study, or refuse a resume with another one (a study from
    before this check adopts the sampler it is resumed with)."""
    stored = study.user_attrs.get(SAMPLING)
    if stored is None:
        study.set_user_attr(SAMPLING, sampling)
        return
    if stored == sampling:
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


def _show(setting: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in setting.items())
