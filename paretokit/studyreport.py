"""A study's ``report.md`` and figure, written from its results file alone.

The document says what was run (the budget actually in the file: complete sweep trials,
seeds, method runs, training seconds, devices) beside the paper's own setting that the study
file quotes, then the report of the setting (:func:`paretokit.report.build_reports`, as
``paretokit report --format markdown`` prints it), the figure (:func:`paretokit.plot.
plot_frontier`), and the paragraph on the claim the study tests
(:mod:`paretokit.report.claims`), all from the same numbers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paretokit import __version__
from paretokit.errors import ParetokitError
from paretokit.report import Report, build_reports, plural
from paretokit.report import formats as rf
from paretokit.report.claims import claim_paragraph
from paretokit.results import Results, read_results
from paretokit.studyfile import StudySpec


@dataclass
class StudyDocument:
    """What :func:`write_study_report` wrote."""

    report_path: Path
    figure_path: Path | None
    report: Report
    text: str


def report_setting(spec: StudySpec, results: Results) -> dict[str, Any]:
    """The study's training setting as the results file's columns hold it."""
    from paretokit.problems import get_problem

    problem = get_problem(spec.problem, spec.tasks, spec.model)
    d = problem.defaults
    setting = {
        "problem": problem.name,
        "epochs": spec.epochs or d.epochs,
        "batch_size": spec.batch_size or d.batch_size,
        "lr": spec.lr or d.lr,
        "checkpoint": spec.checkpoint,
    }
    if "model" in results.frame.columns:
        setting["model"] = problem.model
    return setting


def write_study_report(
    spec: StudySpec, hints: Mapping[str, str] | None = None, command: str | None = None
) -> StudyDocument:
    """Write ``report.md`` and the figure into the study's folder; ``command`` is how the
    document says it was made (e.g. ``paretokit study studies/x.toml``)."""
    from paretokit.plot import plot_frontier

    if not spec.results.exists():
        raise ParetokitError(f"{spec.path}: no results yet at {spec.results}: nothing to report")
    results = read_results(spec.results)
    setting = report_setting(spec, results)
    (report,) = build_reports(results, spec.split, setting=setting)
    figure: Path | None = spec.folder / spec.figure
    try:
        plot_frontier(results, figure, spec.split, setting=setting)
    except ParetokitError:
        figure = None  # nothing to draw (e.g. only STL runs): the report says what is missing
    text = render_document(spec, results, report, figure, hints, command)
    path = spec.folder / "report.md"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return StudyDocument(path, figure, report, text)


def render_document(
    spec: StudySpec,
    results: Results,
    report: Report,
    figure: Path | None,
    hints: Mapping[str, str] | None = None,
    command: str | None = None,
) -> str:
    """The Markdown text of ``report.md``."""
    made = f"`{command}`" if command else "paretokit's study runner"
    out = [
        f"# {spec.title}",
        "",
        f"Written by {made} (paretokit {__version__}) from `{spec.results.name}` "
        f"({len(results.frame)} rows): every number below is computed from that file, and "
        "re-running the command resumes the study and rewrites this page.",
        "",
        "## Budget",
        "",
        *budget_lines(spec, results, report),
    ]
    if spec.paper:
        out += ["", "**The paper's setting** (from the study file):", "", spec.paper.strip()]
    out += ["", "## Methods against the sweep front", "", rf.to_markdown([report], hints).strip()]
    if figure is not None:
        out += ["", f"![{spec.name}]({figure.name})"]
    if spec.claim:
        out += ["", "## The claim", "", claim_paragraph(spec.claim, report)]
    return "\n".join(out) + "\n"


def budget_lines(spec: StudySpec, results: Results, report: Report) -> list[str]:
    """What the results file holds for this setting: the budget actually spent."""
    s = report.setting
    tasks = ", ".join(t.name for t in report.tasks)
    frame = results.frame
    rows = frame[(frame["problem"] == s["problem"]) & (frame["split"] == "val")]
    for key in ("epochs", "batch_size", "lr", "checkpoint", "model"):
        if key in rows.columns and key in s:
            rows = rows[rows[key] == s[key]]
    model = f", model {spec.model}" if spec.model else ""
    lines = [
        f"- problem `{s['problem']}`{model}; tasks {tasks}",
        f"- training: {plural(s['epochs'], 'epoch')}, batch {s['batch_size']}, Adam lr {s['lr']:g}, "
        f"checkpoint {s.get('checkpoint', 'last')}; seeds 0–{spec.seeds - 1} for the sweep "
        "and every method (seed s of a method paired with seed s of every sweep trial)",
    ]
    if spec.sweep is not None:
        sw = report.sweep
        done = sw.trials if sw is not None else 0
        secs = _seconds(rows[rows["kind"] == "sweep"])
        lines.append(
            f"- sweep: {done} of {spec.sweep.trials} trials complete × {spec.seeds} seeds "
            f"(sampler {spec.sweep.sampler}, population {spec.sweep.population}); {secs}"
        )
    if spec.methods:
        names = ", ".join(_label(m, o) for m, o in spec.methods.items())
        secs = _seconds(rows[rows["kind"].isin(["method", "stl"])])
        n = int(rows["kind"].isin(["method", "stl"]).sum())
        lines.append(f"- methods: {names}, and STL per task; {n} runs; {secs}")
    devices = sorted(set(rows["device"].astype(str)))
    threads = sorted({int(t) for t in rows["threads"] if int(t) > 0}) if "threads" in rows else []
    lines.append(
        "- device(s): "
        + ("; ".join(devices) or "none recorded")
        + (f"; torch threads {', '.join(map(str, threads))}" if threads else "")
    )
    return lines


def _seconds(rows: Any) -> str:
    secs = rows["train_seconds"].to_numpy(float)
    secs = secs[secs >= 0]
    if not len(secs) or math.isnan(secs.sum()):
        return "no training time recorded"
    total = secs.sum()
    return f"{total:.{1 if total < 10 else 0}f} s of training in all"


def _label(name: str, options: Mapping[str, Any]) -> str:
    if not options:
        return name
    return f"{name}({', '.join(f'{k}={v}' for k, v in sorted(options.items()))})"
