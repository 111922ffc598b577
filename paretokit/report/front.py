"""The report's section for problems with a known Pareto front (``toy``): from how many starts
each method's runs (and the sweep's) end on the true front, where on it, and how much of it
their end points cover (definitions in :mod:`paretokit.analysis.reach`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from paretokit.analysis import reach
from paretokit.results import ResultsMeta

SWEEP_GROUP = "sweep"


@dataclass
class FrontReach:
    """End points against the known front: one row per run (``runs``) and per group — the
    sweep and each method label — (``groups``), with the tolerance they were judged by."""

    source: str
    tolerance: float
    bins: int
    ranges: list[float]  # each loss's range along the front (the distance's units)
    runs: pd.DataFrame
    groups: pd.DataFrame


def front_reach(rows: pd.DataFrame, meta: ResultsMeta) -> FrontReach | None:
    """The section for ``rows`` (finished runs of one setting on one split), or None when
    the file's problem has no known front."""
    front = reach.known_front(meta.problem, meta.task_names, [t.metric for t in meta.tasks])
    if front is None:
        return None
    cols = [f"metric.{t}" for t in meta.task_names]
    runs = rows[rows["kind"].isin(["sweep", "method", "stl"])].copy()
    runs = runs[np.isfinite(runs[cols].to_numpy(float)).all(axis=1)]
    near = reach.nearest_on_front(runs[cols].to_numpy(float), front)
    table = pd.DataFrame(
        {
            "group": np.where(runs["kind"] == "sweep", SWEEP_GROUP, runs["method"]),
            "run_id": runs["run_id"].to_numpy(),
            "seed": runs["seed"].to_numpy(int),
            "start": [_start(front, s) for s in runs["seed"]],
            **{t: runs[c].to_numpy(float) for t, c in zip(meta.task_names, cols)},
            "distance": near.distance,
            "reached": near.distance <= reach.REACH_TOLERANCE,
            "position": near.position,
        }
    )
    groups = [_group(name, g) for name, g in table.groupby("group", sort=False)]
    order = {SWEEP_GROUP: 0}
    frame = pd.DataFrame(groups) if groups else pd.DataFrame(columns=["group"])
    if not frame.empty:  # the sweep first, then methods, STL last
        frame["_o"] = [order.get(g, 2 if str(g).startswith("stl") else 1) for g in frame["group"]]
        frame = frame.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    return FrontReach(
        front.source,
        reach.REACH_TOLERANCE,
        reach.COVERAGE_BINS,
        front.ranges.tolist(),
        table.reset_index(drop=True),
        frame,
    )


def _start(front: reach.KnownFront, seed: int) -> str:
    if 0 <= seed < len(front.starts):
        return "(" + ", ".join(f"{v:g}" for v in front.starts[seed]) + ")"
    return ""


def _group(name: str, g: pd.DataFrame) -> dict[str, Any]:
    seeds = sorted(set(g["seed"]))
    reached_seeds = sorted(set(g.loc[g["reached"], "seed"]))
    on = g[g["reached"]]
    return {
        "group": name,
        "runs": len(g),
        "starts": len(seeds),
        "starts_reaching": len(reached_seeds),
        "reaching_seeds": reached_seeds,
        "runs_reaching": int(g["reached"].sum()),
        "median_distance": float(g["distance"].median()),
        "positions": sorted(float(p) for p in on["position"]),
        "coverage": reach.coverage(on["position"].to_numpy(float)),
    }


def display_frame(section: FrontReach) -> pd.DataFrame:
    """The groups as the terminal and Markdown show them."""
    rows = []
    for g in section.groups.to_dict("records"):
        pos = g["positions"]
        if not pos:
            where = "—"
        elif len(pos) <= 5:
            where = ", ".join(f"{p:.2f}" for p in pos)
        else:
            where = f"{min(pos):.2f} … {max(pos):.2f}"
        rows.append(
            {
                "method": g["group"],
                "starts on the front": f"{g['starts_reaching']} of {g['starts']}"
                + (f" ({', '.join(map(str, g['reaching_seeds']))})" if g["reaching_seeds"] else ""),
                "runs on the front": f"{g['runs_reaching']} of {g['runs']}",
                "where (0 = f1's end, 1 = f2's)": where,
                "front covered": f"{g['coverage']:.0%}",
                "median distance": f"{g['median_distance']:.3g}",
            }
        )
    return pd.DataFrame(rows)


def summary_line(section: FrontReach) -> str:
    ranges = ", ".join(f"{r:.4g}" for r in section.ranges)
    return (
        f"true Pareto front: {section.source}; a run reaches it when its end point lies within "
        f"{section.tolerance:g} of it, each loss measured in units of its range along the front "
        f"({ranges}); where: the nearest front point's share of the front's length from f1's "
        f"optimum (0) to f2's (1); covered: share of {section.bins} equal stretches of the front "
        "holding an end point that reaches it"
    )


def claim_lines(section: FrontReach) -> list[str]:
    """One sentence per group: from how many of its starts it reaches the front."""
    out = []
    for g in section.groups.to_dict("records"):
        seeds = ", ".join(map(str, g["reaching_seeds"]))
        seeds = f" (seed{'s' if len(g['reaching_seeds']) > 1 else ''} {seeds})" if seeds else ""
        if g["group"] == SWEEP_GROUP:
            out.append(
                f"the sweep: {g['runs_reaching']} of {g['runs']} runs end on the true front, "
                f"from {g['starts_reaching']} of {g['starts']} starts{seeds}; its end "
                f"points cover {g['coverage']:.0%} of the front"
            )
        else:
            out.append(
                f"{g['group']}: ends on the true front from {g['starts_reaching']} of "
                f"{g['starts']} starts{seeds}"
            )
    return out


def to_json(section: FrontReach | None) -> dict[str, Any] | None:
    if section is None:
        return None
    return {
        "source": section.source,
        "tolerance": section.tolerance,
        "distance_units": section.ranges,
        "coverage_bins": section.bins,
        "groups": section.groups.to_dict(orient="records"),
        "runs": section.runs.to_dict(orient="records"),
    }


def reach_paragraph(section: FrontReach | None) -> str:
    """The toy's claim (Navon et al. 2022, Fig. 1: Nash-MTL reaches the Pareto front from all
    five starts, other methods stall or drift from some): which methods' runs end on the true
    front from every start, which from some, which from none, and how much of the front the
    sweep's end points cover; worded from the numbers only."""
    if section is None:
        return "This results file's problem has no known Pareto front to test the claim on."
    methods = section.groups[
        (section.groups["group"] != SWEEP_GROUP)
        & ~section.groups["group"].astype(str).str.startswith("stl")
    ].to_dict("records")
    every = [g["group"] for g in methods if g["starts_reaching"] == g["starts"]]
    some = [
        f"{g['group']} ({g['starts_reaching']} of {g['starts']})"
        for g in methods
        if 0 < g["starts_reaching"] < g["starts"]
    ]
    none = [g["group"] for g in methods if g["starts_reaching"] == 0]
    parts = [
        f"Within {section.tolerance:g} of the true front (each loss in units of its range "
        "along it), "
        + (
            f"from every start: {', '.join(every)}"
            if every
            else "no method ends on it from every start"
        )
    ]
    if some:
        parts.append(f"from some starts: {', '.join(some)}")
    if none:
        parts.append(f"from none: {', '.join(none)}")
    text = "; ".join(parts) + "."
    nash = next((g for g in methods if str(g["group"]).startswith("nashmtl")), None)
    if nash is not None:
        reached, run = nash["starts_reaching"], nash["starts"]
        if reached < run:
            verdict = f"does not hold here ({reached} of {run} starts)"
        elif run >= 5:
            verdict = f"holds here ({reached} of {run} starts)"
        else:
            verdict = f"holds for the {run} starts run so far, the others not run yet"
        text += f" The claim that Nash-MTL reaches the front from all five starts {verdict}."
    sweep = section.groups[section.groups["group"] == SWEEP_GROUP].to_dict("records")
    if sweep:
        g = sweep[0]
        text += (
            f" The LS sweep's runs end on the front in {g['runs_reaching']} of {g['runs']} "
            f"cases, from {g['starts_reaching']} of {g['starts']} starts, covering "
            f"{g['coverage']:.0%} of it."
        )
    return text
