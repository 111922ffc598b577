"""``paretokit study FILE.toml``: run what a study file asks that is not done yet, then
write its report and figure next to it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from paretokit.cli._app import app, console, user_errors
from paretokit.cli._options import find_user_problems
from paretokit.cli._progress import compare_progress, sweep_progress
from paretokit.cli.report import REPORT_HINTS

if TYPE_CHECKING:
    from paretokit.studyplan import StudyPlan


@app.command()
@user_errors
def study(
    study_file: Annotated[
        Path, typer.Argument(help="A study file (TOML): studies/NAME.toml.", show_default=False)
    ],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            metavar="",
            help="List what would be trained (sweep trials × seeds, method runs) and an "
            "estimate of its time from the results file's own training seconds; train nothing.",
        ),
    ] = False,
) -> None:
    """Run a study file: the sweep and the methods on one setting, then report.md and the
    figure in the study's folder (studies/NAME.toml → studies/NAME/).

    Re-running resumes: the sweep's budget counts its complete trials, method runs already in
    the results file are skipped, so a finished study trains nothing and only rewrites its
    report. Every key of the file is checked before any work.
    """
    from paretokit.studyfile import load_study
    from paretokit.studyplan import check_runnable, plan_study, run_study_methods, run_study_sweep
    from paretokit.studyreport import write_study_report

    spec = load_study(study_file)
    find_user_problems(spec.problem)
    if dry_run:
        render_plan(plan_study(spec))
        return
    check_runnable(spec)
    with sweep_progress(count_failed=False) as callbacks:
        swept = run_study_sweep(spec, callbacks)
    if swept is None and spec.sweep is not None:
        console.print(
            f"sweep: {spec.sweep.trials} of {spec.sweep.trials} trials complete in the results "
            "file, and no storage beside it: nothing to resume"
        )
    if swept is not None:
        console.print(
            f"sweep [bold]{escape(swept.study_name)}[/]: {swept.complete} trials complete "
            f"({swept.new_trials} new, {swept.failed} failed)"
        )
    with compare_progress() as callbacks:
        compared = run_study_methods(spec, callbacks)
    if compared is not None:
        console.print(
            f"methods: {compared.trained} runs trained ({compared.failed} failed), "
            f"{compared.skipped} already done"
        )
    doc = write_study_report(spec, REPORT_HINTS, command=f"paretokit study {study_file}")
    figure = f" and {escape(str(doc.figure_path))}" if doc.figure_path else ""
    console.print(f"wrote {escape(str(doc.report_path))}{figure}")


def render_plan(plan: StudyPlan) -> None:
    """The dry run: one line per kind of run left, and the time estimate."""
    spec = plan.spec
    console.print(f"study {escape(str(spec.path))} → {escape(str(spec.results))}", highlight=False)
    if plan.study_name is not None:
        console.print(
            f"sweep study {escape(plan.study_name)}: {plan.trials_done} of "
            f"{spec.sweep.trials if spec.sweep else 0} trials complete",
            highlight=False,
        )
    for part in plan.parts:
        if part.runs_left == 0:
            eta = "done"
        elif part.seconds is None:
            eta = "no estimate (none done yet)"
        else:
            eta = f"~{_duration(part.seconds)} ({part.seconds_per_run:.1f} s per run so far)"
        what = (
            f"{plan.trials_left} trial{'' if plan.trials_left == 1 else 's'} × {spec.seeds} "
            f"seed{'' if spec.seeds == 1 else 's'} = "
            if part.label == "sweep"
            else ""
        )
        console.print(
            f"  {escape(part.label)}: {what}{_runs(part.runs_left)} to train, "
            f"{part.runs_done} done; {eta}",
            highlight=False,
        )
    if plan.runs_left == 0:
        console.print("nothing to train: running the study only rewrites its report")
        return
    missing = plan.unestimated
    total = _duration(plan.seconds)
    if len(missing) == len([p for p in plan.parts if p.runs_left]):
        console.print(
            f"{_runs(plan.runs_left)} to train; no estimate: no run of these kinds is done yet",
            highlight=False,
        )
    elif missing:
        console.print(
            f"{_runs(plan.runs_left)} to train; estimate ~{total} for the parts with runs done, "
            f"no estimate for {escape(', '.join(missing))}",
            highlight=False,
        )
    else:
        console.print(f"{_runs(plan.runs_left)} to train; estimate ~{total}", highlight=False)


def _runs(n: int) -> str:
    return f"{n} run{'' if n == 1 else 's'}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
