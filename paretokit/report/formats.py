"""A :class:`~paretokit.report.Report` as text: the one place that formats numbers for people
(headers with units and ↑/↓, 'mean ± std' cells, intervals, the summary lines) and the
machine formats (JSON, CSV). Returns strings and plain data; the CLI prints them.

``hints`` (a note's ``code`` → advice, e.g. the command that would add the missing runs) lets
the caller append its own advice to the notes; the library never names a command itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from paretokit.report import front
from paretokit.report.build import Report, plural
from paretokit.results import TaskMeta

COUNT_COLUMNS = (
    "seeds",
    "paired_seeds",
    "dominated_seeds",
    "trials_to_match_median",
    "trials_to_match_q25",
    "trials_to_match_q75",
    "sweep_trials",
)
PAIRS = ("epsilon_ci95", "hv_contribution_pct_ci95")


def _num(v: Any, spec: str = ".4g") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return format(v, spec)


def metric_header(task: TaskMeta) -> str:
    """``mu MAE [D] ↓``: name, metric, unit and direction."""
    unit = f" [{task.unit}]" if task.unit else ""
    return f"{task.name} {task.metric.upper()}{unit} {'↑' if task.higher_is_better else '↓'}"


def mean_std(mean: float, std: float, n: int) -> str:
    """``0.4729 ± 5e-05`` (sample std over seeds); the mean alone for one seed."""
    if math.isnan(mean):
        return "n/a"
    return f"{mean:.4g} ± {std:.2g}" if n > 1 and not math.isnan(std) else f"{mean:.4g}"


def with_interval(mean: float, low: float, high: float, spec: str) -> str:
    """``+0.028 [+0.011, +0.045]``; the mean alone where there is no interval."""
    if mean is None or math.isnan(mean):
        return "n/a"
    if low is None or math.isnan(low):
        return format(mean, spec)
    return f"{format(mean, spec)} [{format(low, spec)}, {format(high, spec)}]"


def _quartiles(median: float, q25: float, q75: float, spec: str, unit: str = "") -> str:
    if math.isnan(median):
        return "not reached"
    high = "more" if math.isnan(q75) else format(q75, spec)
    return f"{format(median, spec)}{unit} [{format(q25, spec)}–{high}]"


def display_frame(report: Report) -> pd.DataFrame:
    """The methods table with readable cells: 'mean ± std' per task, signed Δm%, the
    outcome with ε and its interval, and the cost to match (median [IQR] over trial orders)."""
    t = report.methods
    if t.empty:
        return pd.DataFrame()
    names = [task.name for task in report.tasks]
    shown = pd.DataFrame({"method": t["method"], "seeds": t["seeds"]})
    for task, name in zip(report.tasks, names):
        shown[metric_header(task)] = [
            mean_std(m, s, n) for m, s, n in zip(t[name], t[f"{name}.std"], t["seeds"])
        ]
    shown["Δm% ↓"] = t["delta_m"].map(lambda v: _num(v, "+.2f"))
    shown["mean rank ↓"] = t["mean_rank"].map(lambda v: _num(v, ".2f"))
    if report.sweep is not None:
        stl = (t["method"] == "stl").to_numpy()
        rows = t.to_dict("records")
        shown["outcome"] = ["-" if s else (r["outcome"] or "n/a") for s, r in zip(stl, rows)]
        shown["ε [95% CI] ↑"] = [
            "-"
            if s
            else with_interval(r["epsilon"], r["epsilon_ci95_low"], r["epsilon_ci95_high"], "+.3f")
            for s, r in zip(stl, rows)
        ]
        shown["HV +% [95% CI] ↑"] = [
            "-"
            if s
            else with_interval(
                r["hv_contribution_pct"],
                r["hv_contribution_pct_ci95_low"],
                r["hv_contribution_pct_ci95_high"],
                ".2f",
            )
            for s, r in zip(stl, rows)
        ]
        for header, key in (
            ("sweep trials to match [IQR]", "trials_to_match"),
            ("sweep s to match [IQR]", "seconds_to_match"),
        ):
            shown[header] = [
                "-"
                if s or math.isnan(r["never_matched_share"])
                else _quartiles(r[f"{key}_median"], r[f"{key}_q25"], r[f"{key}_q75"], ".0f")
                for s, r in zip(stl, rows)
            ]
        shown["never matched"] = [
            "-" if s or math.isnan(r["never_matched_share"]) else f"{r['never_matched_share']:.0%}"
            for s, r in zip(stl, rows)
        ]
    shown["own s per seed"] = t["train_seconds"].map(lambda v: _num(v, ".0f"))
    return shown


def summary_lines(report: Report) -> list[str]:
    """What the table's numbers are measured on: setting, splits, reference, the front."""
    s = report.setting
    tasks = ", ".join(metric_header(t) for t in report.tasks)
    extra = f", checkpoint {s['checkpoint']}" if "checkpoint" in s else ""
    model = f"model {s['model']}, " if "model" in s else ""
    lines = [
        f"{report.problem} ({model}{s['epochs']} epochs, batch {s['batch_size']}, lr {s['lr']:g}{extra}): "
        f"{tasks}",
        f"front chosen on the {report.choice_split} split (seed means), methods judged on the "
        f"{report.split} split, seed s against seed s",
        "reference point (nadir + {:.0%} of each range): {}".format(
            report.margin,
            ", ".join(f"{t.name} {v:.4g}" for t, v in zip(report.tasks, report.reference)),
        ),
    ]
    if report.sweep is not None:
        sw = report.sweep
        seeds = ", ".join(map(str, sw.seeds))
        lines.append(
            f"sweep: {plural(sw.trials, 'trial')} × {plural(len(sw.seeds), 'seed')} ({seeds}; "
            f"{sw.seconds:.0f} s of training), {sw.front_size} chosen; hypervolume "
            f"{sw.hypervolume:.4f} (metrics scaled to ideal 0, nadir 1; mean over seeds)"
        )
        lines.append(
            "ε: additive ε-indicator in units of each metric's range, > 0 beyond the front; "
            f"the sweep's resolution δ = {sw.resolution:+.3f} (its interior trials lie up to "
            "that far beyond the rest): beyond = 95% CI above δ, dominated = below 0; "
            f"cost to match over {report.orders} random trial orders"
        )
    if report.baseline != "stl":
        lines.append(f"Δm% against {report.baseline!r}")
    return lines


def verdict_lines(report: Report) -> list[str]:
    t = report.methods
    if t.empty:
        return []
    return [f"{m}: {v}" for m, v in zip(t["method"], t["verdict"]) if m != "stl"]


def note_lines(report: Report, hints: Mapping[str, str] | None = None) -> list[str]:
    """Each note's text, with the caller's advice for its code appended."""
    hints = hints or {}
    return [f"{n.text} — {hints[n.code]}" if n.code in hints else n.text for n in report.notes]


def to_markdown(reports: Sequence[Report], hints: Mapping[str, str] | None = None) -> str:
    """A Markdown section per report: summary bullets, the table, verdicts, notes."""
    out = []
    for r in reports:
        out.append(f"### {r.problem}: methods against the sweep front ({r.split} split)\n")
        out.extend(f"- {line}" for line in summary_lines(r))
        frame = display_frame(r)
        if not frame.empty:
            out.append("")
            out.append(markdown_table(frame))
            out.append("")
            out.extend(
                f"- **{line.split(':', 1)[0]}**:{line.split(':', 1)[1]}"
                for line in verdict_lines(r)
            )
        if r.front is not None:
            out.append(f"\n#### {r.problem}: end points against the true Pareto front\n")
            out.append(f"- {front.summary_line(r.front)}")
            out.append("")
            out.append(markdown_table(front.display_frame(r.front)))
            out.append("")
            out.extend(f"- {line}" for line in front.claim_lines(r.front))
        notes = note_lines(r, hints)
        if notes:
            out.append("")
            out.extend(f"> {n}" for n in notes)
        out.append("")
    return "\n".join(out)


def markdown_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(str(c).replace("|", "\\|") for c in frame.columns) + " |"
    sep = "|" + "|".join(":---" if i == 0 else "---:" for i in range(len(frame.columns))) + "|"
    body = [
        "| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, sep, *body])


def _method_json(rec: dict[str, Any], per_seed: pd.DataFrame) -> dict[str, Any]:
    """A methods-table row for JSON: intervals as [low, high] pairs and its per-seed numbers."""
    out = dict(rec)
    for pair in PAIRS:
        if f"{pair}_low" in out:
            out[pair] = [out.pop(f"{pair}_low"), out.pop(f"{pair}_high")]
    for stat in ("trials_to_match", "seconds_to_match"):
        if f"{stat}_q25" in out:
            out[f"{stat}_iqr"] = [out.pop(f"{stat}_q25"), out.pop(f"{stat}_q75")]
    if not per_seed.empty and rec["method"] != "stl":
        mine = per_seed[per_seed["method"] == rec["method"]].drop(columns="method")
        out["per_seed"] = mine.to_dict(orient="records")
    return out


def to_json(
    reports: Sequence[Report], hints: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every number of every report, as plain JSON-able data (NaN → null)."""
    return [
        _clean(
            {
                "problem": r.problem,
                "split": r.split,
                "choice_split": r.choice_split,
                "setting": r.setting,
                "tasks": [
                    {
                        "name": t.name,
                        "metric": t.metric,
                        "unit": t.unit,
                        "higher_is_better": t.higher_is_better,
                    }
                    for t in r.tasks
                ],
                "baseline": r.baseline,
                "normalization": {"ideal": r.ideal, "nadir": r.nadir},
                "reference": r.reference,
                "reference_margin": r.margin,
                "orders": r.orders,
                "sweep": None
                if r.sweep is None
                else {
                    "trials": r.sweep.trials,
                    "seeds": r.sweep.seeds,
                    "front_size": r.sweep.front_size,
                    "hypervolume": r.sweep.hypervolume,
                    "resolution": r.sweep.resolution,
                    "train_seconds": r.sweep.seconds,
                    "front": r.sweep.front.to_dict(orient="records"),
                },
                "methods": [
                    _method_json(rec, r.per_seed) for rec in r.methods.to_dict(orient="records")
                ],
                "per_seed": r.per_seed.to_dict(orient="records"),
                "notes": note_lines(r, hints),
                "known_front": front.to_json(r.front),
            }
        )
        for r in reports
    ]


def to_csv(reports: Sequence[Report]) -> str:
    """The methods tables of all reports, one CSV, with the setting in leading columns."""
    frames = []
    for r in reports:
        t = r.methods.copy()
        lead = {"split": r.split, "choice_split": r.choice_split, **r.setting}
        for i, (k, v) in enumerate(lead.items()):
            t.insert(i, k, ",".join(v) if isinstance(v, list) else v)
        if r.sweep is not None:
            t["sweep_trials"], t["sweep_front_size"] = r.sweep.trials, r.sweep.front_size
            t["sweep_hypervolume"] = r.sweep.hypervolume
        frames.append(t)
    if not frames:
        return ""
    table = pd.concat(frames, ignore_index=True)
    for col in COUNT_COLUMNS:  # counts stay integers next to the STL row's empty cells
        if col in table.columns:
            table[col] = pd.to_numeric(table[col]).round().astype("Int64")
    return table.to_csv(index=False)


def dumps_json(reports: Sequence[Report], hints: Mapping[str, str] | None = None) -> str:
    return json.dumps(to_json(reports, hints), indent=2, allow_nan=False)


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.floating, float)):
        return None if math.isnan(float(v)) or math.isinf(float(v)) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if v is pd.NA:
        return None
    return v
