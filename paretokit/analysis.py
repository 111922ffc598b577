"""Pure analysis of a results table: dominance, the sweep frontier, Δm%, mean rank,
hypervolume, distances of points to a front, and seed statistics.

Every function takes arrays or DataFrames and returns data; nothing here trains or prints.
Directions come from the results file's metadata (``higher_is_better`` per metric); nothing
assumes "lower is better": internally points are mapped to minimization by negating the
higher-is-better metrics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from paretokit.errors import ParetokitError
from paretokit.results import Results


def as_minimization(points: np.ndarray, higher_is_better: Sequence[bool]) -> np.ndarray:
    """Points (N, K) with higher-is-better columns negated, so that lower is better everywhere."""
    sign = np.where(np.asarray(higher_is_better, dtype=bool), -1.0, 1.0)
    return np.asarray(points, dtype=float) * sign


def dominates(a: np.ndarray, b: np.ndarray, higher_is_better: Sequence[bool]) -> bool:
    """Pareto dominance: ``a`` is no worse than ``b`` on every metric and better on one."""
    am, bm = (
        as_minimization(np.atleast_2d(a), higher_is_better)[0],
        as_minimization(np.atleast_2d(b), higher_is_better)[0],
    )
    return bool(np.all(am <= bm) and np.any(am < bm))


def non_dominated(points: np.ndarray, higher_is_better: Sequence[bool]) -> np.ndarray:
    """Boolean mask (n,) of the rows of ``points`` (n, M) that no other row dominates.

    Duplicated points do not dominate each other, so every copy of a frontier point is kept.
    Rows with a NaN or infinite metric are never on the frontier (and dominate nothing).
    """
    p = as_minimization(np.atleast_2d(points), higher_is_better)
    finite = np.isfinite(p).all(axis=1)
    mask = finite.copy()
    q = p[finite]
    for i in np.flatnonzero(finite):
        dominated = np.all(q <= p[i], axis=1) & np.any(q < p[i], axis=1)
        mask[i] = not dominated.any()
    return mask


def dominated_by_any(
    point: np.ndarray, others: np.ndarray, higher_is_better: Sequence[bool]
) -> np.ndarray:
    """Indices of the rows of ``others`` (n, M) that dominate ``point`` (M,)."""
    p = as_minimization(np.atleast_2d(point), higher_is_better)[0]
    o = as_minimization(np.atleast_2d(others), higher_is_better)
    hit = np.all(o <= p, axis=1) & np.any(o < p, axis=1)
    return np.flatnonzero(hit)


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
    Metrics with a zero or NaN baseline give NaN.
    """
    cols = list(table.columns)
    missing = [c for c in cols if c not in higher_is_better]
    if missing:
        raise ValueError(f"no direction given for metric(s) {missing}")
    if baseline not in table.index:
        raise KeyError(f"baseline row {baseline!r} is not in the table")
    values = table[cols].to_numpy(float)
    base = table.loc[baseline, cols].to_numpy(float)
    sign = np.array([-1.0 if higher_is_better[c] else 1.0 for c in cols])
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = sign * (values - base) / np.where(base == 0, np.nan, base)
    if tasks is None:
        out = rel.mean(axis=1)
    else:
        groups = [tasks[c] for c in cols]
        per_task = pd.DataFrame(rel, columns=cols).T.groupby(groups, sort=False).mean().T
        out = per_task.to_numpy(float).mean(axis=1)
    return pd.Series(100.0 * out, index=table.index, name="delta_m")


def delta_m_rows(
    metrics: np.ndarray, baseline: np.ndarray, higher_is_better: Sequence[bool]
) -> np.ndarray | float:
    """Δm% (all-metrics average, as :func:`delta_m`) of metric rows (M,) or (n, M) against the
    baseline vector (M,); a float for one row."""
    m = np.asarray(metrics, dtype=float)
    b = np.asarray(baseline, dtype=float)
    sign = np.where(np.asarray(higher_is_better, dtype=bool), -1.0, 1.0)
    out = 100.0 * (sign * (m - b) / b).mean(axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def mean_rank(table: pd.DataFrame, higher_is_better: Mapping[str, bool]) -> pd.Series:
    """Mean rank (Navon et al., ICML 2022 §6) of the rows of ``table`` (rows = methods,
    columns = metrics): per metric, rank the rows (1 = best in that metric's direction; ties
    share their average rank), then average each row's ranks over the metrics. A NaN metric
    is left out of that row's average."""
    ranks = pd.DataFrame(index=table.index)
    for c in table.columns:
        ranks[c] = table[c].astype(float).rank(method="average", ascending=not higher_is_better[c])
    return ranks.mean(axis=1, skipna=True).rename("mean_rank")


def mean_rank_rows(table: np.ndarray, higher_is_better: Sequence[bool]) -> np.ndarray:
    """:func:`mean_rank` of the rows of an (n, M) array."""
    names = [str(j) for j in range(np.shape(table)[1])]
    frame = pd.DataFrame(np.asarray(table, dtype=float), columns=names)
    return mean_rank(frame, dict(zip(names, higher_is_better))).to_numpy()


# ---------------------------------------------------------------------------------------------
# Hypervolume


def hypervolume(
    points: np.ndarray, reference: np.ndarray, higher_is_better: Sequence[bool]
) -> float:
    """The hypervolume indicator (Zitzler & Thiele 1998): the Lebesgue measure of the region
    that the points dominate and that dominates the reference point,
    ``HV(P; r) = λ( ∪_{p∈P} [p, r] )`` in minimization space.

    Exact for any number of objectives M: M = 1 and 2 in closed form (a sort and a sweep),
    M = 3 by slicing along the third objective (a 2-D hypervolume per slice), M ≥ 4 by the
    WFG algorithm (While, Bradstreet & Barone, IEEE TEVC 2012), which sums the
    points' exclusive contributions ``|[p, r]| − HV(limit(P_after, p))`` recursively down to the
    2-D case. Its cost grows quickly with M and the front size, but fronts here are tens to a
    few hundred points. Points that are NaN, or not strictly better than ``reference`` in every
    metric, add nothing. Directions come from ``higher_is_better`` (reference in the same units).
    """
    p = as_minimization(np.atleast_2d(points), higher_is_better)
    r = as_minimization(np.atleast_2d(reference), higher_is_better)[0]
    if p.size == 0:
        return 0.0
    p = p[np.isfinite(p).all(axis=1) & np.all(p < r, axis=1)]
    if len(p) == 0:
        return 0.0
    p = np.unique(p, axis=0)
    p = p[_front_mask_min(p)]
    return float(_hv_min(p, r))


def _front_mask_min(p: np.ndarray) -> np.ndarray:
    """Non-dominated mask of minimization points without duplicates (all pairs at once)."""
    if len(p) <= 1:
        return np.ones(len(p), dtype=bool)
    le = np.all(p[:, None, :] <= p[None, :, :], axis=2)  # le[i, j]: p_i ≤ p_j everywhere
    lt = np.any(p[:, None, :] < p[None, :, :], axis=2)
    return ~np.any(le & lt, axis=0)  # j is dominated when some i is ≤ everywhere and < once


def _hv_min(p: np.ndarray, r: np.ndarray) -> float:
    """HV of mutually non-dominated minimization points ``p`` (n, M), all strictly below r."""
    n, m = p.shape
    if n == 0:
        return 0.0
    if m == 1:
        return float(r[0] - p[:, 0].min())
    flat = np.ptp(p, axis=0) == 0
    if flat.any():
        # every point shares coordinate c: HV = (r_c − p_c) · HV of the rest. Each WFG limit
        # set below shares the last coordinate, so the recursion loses one dimension per level
        factor = float(np.prod(r[flat] - p[0, flat]))
        if flat.all():
            return factor
        q = np.unique(p[:, ~flat], axis=0)
        return factor * _hv_min(q[_front_mask_min(q)], r[~flat])
    if m == 2:
        return _hv2(p, r)
    if m == 3:  # slices along the third objective, each a 2-D hypervolume
        q = p[np.argsort(p[:, 2], kind="stable")]
        heights = np.diff(np.append(q[:, 2], r[2]))
        return float(sum(_hv2(q[: i + 1, :2], r[:2]) * h for i, h in enumerate(heights) if h > 0))
    # WFG: sort by the last objective (worst first keeps limit sets small), then
    # HV(P) = Σ_i exclusive contribution of p_i w.r.t. p_{i+1..n}.
    q = p[np.argsort(-p[:, -1], kind="stable")]
    total = 0.0
    for i in range(n):
        box = float(np.prod(r - q[i]))
        rest = q[i + 1 :]
        if len(rest):
            limited = np.unique(np.maximum(rest, q[i]), axis=0)
            limited = limited[np.all(limited < r, axis=1)]
            limited = limited[_front_mask_min(limited)]
            box -= _hv_min(limited, r)
        total += box
    return total


def _hv2(p: np.ndarray, r: np.ndarray) -> float:
    """2-D hypervolume of any minimization points strictly below ``r``: sorted by x (then y),
    a point counts only where its y is below every y before it (the staircase)."""
    q = p[np.lexsort((p[:, 1], p[:, 0]))]
    best_before = np.minimum.accumulate(np.concatenate([[r[1]], q[:-1, 1]]))
    q = q[q[:, 1] < best_before]
    widths = np.diff(np.append(q[:, 0], r[0]))
    return float(np.sum(widths * (r[1] - q[:, 1])))


def hypervolume_contribution(
    front: np.ndarray,
    point: np.ndarray,
    reference: np.ndarray,
    higher_is_better: Sequence[bool],
) -> float:
    """``HV(front ∪ {point}) − HV(front)``: the volume only ``point`` adds to ``front``; 0 when
    the front weakly dominates the point (or the point is beyond the reference). Computed as
    the exclusive contribution ``|[p, r]| − HV({max(f, p) : f ∈ front})`` (the WFG step)."""
    p = as_minimization(np.atleast_2d(point), higher_is_better)[0]
    r = as_minimization(np.atleast_2d(reference), higher_is_better)[0]
    if not (np.isfinite(p).all() and np.all(p < r)):
        return 0.0
    f = (
        as_minimization(np.atleast_2d(front), higher_is_better)
        if len(front)
        else np.empty((0, len(p)))
    )
    f = f[np.isfinite(f).all(axis=1)]
    limited = np.unique(np.maximum(f, p), axis=0) if len(f) else f
    limited = limited[np.all(limited < r, axis=1)] if len(limited) else limited
    if len(limited):
        limited = limited[_front_mask_min(limited)]
    return float(np.prod(r - p)) - (float(_hv_min(limited, r)) if len(limited) else 0.0)


# ---------------------------------------------------------------------------------------------
# Normalization, distances to a front, seeds


@dataclass(frozen=True)
class Normalization:
    """An affine map of every metric to minimization with the ideal at 0 and the nadir at 1:
    ``z_j = (s_j m_j − ideal_j) / (nadir_j − ideal_j)`` with ``s_j = −1`` for higher-is-better
    metrics. ``ideal``/``nadir`` are in minimization space (signed metrics). One map is used
    for every row of a report, so hypervolumes and ε-distances are comparable across rows."""

    higher_is_better: tuple[bool, ...]
    ideal: np.ndarray
    nadir: np.ndarray

    @classmethod
    def from_points(cls, points: np.ndarray, higher_is_better: Sequence[bool]) -> Normalization:
        """Ideal and nadir (per-metric best and worst) of the finite rows of ``points``."""
        p = as_minimization(np.atleast_2d(points), higher_is_better)
        p = p[np.isfinite(p).all(axis=1)]
        if len(p) == 0:
            raise ValueError("no finite points to normalize by")
        ideal, nadir = p.min(axis=0), p.max(axis=0)
        return cls(tuple(bool(h) for h in higher_is_better), ideal, nadir)

    @property
    def span(self) -> np.ndarray:
        """``nadir − ideal``; where all points agree on a metric, its absolute value (or 1 at
        0), so that the reference margin stays relative to the metric's size."""
        s = self.nadir - self.ideal
        flat = np.where(np.abs(self.ideal) > 0, np.abs(self.ideal), 1.0)
        return np.where(s > 0, s, flat)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Normalized minimization coordinates of metric rows (n, M) or (M,)."""
        return (as_minimization(np.atleast_2d(points), self.higher_is_better) - self.ideal) / (
            self.span
        )

    def to_metrics(self, z: np.ndarray) -> np.ndarray:
        """The inverse map: normalized minimization coordinates back to metric units."""
        signed = np.atleast_2d(z) * self.span + self.ideal
        return as_minimization(signed, self.higher_is_better)  # the sign flip is its own inverse


def reference_point(norm: Normalization, margin: float = 0.1) -> np.ndarray:
    """The default hypervolume reference in normalized coordinates: the nadir plus
    ``margin`` of each metric's range (``1 + margin`` where the points span a range, so that
    boundary points still count; ``margin`` of the value itself where they all agree)."""
    return (norm.nadir - norm.ideal) / norm.span + margin


def epsilon_indicator(
    point: np.ndarray, front: np.ndarray, higher_is_better: Sequence[bool]
) -> float:
    """Additive ε-indicator of ``point`` against ``front`` (Zitzler et al., IEEE TEVC 2003),
    ``ε = min_{f ∈ front} max_j (f_j − p_j)`` in minimization space (normalize first).

    ε ≤ 0 exactly when some front point weakly dominates ``point`` (no worse in any metric).
    ε < 0: some front point is better by at least |ε| in every metric — every metric of
    ``point`` must improve by |ε| for it to reach the front. ε = 0: the best front point is
    no worse anywhere and equal in at least one metric (it may still be strictly better in
    the others, i.e. dominate ``point``). ε > 0: ``point`` lies beyond the front; every front
    point would have to improve by ε in some metric to weakly dominate it. ``inf`` for an
    empty front.
    """
    return float(epsilon_trace(point, front, higher_is_better)[-1]) if len(front) else math.inf


def epsilon_trace(
    point: np.ndarray, ordered: np.ndarray, higher_is_better: Sequence[bool]
) -> np.ndarray:
    """ε of ``point`` against the first 1, 2, …, n rows of ``ordered`` (n, M): the running
    minimum of ``max_j (f_j − p_j)``, since dominated front points never lower it. NaN rows
    are skipped (they keep the previous value)."""
    p = as_minimization(np.atleast_2d(point), higher_is_better)[0]
    o = as_minimization(np.atleast_2d(ordered), higher_is_better)
    gap = np.max(o - p, axis=1)
    gap = np.where(np.isfinite(gap), gap, np.inf)
    return np.minimum.accumulate(gap)


@dataclass(frozen=True)
class SeedSummary:
    """Mean, sample standard deviation and 95% confidence half-width (Student t, n − 1
    degrees of freedom; NaN for one seed) of each metric over seeds."""

    n: int
    mean: np.ndarray
    std: np.ndarray
    ci95: np.ndarray


def summarize_seeds(values: np.ndarray) -> SeedSummary:
    """Summarize per-seed metric rows (n_seeds, M); NaN rows (failed seeds) are dropped."""
    v = np.atleast_2d(np.asarray(values, dtype=float))
    v = v[np.isfinite(v).all(axis=1)]
    n = len(v)
    m = v.shape[1]
    if n == 0:
        nan = np.full(m, np.nan)
        return SeedSummary(0, nan, nan, nan)
    mean = v.mean(axis=0)
    if n == 1:
        return SeedSummary(1, mean, np.full(m, np.nan), np.full(m, np.nan))
    std = v.std(axis=0, ddof=1)
    half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return SeedSummary(n, mean, std, half)


def sweep_points(results: Results, split: str, study: str | None = None) -> pd.DataFrame:
    """Finished sweep rows of ``split`` (optionally of one study)."""
    df = results.ok(split=split, kind="sweep")
    if study is not None:
        df = df[df["study"] == study]
    return df.reset_index(drop=True)


def sweep_frontier(results: Results, split: str, study: str | None = None) -> pd.DataFrame:
    """The non-dominated sweep rows of ``split`` on the primary metrics, sorted by the first
    metric (best first)."""
    df = sweep_points(results, split, study)
    if df.empty:
        return df
    hib = [t.higher_is_better for t in results.meta.tasks]
    mask = non_dominated(df[results.metric_columns()].to_numpy(), hib)
    front = df[mask]
    first = results.metric_columns()[0]
    return front.sort_values(first, ascending=not hib[0]).reset_index(drop=True)


SETTING_KEYS = ("problem", "epochs", "batch_size", "lr")


def training_settings(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """The training settings (problem, epochs, batch size, lr) present in ``rows``, in order of
    first appearance: runs are comparable only within one setting."""
    if rows.empty:
        return []
    return rows[list(SETTING_KEYS)].drop_duplicates().to_dict(orient="records")


def choose_setting(rows: pd.DataFrame, wanted: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The one training setting of ``rows`` that matches ``wanted`` (a subset of epochs,
    batch_size, lr; None values ignored). A clear error when none or several match."""
    wanted = {k: v for k, v in (wanted or {}).items() if v is not None}
    matches = [s for s in training_settings(rows) if all(s[k] == v for k, v in wanted.items())]
    if len(matches) == 1:
        return matches[0]
    listed = "; ".join(
        f"epochs={s['epochs']} batch_size={s['batch_size']} lr={s['lr']:g}"
        for s in (matches or training_settings(rows))
    )
    if not matches:
        raise ParetokitError(f"no runs with {wanted}; the file holds: {listed}")
    raise ParetokitError(
        f"the file holds {len(matches)} training settings ({listed}); "
        "choose one with --epochs, --batch-size and --lr"
    )


def setting_rows(
    frame: pd.DataFrame, setting: dict[str, Any], kind: str | None = None
) -> pd.DataFrame:
    """Rows trained under ``setting`` (problem, epochs, batch size, lr), optionally of one kind."""
    mask = (
        (frame["problem"] == setting["problem"])
        & (frame["epochs"] == setting["epochs"])
        & (frame["batch_size"] == setting["batch_size"])
        & (frame["lr"] == setting["lr"])
    )
    if kind is not None:
        mask &= frame["kind"] == kind
    return frame[mask]


def stl_baseline(
    results: Results, split: str, setting: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Per task: the STL metric (mean and std over seeds of the run trained on that task
    alone, ``method == "stl:<task>"``) and the number of seeds; tasks without STL runs absent."""
    df = results.ok(split=split, kind="stl")
    if setting is not None:
        df = setting_rows(df, setting)
    out = {}
    for t in results.meta.task_names:
        vals = df.loc[df["method"] == f"stl:{t}", f"metric.{t}"]
        if len(vals):
            out[t] = {
                "mean": float(vals.mean()),
                "std": float(vals.std(ddof=1)) if len(vals) > 1 else math.nan,
                "seeds": len(vals),
            }
    return pd.DataFrame.from_dict(out, orient="index")


def compare_table(
    results: Results, setting: dict[str, Any], labels: Sequence[str], split: str = "test"
) -> pd.DataFrame:
    """The comparison of methods under one setting on ``split``, one row per method plus STL.

    Columns: ``method``, ``seeds``, per task ``<task>`` (mean over seeds) and ``<task>.std``,
    ``delta_m`` (Δm% of the mean point against the STL means; NaN without STL runs),
    ``mean_rank`` (among the rows of this table, STL included as in Navon et al. 2022),
    ``dominated`` (seeds whose point some sweep point of the same setting dominates, as
    "d/n"; "" without a sweep; "-" for STL, which is K separate models, not one point), ``dominating_sweep_points`` (how many sweep points dominate
    the mean point), ``step_ms`` and ``train_seconds`` (means over seeds).
    """
    tasks = results.meta.task_names
    hib = [t.higher_is_better for t in results.meta.tasks]
    cols = results.metric_columns()
    rows_all = setting_rows(results.ok(split=split), setting)
    sweep = rows_all[rows_all["kind"] == "sweep"][cols].to_numpy(float)
    stl = stl_baseline(results, split, setting)
    base = np.array([stl.loc[t, "mean"] if t in stl.index else np.nan for t in tasks])
    records = []
    if len(stl) == len(tasks):
        stl_runs = rows_all[rows_all["kind"] == "stl"]
        rec: dict[str, Any] = {"method": "stl", "seeds": int(stl["seeds"].min())}
        for t in tasks:
            rec[t], rec[f"{t}.std"] = stl.loc[t, "mean"], stl.loc[t, "std"]
        rec.update(
            delta_m=0.0,
            dominated="-",
            dominating_sweep_points=np.nan,
            step_ms=float(stl_runs["step_ms"].mean()),
            train_seconds=float(stl_runs["train_seconds"].sum() / stl["seeds"].min()),
        )
        records.append(rec)
    for label in labels:
        runs = rows_all[(rows_all["kind"] == "method") & (rows_all["method"] == label)]
        if runs.empty:
            continue
        points = runs[cols].to_numpy(float)
        mean = points.mean(axis=0)
        rec = {"method": label, "seeds": len(runs)}
        for k, t in enumerate(tasks):
            rec[t] = mean[k]
            rec[f"{t}.std"] = float(points[:, k].std(ddof=1)) if len(points) > 1 else np.nan
        rec["delta_m"] = delta_m_rows(mean, base, hib) if np.isfinite(base).all() else np.nan
        if len(sweep):
            hit = sum(len(dominated_by_any(p, sweep, hib)) > 0 for p in points)
            rec["dominated"] = f"{hit}/{len(points)}"
            rec["dominating_sweep_points"] = len(dominated_by_any(mean, sweep, hib))
        else:
            rec["dominated"], rec["dominating_sweep_points"] = "", np.nan
        rec["step_ms"] = float(runs["step_ms"].mean())
        rec["train_seconds"] = float(runs["train_seconds"].mean())
        records.append(rec)
    table = pd.DataFrame.from_records(records)
    if not table.empty:
        table.insert(
            len(table.columns) - 4, "mean_rank", mean_rank_rows(table[tasks].to_numpy(float), hib)
        )
    return table
