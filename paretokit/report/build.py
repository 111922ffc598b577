"""The one verdict table: every method of a results file against the sweep front.

Built only from the results file (any valid one: sweep rows only, method rows only, both),
one :class:`Report` per training setting. The protocol (DESIGN.md, "Analysis definitions"):

- **Trials and seeds.** A sweep trial is one weight vector (``study``, ``trial``); it is
  trained with seeds 0 … S−1, and seed s of a method is paired with seed s of every trial
  (same initialization and data order). Trials lacking one of the sweep's seeds are left out
  (and said so); a method seed that no trial has is reported, never paired with another seed.
- **Choose on validation, judge on test.** The front is the set of trials non-dominated on the
  validation split's seed means; the methods are judged against those trials' metrics on the
  report's split (test by default), seed by seed.
- **A verdict with an interval.** Per method and paired seed s, ε_s is the additive
  ε-indicator of the method's seed-s point against the chosen trials' seed-s points
  (:mod:`paretokit.analysis.paired`); the outcome ``dominated`` / ``beyond`` /
  ``within_noise`` comes from the Student-t 95% interval of the mean ε, against 0 and against
  the sweep's resolution δ (:mod:`paretokit.analysis.seeds`; fewer than two paired seeds:
  ``within_noise``). The same for the hypervolume contribution, in % of the seed's front
  hypervolume.
- **What the sweep would have cost** to match each method, over 1,000 seeded random orders
  of the trials (:mod:`paretokit.analysis.cost`).
- Per-task metrics (mean, std, 95% t-interval over seeds), Δm% against the STL baseline and
  the mean rank, all on the report's split.

Hypervolume and ε use one normalization for the whole report: each metric is mapped to
minimization and scaled so that the ideal and nadir of all the split's points (every trial's
seeds, every method's seeds, the STL point) are 0 and 1; the hypervolume reference is the
nadir plus ``margin`` of each range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from paretokit import analysis
from paretokit.analysis.cost import DEFAULT_ORDERS, CostToMatch
from paretokit.analysis.hypervolume import is_estimated
from paretokit.analysis.seeds import MIN_SEEDS
from paretokit.errors import ParetokitError
from paretokit.report.front import SWEEP_GROUP, FrontReach, front_reach
from paretokit.results import SPLITS, Results, TaskMeta

CHOICE_SPLIT = "val"
ORDERS_SEED = 0


@dataclass(frozen=True)
class Note:
    """Something the reader must know: ``code`` says what (no_sweep, no_methods, no_stl,
    no_baseline, delta_m_undefined, single_seed, unpaired, incomplete_trials, nan_metric,
    failed_runs, hypervolume_estimated), so that a caller can add its own advice; ``text`` says it in a sentence."""

    code: str
    text: str


@dataclass
class SweepSummary:
    """The sweep side of a report."""

    trials: int  # weight vectors with every seed finished on both splits
    seeds: list[int]  # the sweep's training seeds
    front_size: int  # trials chosen (non-dominated on the choice split's seed means)
    hypervolume: float  # mean over seeds of the chosen trials' HV, normalized units
    resolution: float  # δ: how far its interior points lie beyond the rest (ε units)
    seconds: float  # training seconds of all those trials, every seed
    front: pd.DataFrame  # chosen trials: study, trial, w.*, judged-split seed-mean metrics
    table: pd.DataFrame  # every trial: study, trial, chosen, w.*, seed-mean metrics (judged)


@dataclass
class Report:
    """One setting's report: methods judged on ``split``, the front chosen on
    ``choice_split``."""

    problem: str
    split: str
    choice_split: str
    setting: dict[str, Any]
    tasks: list[TaskMeta]
    baseline: str
    ideal: list[float]  # per metric, in the metric's units (best value seen)
    nadir: list[float]  # per metric, in the metric's units (worst value seen)
    reference: list[float]  # the hypervolume reference point, in the metric's units
    margin: float
    orders: int  # random trial orders behind the cost to match
    sweep: SweepSummary | None
    methods: pd.DataFrame  # one row per method (STL first when present)
    per_seed: pd.DataFrame  # one row per (method, seed): metrics, paired, dominated, ε, HV %
    notes: list[Note] = field(default_factory=list)
    # problems with a known Pareto front (toy): which runs end on it (report.front)
    front: FrontReach | None = None


def build_reports(
    results: Results,
    split: str = "test",
    baseline: str = "stl",
    margin: float = 0.1,
    setting: dict[str, Any] | None = None,
    orders: int = DEFAULT_ORDERS,
) -> list[Report]:
    """One :class:`Report` per training setting present in ``results`` (only ``setting``'s,
    when given), methods judged on ``split``, the front chosen on the validation split."""
    if split not in SPLITS:
        raise ParetokitError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if not (math.isfinite(margin) and margin > 0):
        raise ParetokitError(f"the reference margin must be a positive finite number, got {margin}")
    if orders < 1:
        raise ParetokitError(f"the number of trial orders must be at least 1, got {orders}")
    rows = results.ok()
    if rows[rows["split"] == split].empty:
        raise ParetokitError(f"the results file has no finished runs on the {split!r} split")
    failed = results.frame[(results.frame["split"] == split) & (results.frame["status"] != "ok")]
    settings = analysis.training_settings(rows[rows["split"] == split])
    if setting is not None:
        settings = [s for s in settings if _matches(s, setting)]
        if not settings:
            raise ParetokitError(
                f"no finished runs with {analysis.describe_setting(setting)} on {split!r}"
            )
    reports = []
    for s in settings:
        r = _report(results, analysis.setting_rows(rows, s), split, s, baseline, margin, orders)
        n_failed = len(analysis.setting_rows(failed, s)) if len(failed) else 0
        if n_failed:
            r.notes.append(
                Note("failed_runs", f"{n_failed} failed run(s) not shown (status failed)")
            )
        reports.append(r)
    return reports


def restrict(report: Report, labels: list[str]) -> Report:
    """The report with only the STL row and the methods ``labels`` (numbers unchanged: the
    normalization, front and mean ranks stay those of the whole setting)."""
    keep = ["stl", *labels]
    methods = report.methods[report.methods["method"].isin(keep)].reset_index(drop=True)
    per_seed = report.per_seed
    if not per_seed.empty:
        per_seed = per_seed[per_seed["method"].isin(labels)].reset_index(drop=True)
    front = report.front
    if front is not None:
        groups = front.groups[_kept(front.groups["group"], labels)]
        runs = front.runs[_kept(front.runs["group"], labels)]
        front = replace(
            front, groups=groups.reset_index(drop=True), runs=runs.reset_index(drop=True)
        )
    return replace(report, methods=methods, per_seed=per_seed, front=front)


def _kept(groups: pd.Series, labels: list[str]) -> pd.Series:
    return groups.isin([SWEEP_GROUP, *labels]) | groups.astype(str).str.startswith("stl")


def _matches(s: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(s[k] == v for k, v in wanted.items() if k in s)


@dataclass
class _Trials:
    """Complete sweep trials in normalized coordinates."""

    table: pd.DataFrame  # one row per trial: study, trial, w.*, seed-mean metrics (judged)
    seeds: list[int]
    choose: np.ndarray  # (N, M) seed means on the choice split, normalized
    judge: np.ndarray  # (N, S, M) per seed on the judged split, normalized
    seconds: np.ndarray  # (N,)


def _report(
    results: Results,
    rows: pd.DataFrame,
    split: str,
    setting: dict[str, Any],
    baseline: str,
    margin: float,
    n_orders: int,
) -> Report:
    """The report of one training setting's ``rows`` judged on ``split``: the sweep's front
    chosen on validation, each method's record against it and STL, and the notes."""
    tasks = list(results.meta.tasks)
    names = [t.name for t in tasks]
    cols = results.metric_columns()
    hib = [t.higher_is_better for t in tasks]
    notes: list[Note] = []
    rows, n_bad = _finite_rows(rows, cols, split, notes)
    here = rows[rows["split"] == split]
    method_rows = here[here["kind"] == "method"]
    stl = analysis.stl_summary(here[here["kind"] == "stl"], names)
    labels = list(dict.fromkeys(method_rows["method"]))
    method_points = {
        label: _per_seed(method_rows[method_rows["method"] == label], cols) for label in labels
    }
    sweep_choice = rows[(rows["split"] == CHOICE_SPLIT) & (rows["kind"] == "sweep")]
    raw = _trial_arrays(here[here["kind"] == "sweep"], sweep_choice, names, notes)
    norm = _normalization(method_points, raw, stl, hib, split, n_bad)
    ref_z = analysis.reference_point(norm, margin)
    trials = _normalized_trials(raw, norm) if raw is not None else None
    summary, chosen, front_hv = _sweep_summary(trials, ref_z, names, cols, notes)
    _absence_notes(notes, trials, labels)
    judged = _Judged(trials, chosen, ref_z, summary, front_hv)
    records, seed_records, gap_sets, gap_owner, unpaired = _method_records(
        method_rows, method_points, stl, names, norm, judged
    )
    if trials is not None and gap_sets:
        _add_costs(records, trials, gap_sets, gap_owner, summary.resolution, n_orders)
    _pairing_notes(notes, unpaired, trials, labels)
    table = _method_table(records, summary, names, hib, baseline, notes, here, n_orders)
    return Report(
        problem=str(setting["problem"]),
        split=split,
        choice_split=CHOICE_SPLIT,
        setting=dict(setting),
        tasks=tasks,
        baseline=baseline,
        ideal=norm.to_metrics(np.zeros(len(cols)))[0].tolist(),
        nadir=norm.to_metrics(np.ones(len(cols)))[0].tolist(),
        reference=norm.to_metrics(ref_z)[0].tolist(),
        margin=margin,
        orders=n_orders,
        sweep=summary,
        methods=table,
        per_seed=pd.DataFrame.from_records(seed_records),
        notes=notes,
        front=front_reach(here, results.meta),
    )


def _finite_rows(
    rows: pd.DataFrame, cols: list[str], split: str, notes: list[Note]
) -> tuple[pd.DataFrame, int]:
    """The rows that are points, and how many judged runs were left out. A sweep or method run
    is a point when all K metrics are finite; an STL run of task k counts for task k only (it
    is the single-task model's metric)."""
    finite = np.isfinite(rows[cols].to_numpy(float)).all(axis=1) | (rows["kind"] == "stl")
    bad = int(((rows["split"] == split) & ~finite).sum())
    if bad:
        notes.append(Note("nan_metric", f"{bad} finished run(s) with a NaN metric left out"))
    return rows[finite], bad


def _normalization(
    method_points: dict[str, tuple[list[int], np.ndarray]],
    raw: tuple | None,
    stl: Any,
    hib: list[bool],
    split: str,
    n_bad: int,
) -> analysis.Normalization:
    """Ideal 0 and nadir 1 over every point reported: method seeds, sweep trials, STL."""
    stacked = [p for _, p in method_points.values()]
    if raw is not None:
        stacked.append(raw[2].reshape(-1, len(hib)))
    if stl is not None:
        stacked.append(stl.mean[None, :])
    if not any(len(p) for p in stacked):
        raise ParetokitError(
            f"no finished run of the {split} split has a finite value of every metric "
            f"({n_bad} run(s) with NaN or inf), nothing to report"
        )
    return analysis.Normalization.from_points(np.vstack(stacked), hib)


def _normalized_trials(raw: tuple, norm: analysis.Normalization) -> _Trials:
    table, seeds, judge, choose, seconds = raw
    m = judge.shape[-1]
    return _Trials(
        table,
        seeds,
        norm(choose.reshape(-1, m)).reshape(choose.shape),
        norm(judge.reshape(-1, m)).reshape(judge.shape),
        seconds,
    )


@dataclass
class _Judged:
    """What a method is judged against: the sweep's trials, its chosen front, the reference."""

    trials: _Trials | None
    chosen: Any
    ref_z: np.ndarray
    summary: Any
    front_hv: np.ndarray  # HV of the chosen front, per sweep seed


def _method_records(
    method_rows: pd.DataFrame,
    method_points: dict[str, tuple[list[int], np.ndarray]],
    stl: Any,
    names: list[str],
    norm: analysis.Normalization,
    judged: _Judged,
) -> tuple[list[dict], list[dict], list, list[int], list[str]]:
    """The table's rows (STL first), the per-seed rows, each paired method's gaps to the sweep
    with the index of its row, and the methods' seeds that the sweep did not train."""
    records: list[dict[str, Any]] = []
    seed_records: list[dict[str, Any]] = []
    if stl is not None:
        rec = _metric_cells("stl", stl, names)
        rec.update(train_seconds=stl.seconds, step_ms=stl.step_ms)
        records.append(rec)
    gap_sets, gap_owner, unpaired = [], [], []
    for label, (seeds_m, points) in method_points.items():
        runs = method_rows[method_rows["method"] == label]
        rec, per_seed, gaps, missing = _method_record(
            label, runs, seeds_m, points, names, norm, judged
        )
        if missing:
            unpaired.append(f"{label} seed(s) {', '.join(map(str, missing))}")
        if gaps is not None:
            gap_sets.append(gaps)
            gap_owner.append(len(records))
        seed_records += _seed_records(label, seeds_m, points, names, per_seed)
        records.append(rec)
    return records, seed_records, gap_sets, gap_owner, unpaired


def _method_record(
    label: str,
    runs: pd.DataFrame,
    seeds_m: list[int],
    points: np.ndarray,
    names: list[str],
    norm: analysis.Normalization,
    judged: _Judged,
) -> tuple[dict[str, Any], dict[int, dict[str, Any]], Any, list[int]]:
    """One method's row, its per-seed verdict cells, its gaps to the sweep's trials (for the
    cost to match; None without paired seeds) and its seeds the sweep did not train."""
    rec = _metric_cells(label, analysis.summarize_seeds(points), names)
    rec.update(
        train_seconds=float(runs["train_seconds"].mean()),
        step_ms=float(runs["step_ms"].mean()),
    )
    per_seed: dict[int, dict[str, Any]] = {s: {"paired": False} for s in seeds_m}
    trials = judged.trials
    if trials is None:
        return rec, per_seed, None, []
    paired = [s for s in seeds_m if s in trials.seeds]
    unpaired = [s for s in seeds_m if s not in trials.seeds]
    rec["paired_seeds"] = len(paired)
    if not paired:
        return rec, per_seed, None, unpaired
    idx = [trials.seeds.index(s) for s in paired]
    mz = norm(points)[[seeds_m.index(s) for s in paired]]
    v = analysis.paired_verdict(
        trials.judge[:, idx],
        judged.chosen,
        mz,
        judged.ref_z,
        judged.summary.resolution,
        front_hypervolume=judged.front_hv[idx],
    )
    _verdict_cells(rec, v)
    for k, s in enumerate(paired):
        per_seed[s] = {
            "paired": True,
            "dominated": bool(v.dominated[k]),
            "epsilon": float(v.epsilon[k]),
            "hv_contribution_pct": float(v.hv_contribution_pct[k]),
        }
    return rec, per_seed, analysis.gaps(trials.judge[:, idx], mz), unpaired


def _seed_records(
    label: str,
    seeds_m: list[int],
    points: np.ndarray,
    names: list[str],
    per_seed: dict[int, dict[str, Any]],
) -> list[dict[str, Any]]:
    out = []
    for s, point in zip(seeds_m, points):
        srec: dict[str, Any] = {"method": label, "seed": int(s)}
        srec.update({t: float(v) for t, v in zip(names, point)})
        srec.update(per_seed[s])
        out.append(srec)
    return out


def _absence_notes(notes: list[Note], trials: _Trials | None, labels: list[str]) -> None:
    """Say when the setting has no sweep (unless a note already said why) or no methods."""
    if trials is None and not any(n.code == "no_sweep" for n in notes):
        notes.append(Note("no_sweep", "no sweep runs for this setting: no front to judge against"))
    if not labels:
        notes.append(Note("no_methods", "no method runs for this setting"))


def _add_costs(
    records: list[dict[str, Any]],
    trials: _Trials,
    gap_sets: list[np.ndarray],
    gap_owner: list[int],
    resolution: float,
    n_orders: int,
) -> None:
    """Each gap set's cost for the sweep to match it (:func:`paretokit.analysis.cost_to_match`
    over ``n_orders`` random trial orders) into the cells of the method record that owns it."""
    orders = analysis.random_orders(len(trials.seconds), n_orders, ORDERS_SEED)
    costs = analysis.cost_to_match(trials.choose, gap_sets, trials.seconds, orders, resolution)
    for owner, cost in zip(gap_owner, costs):
        _cost_cells(records[owner], cost)


def _pairing_notes(
    notes: list[Note], unpaired: list[str], trials: _Trials | None, labels: list[str]
) -> None:
    if unpaired:
        notes.append(
            Note(
                "unpaired",
                "no sweep runs with the same seed for "
                + "; ".join(unpaired)
                + ": reported per seed, left out of the verdict",
            )
        )
    if trials is not None and len(trials.seeds) < MIN_SEEDS and labels:
        notes.append(
            Note(
                "single_seed",
                f"the sweep trained {len(trials.seeds)} seed per trial: a verdict needs at "
                f"least {MIN_SEEDS} paired seeds, so every outcome is within_noise and the "
                "cost to match is not computed",
            )
        )


def _method_table(
    records: list[dict[str, Any]],
    summary: Any,
    names: list[str],
    hib: list[bool],
    baseline: str,
    notes: list[Note],
    here: pd.DataFrame,
    n_orders: int,
) -> pd.DataFrame:
    """The methods' table: metric cells, verdict columns (empty without a sweep), Δm%, mean
    rank and the verdict sentence."""
    table = pd.DataFrame.from_records(records)
    if table.empty:
        return table
    if summary is not None:
        for col in VERDICT_COLUMNS:
            if col not in table.columns:
                table[col] = None if col in ("outcome",) else math.nan
    table = _add_delta_m_and_rank(
        table, names, hib, baseline, notes, _stl_missing(here[here["kind"] == "stl"], names)
    )
    table["verdict"] = [verdict_text(r, summary, n_orders) for r in table.to_dict("records")]
    return table


VERDICT_COLUMNS = (
    "paired_seeds",
    "outcome",
    "epsilon",
    "epsilon_ci95_low",
    "epsilon_ci95_high",
    "hv_contribution",
    "hv_contribution_pct",
    "hv_contribution_pct_ci95_low",
    "hv_contribution_pct_ci95_high",
    "dominated_seeds",
    "trials_to_match_median",
    "trials_to_match_q25",
    "trials_to_match_q75",
    "seconds_to_match_median",
    "seconds_to_match_q25",
    "seconds_to_match_q75",
    "never_matched_share",
)


def _per_seed(runs: pd.DataFrame, cols: list[str]) -> tuple[list[int], np.ndarray]:
    """A method's seeds (sorted) and its metric rows, one per seed (a seed run twice, e.g.
    in two merged files, counts once: the mean of its rows)."""
    by_seed = runs.groupby("seed", sort=True)[cols].mean()
    return [int(s) for s in by_seed.index], by_seed.to_numpy(float)


def _trial_arrays(
    judge_rows: pd.DataFrame, choice_rows: pd.DataFrame, names: list[str], notes: list[Note]
) -> tuple[pd.DataFrame, list[int], np.ndarray, np.ndarray, np.ndarray] | None:
    """Per complete trial (every sweep seed finished, on both splits): its table row, the
    sweep's seeds, per-seed judged points (N, S, M), seed-mean choice points (N, M) and the
    training seconds of all its seeds (N,)."""
    if judge_rows.empty:
        return None
    cols = [f"metric.{t}" for t in names]
    key = ["study", "trial"]
    seeds = sorted(int(s) for s in judge_rows["seed"].unique())
    judge = judge_rows.groupby([*key, "seed"])[cols].mean()
    choice = choice_rows.groupby([*key, "seed"])[cols].mean()
    secs = judge_rows.groupby([*key, "seed"])["train_seconds"].mean()
    keys = list(dict.fromkeys(map(tuple, judge_rows[key].to_numpy().tolist())))
    complete = []
    for k in keys:
        wanted = [(*k, s) for s in seeds]
        if all(w in judge.index for w in wanted) and all(w in choice.index for w in wanted):
            complete.append(k)
    left_out = len(keys) - len(complete)
    if left_out:
        notes.append(
            Note(
                "incomplete_trials",
                f"{left_out} sweep trial(s) lack a finished run of some seed "
                f"({', '.join(map(str, seeds))}) on {CHOICE_SPLIT!r} or the judged split: "
                "left out",
            )
        )
    if not complete:
        notes.append(Note("no_sweep", "no complete sweep trial for this setting"))
        return None
    n, s_count, m = len(complete), len(seeds), len(cols)
    idx = pd.MultiIndex.from_tuples([(*k, s) for k in complete for s in seeds])
    judge_arr = judge.loc[idx].to_numpy(float).reshape(n, s_count, m)
    choice_arr = choice.loc[idx].to_numpy(float).reshape(n, s_count, m).mean(axis=1)
    seconds = secs.loc[idx].to_numpy(float).reshape(n, s_count).sum(axis=1)
    weights = [f"w.{t}" for t in names]
    first = judge_rows.drop_duplicates(key).set_index(key).loc[complete, weights]
    table = pd.DataFrame(
        {
            "study": [k[0] for k in complete],
            "trial": [int(k[1]) for k in complete],
            **{w: first[w].to_numpy(float) for w in weights},
            **{c: judge_arr[:, :, j].mean(axis=1) for j, c in enumerate(cols)},
            **{f"{CHOICE_SPLIT}.{c}": choice_arr[:, j] for j, c in enumerate(cols)},
            "train_seconds": seconds,
        }
    )
    return table, seeds, judge_arr, choice_arr, seconds


def _sweep_summary(
    trials: _Trials | None, ref_z: np.ndarray, names: list[str], cols: list[str], notes: list[Note]
) -> tuple[SweepSummary | None, np.ndarray, np.ndarray]:
    """The sweep's summary, its chosen trials, and the chosen front's HV per seed (S,)."""
    if trials is None:
        return None, np.zeros(0, dtype=bool), np.zeros(0)
    chosen = analysis.chosen_trials(trials.choose)
    minimize = [False] * len(cols)
    if is_estimated(len(cols), int(chosen.sum())):
        notes.append(
            Note(
                "hypervolume_estimated",
                f"hypervolumes (the sweep's and each method's HV +%) are Monte Carlo estimates "
                f"for {len(cols)} metrics and {int(chosen.sum())} front trials: 2^17 seeded "
                f"samples per value (the exact computation grows exponentially with the number "
                f"of metrics); ε and the outcomes are exact",
            )
        )
    hv = np.array(
        [
            analysis.hypervolume(trials.judge[chosen, s, :], ref_z, minimize)
            for s in range(len(trials.seeds))
        ]
    )
    table = trials.table.copy()
    table.insert(2, "chosen", chosen)
    front = table[chosen].drop(columns="chosen").reset_index(drop=True)
    summary = SweepSummary(
        trials=len(table),
        seeds=list(trials.seeds),
        front_size=int(chosen.sum()),
        hypervolume=float(np.mean(hv)),
        resolution=analysis.resolution(trials.judge, chosen, trials.choose),
        seconds=float(trials.seconds.sum()),
        front=front,
        table=table,
    )
    return summary, chosen, hv


def _metric_cells(label: str, stats: Any, names: list[str]) -> dict[str, Any]:
    rec: dict[str, Any] = {"method": label, "seeds": int(stats.n)}
    for k, t in enumerate(names):
        rec[t] = float(stats.mean[k])
        rec[f"{t}.std"] = float(stats.std[k])
        rec[f"{t}.ci95"] = float(stats.ci95[k])
    return rec


def _verdict_cells(rec: dict[str, Any], v: analysis.PairedVerdict) -> None:
    rec.update(
        outcome=v.outcome,
        epsilon=v.epsilon_mean,
        epsilon_ci95_low=v.epsilon_ci95[0],
        epsilon_ci95_high=v.epsilon_ci95[1],
        hv_contribution=float(np.mean(v.hv_contribution)),
        hv_contribution_pct=v.hv_pct_mean,
        hv_contribution_pct_ci95_low=v.hv_pct_ci95[0],
        hv_contribution_pct_ci95_high=v.hv_pct_ci95[1],
        dominated_seeds=int(v.dominated.sum()),
    )


def _cost_cells(rec: dict[str, Any], cost: CostToMatch | None) -> None:
    if cost is None:
        return
    rec.update(
        trials_to_match_median=cost.trials_median,
        trials_to_match_q25=cost.trials_iqr[0],
        trials_to_match_q75=cost.trials_iqr[1],
        seconds_to_match_median=cost.seconds_median,
        seconds_to_match_q25=cost.seconds_iqr[0],
        seconds_to_match_q75=cost.seconds_iqr[1],
        never_matched_share=cost.never_share,
    )


def _stl_missing(stl_rows: pd.DataFrame, names: list[str]) -> str:
    """Why there is no STL baseline: no runs, or runs whose own task's metric is not finite."""
    if stl_rows.empty:
        return "no STL runs for this setting"
    bad = []
    for t in names:
        v = stl_rows.loc[stl_rows["method"] == f"stl:{t}", f"metric.{t}"].to_numpy(float)
        if not np.isfinite(v).any():
            bad.append(f"{t} ({'no run' if not len(v) else ', '.join(map(str, v[:3]))})")
    return "no finite STL metric for task(s) " + "; ".join(bad)


def _add_delta_m_and_rank(
    table: pd.DataFrame,
    names: list[str],
    hib: list[bool],
    baseline: str,
    notes: list[Note],
    stl_missing: str = "no STL runs for this setting",
) -> pd.DataFrame:
    directions = dict(zip(names, hib))
    metrics = table.set_index("method")[names]
    if baseline in metrics.index:
        table["delta_m"] = analysis.delta_m(metrics, baseline, directions).to_numpy()
        nonpositive = analysis.nonpositive_baselines(metrics, baseline)
        if nonpositive:
            notes.append(Note("delta_m_undefined", _delta_m_undefined(baseline, nonpositive)))
    else:
        table["delta_m"] = math.nan
        if baseline == "stl":
            notes.append(Note("no_stl", f"{stl_missing}: Δm% not available"))
        else:
            notes.append(
                Note("no_baseline", f"baseline {baseline!r} has no runs: Δm% not available")
            )
    table["mean_rank"] = analysis.mean_rank(metrics, directions).to_numpy()
    return table


def _delta_m_undefined(baseline: str, values: dict[str, float]) -> str:
    """Why Δm% is not shown: which tasks' baseline values are not positive."""
    who = "STL" if baseline == "stl" else repr(baseline)
    cells = " and ".join(f"{t} ({v:.4g})" for t, v in values.items())
    return (
        f"Δm% left out (n/a): {who}'s {cells} {'is' if len(values) == 1 else 'are'} not "
        "positive, and a change relative to a value ≤ 0 is undefined or has its sign flipped; "
        "the mean rank needs no positive values and stays"
    )


OUTCOME_TEXT = {
    "beyond": "beyond the sweep front",
    "dominated": "dominated by the sweep front",
    "within_noise": "within seed noise of the sweep front",
}


def verdict_text(row: dict[str, Any], sweep: SweepSummary | None, orders: int) -> str:
    """One sentence per method, built from its outcome and the numbers behind it."""
    if row["method"] == "stl":
        return "baseline: one single-task model per task"
    if sweep is None:
        return "no sweep to compare with"
    paired = int(row.get("paired_seeds") or 0)
    if paired == 0:
        return "no seed paired with a sweep seed: no verdict"
    eps = f"ε {row['epsilon']:+.3f}"
    if paired < MIN_SEEDS:
        return (
            f"within noise: one paired seed ({eps}, no interval); "
            f"a verdict needs {MIN_SEEDS} or more"
        )
    lo, hi = row["epsilon_ci95_low"], row["epsilon_ci95_high"]
    within_resolution = row["outcome"] == "within_noise" and lo > 0
    head = (
        "within the sweep's resolution of its front"
        if within_resolution
        else OUTCOME_TEXT[row["outcome"]]
    )
    text = f"{head} ({eps}, 95% CI [{lo:+.3f}, {hi:+.3f}], {paired} paired seeds"
    if within_resolution:
        text += f"; its own trials lie up to {sweep.resolution:+.3f} beyond one another"
    if row["outcome"] == "beyond":
        text += f"; +{row['hv_contribution_pct']:.2f}% hypervolume"
    elif row["dominated_seeds"]:
        text += f"; dominated in {int(row['dominated_seeds'])} of {paired} seeds"
    text += ")"
    never = row["never_matched_share"]
    own = f"the method trained {row['train_seconds']:.0f} s per seed"
    if math.isnan(row["trials_to_match_median"]):
        text += (
            f"; in {never:.0%} of {orders} trial orders the sweep did not match it within "
            f"{sweep.trials} trials ({own})"
        )
    else:
        text += (
            f"; the sweep matched it after a median of {row['trials_to_match_median']:.0f} "
            f"trials (IQR {row['trials_to_match_q25']:.0f}–{_int_or_more(row['trials_to_match_q75'], sweep.trials)}), "
            f"{row['seconds_to_match_median']:.0f} s of training ({own})"
        )
        if never > 0:
            text += (
                f"; {never:.0%} of {orders} orders never matched it within {sweep.trials} trials"
            )
    return text


def _int_or_more(v: float, n: int) -> str:
    return f">{n}" if math.isnan(v) else f"{v:.0f}"


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
