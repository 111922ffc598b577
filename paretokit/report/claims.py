"""The claim a study tests, stated from its report's numbers in one paragraph.

Each function reads a :class:`~paretokit.report.Report` (nothing else) and writes what its
outcomes, intervals and seeds say about one published claim; the wording follows the numbers
(which methods, how many seeds, which intervals), never a conclusion written in advance.

- ``beyond`` — Xin et al., "Do Current Multi-Task Optimization Methods in Deep Learning Even
  Help?" (NeurIPS 2022): no MTO method lies beyond a well-tuned linear-scalarization sweep.
- ``reach`` — Navon et al. (ICML 2022), Fig. 1 on the toy: Nash-MTL reaches the Pareto front
  from all five starts (:func:`paretokit.report.front.reach_paragraph`).
- ``ranking`` — Navon et al., "Multi-Task Learning as a Bargaining Game" (ICML 2022), Table 2
  on QM9: the Δm% and mean-rank ordering of the methods, Nash-MTL best among the MTO methods,
  SI a strong baseline; and how far the sweep's own front is from those methods.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from paretokit import analysis
from paretokit.report.build import Report
from paretokit.report.front import reach_paragraph

# methods that are not MTO methods: the single-task baseline and the sweep's own scalarization
NOT_MTO = ("stl", "ls")
OUTCOME_WORDS = {
    "beyond": "beyond the front",
    "within_noise": "within noise",
    "dominated": "dominated",
}


def claim_paragraph(kind: str, report: Report) -> str:
    """The paragraph for claim ``kind`` (``beyond`` or ``ranking``)."""
    if kind == "beyond":
        return beyond_paragraph(report)
    if kind == "ranking":
        return ranking_paragraph(report)
    if kind == "reach":  # toy (Navon et al. 2022, Fig. 1): report.front's paragraph
        return reach_paragraph(report.front)
    raise ValueError(f"unknown claim {kind!r}")


def _methods(report: Report) -> pd.DataFrame:
    t = report.methods
    return t[t["method"] != "stl"].reset_index(drop=True) if not t.empty else t


def _eps(row: dict) -> str:
    lo, hi = row.get("epsilon_ci95_low", math.nan), row.get("epsilon_ci95_high", math.nan)
    if lo is None or (isinstance(lo, float) and math.isnan(lo)):
        return f"ε {row['epsilon']:+.3f}"
    return f"ε {row['epsilon']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def _names(rows: list[dict]) -> str:
    return ", ".join(f"{r['method']} ({_eps(r)})" for r in rows)


def beyond_paragraph(report: Report) -> str:
    """Is any method beyond the sweep front, with its ε interval over paired seeds?"""
    sw = report.sweep
    methods = _methods(report)
    if sw is None or methods.empty:
        missing = "no sweep" if sw is None else "no method runs"
        return f"**Claim (Xin et al. 2022: no MTO method beats a tuned sweep).** Not tested: {missing} in this setting."
    rows = [r for r in methods.to_dict("records") if isinstance(r.get("outcome"), str)]
    by = {o: [r for r in rows if r["outcome"] == o] for o in analysis.OUTCOMES}
    paired = sorted({int(r["paired_seeds"]) for r in rows}) if rows else [0]
    seeds = "/".join(map(str, paired))
    text = (
        f"**Claim (Xin et al. 2022: no MTO method beats a tuned sweep).** Against a sweep of "
        f"{sw.trials} trials × {len(sw.seeds)} seeds ({sw.front_size} chosen on "
        f"{report.choice_split}, resolution δ = {sw.resolution:+.3f}), judged on the "
        f"{report.split} split with {seeds} paired seeds (ε: mean [95% CI]): "
        + "; ".join(
            f"{len(by[o])} of {len(rows)} {OUTCOME_WORDS[o]}"
            + (f": {_names(by[o])}" if by[o] else "")
            for o in ("beyond", "within_noise", "dominated")
        )
        + ". "
    )
    if by["beyond"]:
        text += (
            "At this budget the claim does not hold for "
            + ", ".join(r["method"] for r in by["beyond"])
            + ": its interval lies above the sweep's resolution."
        )
    elif by["within_noise"]:
        widest = max(by["within_noise"], key=lambda r: _width(r))
        text += (
            "No method is beyond the front, as the claim says; within noise is not a tie: "
            f"the widest interval is {widest['method']}'s ({_eps(widest)}), and more trials or "
            "seeds would narrow it."
        )
    else:
        text += "Every method is dominated by the sweep front: the claim holds at this budget."
    return text


def _width(row: dict) -> float:
    lo, hi = row.get("epsilon_ci95_low"), row.get("epsilon_ci95_high")
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return math.inf
    return hi - lo


def seed_delta_m(report: Report) -> pd.DataFrame:
    """Per method, Δm% against STL's seed-mean metrics computed seed by seed: the mean and
    its 95% Student-t interval over the method's seeds (columns method, seeds, mean, low,
    high). Empty without an STL row."""
    names = [t.name for t in report.tasks]
    t = report.methods
    if t.empty or "stl" not in set(t["method"]) or report.per_seed.empty:
        return pd.DataFrame(columns=["method", "seeds", "mean", "low", "high"])
    directions = {n: t_.higher_is_better for n, t_ in zip(names, report.tasks)}
    stl = t[t["method"] == "stl"].set_index("method")[names]
    out = []
    for label, rows in report.per_seed.groupby("method", sort=False):
        points = rows.set_index(rows["seed"].map(lambda s: f"seed {s}"))[names]
        dm = analysis.delta_m(pd.concat([stl, points]), "stl", directions).drop("stl")
        values = dm.to_numpy(float)
        values = values[np.isfinite(values)]
        if not len(values):
            continue
        mean, low, high = analysis.t_interval(values) if len(values) > 1 else (values[0],) * 3
        out.append(dict(method=label, seeds=len(values), mean=mean, low=low, high=high))
    return pd.DataFrame.from_records(out)


def _dm(row: pd.Series) -> str:
    if row["seeds"] < 2 or math.isnan(row["low"]):
        return f"{row['method']} {row['mean']:+.1f}"
    return f"{row['method']} {row['mean']:+.1f} [{row['low']:+.1f}, {row['high']:+.1f}]"


def _position(order: list[str], name: str) -> str:
    return f"{order.index(name) + 1} of {len(order)}" if name in order else "not run"


def ranking_paragraph(report: Report) -> str:
    """Δm% and mean-rank orderings, Nash-MTL among the MTO methods, SI, and the sweep."""
    head = "**Claim (Navon et al. 2022, Table 2: Nash-MTL best by Δm% and mean rank; SI strong).**"
    dm = seed_delta_m(report)
    if dm.empty:
        undefined = [n.text for n in report.notes if n.code == "delta_m_undefined"]
        if undefined:
            return f"{head} Not tested: {undefined[0]}."
        return f"{head} Not tested: no STL baseline or no method runs in this setting."
    dm = dm.sort_values("mean", kind="stable").reset_index(drop=True)
    seeds = "/".join(map(str, sorted(set(dm["seeds"]))))
    mr = _methods(report).sort_values("mean_rank", kind="stable")
    mto = [m for m in dm["method"] if m not in NOT_MTO]
    mto_rank = [m for m in mr["method"] if m not in NOT_MTO]
    text = (
        f"{head} Δm% against STL on the {report.split} split (lower is better; mean [95% CI] "
        f"over {seeds} seeds, each seed against STL's seed mean): "
        + "; ".join(_dm(r) for _, r in dm.iterrows())
        + ". Mean rank (over "
        + f"{len(report.tasks)} metrics, among these methods and STL): "
        + ", ".join(f"{m} {v:.2f}" for m, v in zip(mr["method"], mr["mean_rank"]))
        + ". "
    )
    if "nashmtl" in mto:
        best = mto[0]
        text += (
            f"Among the {len(mto)} MTO methods, Nash-MTL is {_position(mto, 'nashmtl')} by Δm% "
            f"and {_position(mto_rank, 'nashmtl')} by mean rank"
            + ("" if best == "nashmtl" else f" (best by Δm%: {best})")
            + _overlap(dm, mto)
            + ". "
        )
    if "si" in mto:
        text += f"SI is {_position(mto, 'si')} of the MTO methods by Δm%"
        if "ls" in set(dm["method"]):
            si, ls = (float(dm.loc[dm["method"] == m, "mean"].iloc[0]) for m in ("si", "ls"))
            text += f" ({'better' if si < ls else 'not better'} than LS: {si:+.1f} vs {ls:+.1f})"
        text += ". "
    text += _sweep_sentence(report, dm)
    return text


def _overlap(dm: pd.DataFrame, order: list[str]) -> str:
    """Whether the two best MTO methods' Δm% intervals overlap (then the order is not shown)."""
    if len(order) < 2:
        return ""
    a, b = (dm[dm["method"] == m].iloc[0] for m in order[:2])
    if any(math.isnan(float(x)) for x in (a["low"], a["high"], b["low"], b["high"])):
        return ""
    if a["high"] >= b["low"]:
        return f"; the intervals of the two best ({a['method']}, {b['method']}) overlap"
    return f"; {a['method']}'s interval lies below {b['method']}'s"


def _sweep_sentence(report: Report, dm: pd.DataFrame) -> str:
    """How far the sweep is: its best chosen trial's Δm% and the methods' outcomes."""
    sw = report.sweep
    if sw is None:
        return "No sweep in this setting: how far it is is not measured."
    names = [t.name for t in report.tasks]
    directions = {t.name: t.higher_is_better for t in report.tasks}
    t = report.methods
    stl = t[t["method"] == "stl"].set_index("method")[names]
    front = sw.front.copy()
    front.index = [f"trial {int(x)}" for x in front["trial"]]
    front = front[[f"metric.{n}" for n in names]]
    front.columns = names
    dm_front = analysis.delta_m(pd.concat([stl, front]), "stl", directions).drop("stl")
    best = dm_front.idxmin()
    outcomes = _methods(report)["outcome"].value_counts()
    counts = ", ".join(f"{int(outcomes.get(o, 0))} {o}" for o in analysis.OUTCOMES)
    return (
        f"The sweep ({sw.trials} trials × {len(sw.seeds)} seeds, {sw.front_size} chosen on "
        f"{report.choice_split}) has its best chosen trial, {best}, at Δm% "
        f"{dm_front[best]:+.1f} (seed mean), against {float(dm['mean'].iloc[0]):+.1f} for the "
        f"best method ({dm['method'].iloc[0]}); against its front the methods are {counts}."
    )
