"""A :class:`~paretokit.report.Report` as text: the summary lines and display table shared
by the terminal and Markdown, and the machine formats (JSON, CSV). Returns strings and
plain data; the CLI prints them."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from paretokit.report import Report, plural

COUNT_COLUMNS = ("seeds", "dominated_seeds", "sweep_trials_to_match", "sweep_trials")


def _num(v: float, spec: str = ".4g") -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def metric_header(report: Report, k: int) -> str:
    t = report.tasks[k]
    unit = f" [{t.unit}]" if t.unit else ""
    return f"{t.name} {t.metric.upper()}{unit} {'↑' if t.higher_is_better else '↓'}"


def display_frame(report: Report) -> pd.DataFrame:
    """The methods table with readable cells: 'mean ± std' per task, signed Δm%, and the
    sweep-cost columns ("not reached" when the sweep never matched the method)."""
    t = report.methods
    if t.empty:
        return pd.DataFrame()
    names = [task.name for task in report.tasks]
    shown = pd.DataFrame({"method": t["method"], "seeds": t["seeds"]})
    for k, name in enumerate(names):
        shown[metric_header(report, k)] = [
            f"{m:.4g} ± {s:.2g}" if n > 1 and not math.isnan(s) else f"{m:.4g}"
            for m, s, n in zip(t[name], t[f"{name}.std"], t["seeds"])
        ]
    shown["Δm%"] = t["delta_m"].map(lambda v: _num(v, "+.2f"))
    shown["mean rank"] = t["mean_rank"].map(lambda v: _num(v, ".2f"))
    if report.sweep is not None:
        stl = t["method"] == "stl"
        shown["dominated"] = [
            "-" if s else f"{int(d)}/{int(n)}"
            for s, d, n in zip(stl, t["dominated_seeds"], t["seeds"])
        ]
        shown["ε to front"] = ["-" if s else _num(e, "+.3f") for s, e in zip(stl, t["epsilon"])]
        shown["HV +%"] = [
            "-" if s else _num(h, ".2f") for s, h in zip(stl, t["hv_contribution_pct"])
        ]
        shown["sweep trials to match"] = [
            "-" if s else ("not reached" if math.isnan(n) else str(int(n)))
            for s, n in zip(stl, t["sweep_trials_to_match"])
        ]
        shown["sweep s to match"] = [
            "-" if s else ("-" if math.isnan(v) else f"{v:.0f}")
            for s, v in zip(stl, t["sweep_seconds_to_match"])
        ]
    shown["own s"] = t["train_seconds"].map(lambda v: _num(v, ".0f"))
    return shown


def summary_lines(report: Report) -> list[str]:
    """What the table's numbers are measured on, the sweep front, and the notes."""
    s = report.setting
    tasks = ", ".join(metric_header(report, k) for k in range(len(report.tasks)))
    lines = [
        f"{report.problem} ({report.split} split; {s['epochs']} epochs, batch {s['batch_size']}, "
        f"lr {s['lr']:g}): {tasks}",
        "reference point (nadir + {:.0%} of each range): {}".format(
            report.margin,
            ", ".join(f"{t.name} {v:.4g}" for t, v in zip(report.tasks, report.reference)),
        ),
    ]
    if report.sweep is not None:
        sw = report.sweep
        lines.append(
            f"sweep: {plural(sw.points, 'trial')} ({sw.seconds:.0f} s of training), "
            f"{sw.front_size} on the front; hypervolume {sw.hypervolume:.4f} "
            "(metrics scaled to ideal 0, nadir 1)"
        )
    if report.baseline != "stl":
        lines.append(f"Δm% against {report.baseline!r}")
    return lines


def verdict_lines(report: Report) -> list[str]:
    t = report.methods
    if t.empty:
        return []
    return [f"{m}: {v}" for m, v in zip(t["method"], t["verdict"]) if m != "stl"]


def to_markdown(reports: Sequence[Report]) -> str:
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
        if r.notes:
            out.append("")
            out.extend(f"> {n}" for n in r.notes)
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


def to_json(reports: Sequence[Report]) -> list[dict[str, Any]]:
    """Every number of every report, as plain JSON-able data (NaN → null)."""
    return [
        _clean(
            {
                "problem": r.problem,
                "split": r.split,
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
                "sweep": None
                if r.sweep is None
                else {
                    "trials": r.sweep.points,
                    "front_size": r.sweep.front_size,
                    "hypervolume": r.sweep.hypervolume,
                    "train_seconds": r.sweep.seconds,
                    "front": r.sweep.front.to_dict(orient="records"),
                },
                "methods": r.methods.to_dict(orient="records"),
                "per_seed": r.per_seed.to_dict(orient="records"),
                "notes": r.notes,
            }
        )
        for r in reports
    ]


def to_csv(reports: Sequence[Report]) -> str:
    """The methods tables of all reports, one CSV, with the setting in leading columns."""
    frames = []
    for r in reports:
        t = r.methods.copy()
        for i, (k, v) in enumerate({"split": r.split, **r.setting}.items()):
            t.insert(i, k, v)
        if r.sweep is not None:
            t["sweep_trials"], t["sweep_front_size"] = r.sweep.points, r.sweep.front_size
            t["sweep_hypervolume"] = r.sweep.hypervolume
        frames.append(t)
    if not frames:
        return ""
    table = pd.concat(frames, ignore_index=True)
    for col in COUNT_COLUMNS:  # counts stay integers next to the STL row's empty cells
        if col in table.columns:
            table[col] = table[col].astype("Int64")
    return table.to_csv(index=False)


def dumps_json(reports: Sequence[Report]) -> str:
    return json.dumps(to_json(reports), indent=2)


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
    return v
