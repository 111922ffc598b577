"""Commands that read results: ``report``, ``plot``, ``merge``, and ``export`` (study → file).

None of them trains, so none imports torch: they need the results file and the analysis.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from paretokit.cli._app import app, console, user_errors, wide_console
from paretokit.cli._options import Format, FormatOpt, ResultsFileArg, SplitChoice, ViewChoice
from paretokit.cli._render import message, render
from paretokit.errors import ParetokitError


@app.command()
@user_errors
def report(
    results_file: ResultsFileArg,
    split: Annotated[
        SplitChoice,
        typer.Option(help="Split the methods are judged on (the front is chosen on val)."),
    ] = SplitChoice.test,
    fmt: FormatOpt = Format.table,
    baseline: Annotated[
        str, typer.Option(help="Δm% baseline: stl (single-task models) or a method's label.")
    ] = "stl",
    margin: Annotated[
        float,
        typer.Option(
            help="Hypervolume reference: the nadir plus this fraction of each metric's range."
        ),
    ] = 0.1,
) -> None:
    """Every method against the sweep front: an outcome per method (dominated, beyond or
    within seed noise) from its paired seeds' ε and 95% interval, the hypervolume contribution,
    metrics over seeds, Δm%, mean rank, and what the sweep would have cost to match it (over
    1,000 random trial orders). The front is chosen on the validation split."""
    import math

    from paretokit.report import build_reports
    from paretokit.results import read_results

    if not (math.isfinite(margin) and margin > 0):
        raise ParetokitError("--margin must be a positive finite number")
    render_reports(build_reports(read_results(results_file), split.value, baseline, margin), fmt)


# advice the CLI adds to a report's notes, by the note's code
REPORT_HINTS = {
    "no_sweep": "run `paretokit sweep` with the same setting",
    "no_methods": "run `paretokit compare METHOD …` with the same setting",
    "no_stl": "run `paretokit compare stl` with the same setting",
    "single_seed": "run `paretokit sweep --seeds 3` (and `compare --seeds 3`)",
}


def render_reports(reports: list, fmt: Format) -> None:
    """Print reports: a machine format alone on stdout, or the terminal view."""
    from paretokit.report import formats as rf

    if fmt is Format.json:
        sys.stdout.write(rf.dumps_json(reports, REPORT_HINTS) + "\n")
    elif fmt is Format.csv:
        sys.stdout.write(rf.to_csv(reports))
        for r in reports:  # a CSV has no place for them: beside the data, on stderr
            for note in rf.note_lines(r, REPORT_HINTS):
                message(f"[yellow]note:[/yellow] {escape(note)}", fmt)
    elif fmt is Format.markdown:
        sys.stdout.write(rf.to_markdown(reports, REPORT_HINTS))
    else:
        out = wide_console()
        for r in reports:
            for line in rf.summary_lines(r):
                out.print(escape(line))
            frame = rf.display_frame(r)
            if not frame.empty:
                render(frame, "methods against the sweep front", fmt)
            for line in rf.verdict_lines(r):
                out.print(escape(line))
            if r.front is not None:
                from paretokit.report import front

                out.print(escape(front.summary_line(r.front)))
                render(
                    front.display_frame(r.front), "end points against the true Pareto front", fmt
                )
                for line in front.claim_lines(r.front):
                    out.print(escape(line))
            for note in rf.note_lines(r, REPORT_HINTS):
                out.print(f"[yellow]note:[/yellow] {escape(note)}")
            out.print()


@app.command()
@user_errors
def plot(
    results_file: ResultsFileArg,
    out: Annotated[Path, typer.Option(help="Figure file: .png, .svg or .pdf.")] = Path(
        "frontier.png"
    ),
    split: Annotated[
        SplitChoice, typer.Option(help="Which split's metrics to draw.")
    ] = SplitChoice.test,
    title: Annotated[
        str | None, typer.Option(help="Figure title (default: problem, points, split).")
    ] = None,
    dpi: Annotated[int, typer.Option(help="Resolution of PNG output (dots per inch).")] = 150,
    view: Annotated[
        ViewChoice,
        typer.Option(
            help="auto: pairwise panels up to 3 tasks, else parallel coordinates; paths (the "
            "default for problems with a known front whose runs record their path, e.g. toy): "
            "each run's path to the true front, one column per method."
        ),
    ] = ViewChoice.auto,
    three_d: Annotated[
        bool, typer.Option("--3d", metavar="", help="With 3 tasks: add a 3-D view of the front.")
    ] = False,
    epochs: Annotated[
        int | None, typer.Option(help="With several training settings in the file: which.")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="With several training settings: which.")
    ] = None,
    lr: Annotated[float | None, typer.Option(help="With several training settings: which.")] = None,
    model: Annotated[
        str | None, typer.Option(help="With several training settings: which model.")
    ] = None,
) -> None:
    """Draw the sweep frontier (and the methods' points) from a results file."""
    from paretokit.plot import plot_frontier
    from paretokit.results import read_results

    results = read_results(results_file)
    setting = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "model": model}
    path = plot_frontier(
        results,
        out,
        split.value,
        title=title,
        dpi=dpi,
        view=view.value,
        three_d=three_d,
        setting=setting,
    )
    console.print(f"wrote {path}")


@app.command()
@user_errors
def merge(
    files: Annotated[
        list[Path],
        typer.Argument(help="Results files, e.g. one per sweep worker.", show_default=False),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Merged results file (created, or the rows are added to it)."
        ),
    ],
) -> None:
    """Merge results files of one problem and task selection into one, each run once.

    Rows are keyed by (run_id, split): a row another file already holds is dropped.
    """
    from paretokit.results import merge_results

    rows, dropped = merge_results(files, out)
    wide_console().print(f"{rows} rows in {escape(str(out))} ({dropped} duplicate rows dropped)")


@app.command()
@user_errors
def export(
    storage: Annotated[str, typer.Option(help="Optuna storage URL of the sweep study.")],
    study_name: Annotated[str, typer.Option(help="The sweep's study name.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Results file (rows are appended).")
    ] = Path("results.parquet"),
    allow_import: Annotated[
        bool,
        typer.Option(
            "--allow-import",
            help="Let a study from before its metadata was stored import the user problem module "
            "its setting names (off: a shared study never makes a reader run code).",
        ),
    ] = False,
) -> None:
    """Rebuild a sweep's results rows from its Optuna study (every worker's finished trials)."""
    from paretokit.study.export import export_study

    rows = export_study(storage, study_name, out, allow_import=allow_import)
    wide_console().print(f"{rows} new rows from study {escape(study_name)} → {escape(str(out))}")
