"""Δm% against a baseline and the mean rank of a methods table."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from paretokit.errors import ParetokitError


def delta_m(
    table: pd.DataFrame,
    baseline: str,
    higher_is_better: Mapping[str, bool],
    tasks: Mapping[str, str] | None = None,
) -> pd.Series:
    """Δm% of every row of ``table`` (rows = methods, index; columns = metrics) against the row
    ``baseline`` (usually STL); percent, lower is better, 0 for the baseline itself.

    Default (Maninis et al., CVPR 2019; Navon et al., ICML 2022 §6; DESIGN.md), the average
    over all M metrics::

        Δm = 100/M · Σ_j (−1)^{h_j} (M_m,j − M_b,j) / M_b,j,   h_j = 1 when higher is better.

    With ``tasks`` (metric column → task name) the per-task-then-average variant of LibMTL
    (Lin & Zhang 2023, ``Δ_p``): average the signed relative changes within each task first,
    then over the T tasks, ``Δp = 100/T · Σ_t 1/N_t Σ_{j∈t} (−1)^{h_j} (M_m,j − M_b,j)/M_b,j``.
    The two agree when every task has exactly one metric (as in a paretokit results file,
    which stores each task's primary metric); they differ on e.g. NYUv2's 3 tasks × 9 metrics,
    so say which one a published number uses before comparing. Sign: LibMTL prints ``Δp``
    with the opposite sign (``(−1)^{h_j}(M_b,j − M_m,j)/M_b,j``: positive = better); this
    function keeps lower-is-better for both variants, so negate it to compare with LibMTL.

    Δm% is a relative change, so it is defined only where every baseline value M_b,j is
    positive: a zero baseline has no relative change, and a negative one flips the sign of
    (M_m,j − M_b,j)/M_b,j, so that a better method would read as worse (the toy's losses f₁, f₂
    are negative near the front). A metric whose baseline is not positive (≤ 0 or NaN) makes
    every row's Δm NaN rather than a number that says the opposite of the truth;
    :func:`nonpositive_baselines` names those metrics, for a caller to say why.
    """
    cols = list(table.columns)
    missing = [c for c in cols if c not in higher_is_better]
    if missing:
        raise ParetokitError(f"no direction given for metric(s) {', '.join(map(str, missing))}")
    if baseline not in table.index:
        raise ParetokitError(
            f"baseline {baseline!r} is not a row of the table; rows: "
            + ", ".join(map(str, table.index))
        )
    values = table[cols].to_numpy(float)
    base = table.loc[baseline, cols].to_numpy(float)
    sign = np.array([-1.0 if higher_is_better[c] else 1.0 for c in cols])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = sign * (values - base) / np.where(base > 0, base, np.nan)
    if tasks is None:
        out = rel.mean(axis=1)
    else:
        groups = [tasks[c] for c in cols]
        per_task = pd.DataFrame(rel, columns=cols).T.groupby(groups, sort=False).mean().T
        out = per_task.to_numpy(float).mean(axis=1)
    return pd.Series(100.0 * out, index=table.index, name="delta_m")


def nonpositive_baselines(table: pd.DataFrame, baseline: str) -> dict[str, float]:
    """The metrics (columns of ``table``) whose value in the row ``baseline`` is finite and
    not positive, with that value: where :func:`delta_m` is undefined because the relative
    change would divide by zero or flip its sign. (A NaN baseline is a missing run, not a
    sign problem, and is left to the caller.)"""
    if baseline not in table.index:
        return {}
    base = table.loc[baseline].astype(float)
    return {str(c): float(v) for c, v in base.items() if np.isfinite(v) and v <= 0}


def mean_rank(table: pd.DataFrame, higher_is_better: Mapping[str, bool]) -> pd.Series:
    """Mean rank (Navon et al., ICML 2022 §6) of the rows of ``table`` (rows = methods,
    columns = metrics): per metric, rank the rows (1 = best in that metric's direction; ties
    share their average rank), then average each row's ranks over the metrics. A NaN metric
    is left out of that row's average."""
    ranks = pd.DataFrame(index=table.index)
    for c in table.columns:
        ranks[c] = table[c].astype(float).rank(method="average", ascending=not higher_is_better[c])
    return ranks.mean(axis=1, skipna=True).rename("mean_rank")
