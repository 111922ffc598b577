"""The ``paretokit`` command line: parse, call the library, render with rich.

Errors a user can cause are :class:`~paretokit.errors.ParetokitError`: one red line on stderr
and exit code 1 (Typer's usage errors exit 2). Nothing else should reach a user.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from paretokit import __version__
from paretokit.errors import ParetokitError
from paretokit.results import ResultsMeta

app = typer.Typer(
    name="paretokit",
    help="Does an adaptive multi-task optimization method beat a swept linear scalarization? "
    "Trace the Pareto frontier (sweep), run the methods (compare), and plot them together.",
    rich_markup_mode="markdown",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console(soft_wrap=True)  # lines are not cut at 80 columns when piped
err_console = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json", "csv", "markdown")


def _user_errors(fn: F) -> F:
    """Turn a ParetokitError into one red line and exit 1; Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ParetokitError as exc:
            err_console.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]: re-run the same command to resume")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        console.print(f"paretokit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """paretokit: adaptive MTO methods against the linear-scalarization Pareto frontier."""


@app.command()
@_user_errors
def problems() -> None:
    """List the built-in problems with their tasks, metrics and data sources."""
    from paretokit.problems import builtin_problems, problem_class

    table = Table(title="built-in problems", show_lines=True)
    for col in ("problem", "tasks (metric, direction)", "default tasks", "defaults", "data"):
        table.add_column(col, overflow="fold")
    for name in builtin_problems():
        cls = problem_class(name)
        tasks = cls.list_tasks() if hasattr(cls, "list_tasks") else cls().available_tasks()
        listing = ", ".join(
            f"{t.name} ({t.metric}{' ' + t.unit if t.unit else ''}, {'↑' if t.higher_is_better else '↓'})"
            for t in tasks
        )
        d = cls.defaults
        table.add_row(
            f"[bold]{name}[/]\n{cls.summary}",
            listing,
            str(cls.default_n_tasks or len(tasks)),
            f"{d.epochs} epochs, batch {d.batch_size}, lr {d.lr:g}",
            cls.source,
        )
    console.print(table)


@app.command()
@_user_errors
def sweep(
    problem: str = typer.Option("qm9", help="Built-in problem, or package.module:factory."),
    tasks: str = typer.Option(
        None, help="First N tasks ('3') or task names ('mu,alpha,homo'); default: the problem's."
    ),
    trials: int = typer.Option(
        16, help="The study's total budget of complete trials, across all workers."
    ),
    epochs: int = typer.Option(None, help="Epochs per trial (default: the problem's)."),
    batch_size: int = typer.Option(None, help="Batch size (default: the problem's)."),
    lr: float = typer.Option(None, help="Adam learning rate (default: the problem's)."),
    seed: int = typer.Option(0, help="Seed of model init, data order and sampler."),
    storage: str = typer.Option(
        None, help="Optuna storage URL (default: SQLite file paretokit-studies.db next to --out)."
    ),
    study_name: str = typer.Option(None, help="Study name (default: derived from the setting)."),
    out: Path = typer.Option(Path("results.parquet"), help="Results file (rows are appended)."),
    device: str = typer.Option("auto", help="auto (CUDA if available), cpu or cuda[:N]."),
    sampler: str = typer.Option(
        "dirichlet",
        help="Where the weights go: dirichlet (uniform on the simplex), grid (the simplex "
        "lattice, each point once), qmc (scrambled Sobol), tpe or nsga2 (Optuna's), adaptive "
        "(into the front's largest gap); random = dirichlet.",
    ),
    grid_resolution: int = typer.Option(
        None, help="grid sampler: lattice resolution n, w_k = i/n (default: fits --trials)."
    ),
    population: str = typer.Option(
        "1",
        help="Trials trained at once as one batched model (same data batches, own weights), "
        "or 'auto': as many as fit the device's memory.",
    ),
    count_failed: bool = typer.Option(
        False,
        "--count-failed",
        help="Let failed trials (e.g. a NaN loss) count against --trials; by default another "
        "trial is asked instead, and the sweep stops once as many trials failed as --trials.",
    ),
    fmt: str = typer.Option(
        "table", "--format", help="Frontier output: table, json, csv, markdown."
    ),
    heartbeat_interval: int = typer.Option(
        60, hidden=True, help="Seconds between a running trial's heartbeats (RDB storages)."
    ),
    grace_period: int = typer.Option(
        180, hidden=True, help="Seconds without a heartbeat before a trial is failed and retried."
    ),
) -> None:
    """Trace the Pareto frontier: an Optuna study over loss weights on the simplex.

    Re-running the same command resumes the study: --trials is the total, not an increment.
    The same command on several machines against one --storage shares the study and its
    budget; the progress counts every worker's trials.
    """
    from paretokit.sweep import SweepCallbacks, SweepConfig, TrialCounts, run_sweep

    _check_format(fmt)
    config = SweepConfig(
        problem=problem,
        tasks=tasks,
        trials=trials,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        storage=storage,
        study_name=study_name,
        out=out,
        device=device,
        sampler=sampler,
        grid_resolution=grid_resolution,
        population=population,
        count_failed=count_failed,
        heartbeat_interval=heartbeat_interval,
        grace_period=grace_period,
    )
    with _progress() as progress:
        bars: dict[str, TaskID] = {}  # added once the sweep has validated its input

        def on_start(name: str, counts: TrialCounts, total: int) -> None:
            bars["trials"] = progress.add_task(f"study {escape(name)}", total=total)
            bars["epochs"] = progress.add_task("epochs", total=1, visible=False)
            on_progress(counts)

        def on_progress(counts: TrialCounts) -> None:  # the study's, across all workers
            progress.update(
                bars["trials"],
                completed=counts.counted(count_failed),
                description=f"trials: {counts.complete} complete, {counts.failed} failed, "
                f"{counts.running} running",
            )

        def on_batch_start(numbers: list[int], weights: list[list[float]]) -> None:
            if len(numbers) == 1:
                shown = ", ".join(f"{x:.2f}" for x in weights[0])
                label = f"trial {numbers[0]} w=({shown})"
            else:
                label = f"trials {numbers[0]}–{numbers[-1]} (population of {len(numbers)})"
            progress.reset(bars["epochs"], total=1, visible=True)
            progress.update(bars["epochs"], description=label)

        def on_epoch(epoch: int, total: int) -> None:
            progress.update(bars["epochs"], completed=epoch, total=total)

        def on_trial_end(number: int, status: str, error: str) -> None:
            if status != "ok":
                progress.console.print(f"[yellow]trial {number} failed:[/] {escape(error)}")

        def on_wait(counts: TrialCounts) -> None:
            progress.update(
                bars["epochs"],
                visible=True,
                description=f"waiting for {counts.running} trial(s) of other workers",
            )

        outcome = run_sweep(
            config,
            SweepCallbacks(on_start, on_batch_start, on_epoch, on_trial_end, on_progress, on_wait),
        )
    console.print(
        f"study [bold]{escape(outcome.study_name)}[/]: {outcome.complete} complete, "
        f"{outcome.failed} failed ({outcome.new_trials} new) → "
        f"{escape(str(outcome.out))}"
    )
    if outcome.results is None or outcome.frontier.empty:
        console.print("no finished sweep points yet")
        return
    _render(
        frontier_frame(outcome.frontier, outcome.results.meta, fmt),
        f"non-dominated sweep points (validation split, {len(outcome.frontier)} of "
        f"{outcome.complete})",
        fmt,
    )


@app.command()
@_user_errors
def methods() -> None:
    """List the multi-task optimization methods: kind, summary, options and citation."""
    from paretokit.methods import method_class, method_names

    table = Table(title="methods", show_lines=True)
    for col in ("method", "kind", "summary", "options (paper defaults)", "citation"):
        table.add_column(col, overflow="fold")
    for name in method_names():
        cls = method_class(name)
        opts = ", ".join(f"{k}={v!r}" for k, v in cls.option_defaults().items()) or "-"
        table.add_row(f"[bold]{name}[/]", cls.kind, cls.summary, escape(opts), escape(cls.citation))
    console.print(table)


@app.command()
@_user_errors
def compare(
    methods: list[str] = typer.Argument(..., help="Methods to run (`paretokit methods`)."),
    problem: str = typer.Option("qm9", help="Built-in problem, or package.module:factory."),
    tasks: str = typer.Option(
        None, help="First N tasks ('3') or task names ('mu,alpha,homo'); default: the problem's."
    ),
    seeds: int = typer.Option(3, help="Seeds per method: 0 … N−1."),
    epochs: int = typer.Option(None, help="Epochs per run (default: the problem's)."),
    batch_size: int = typer.Option(None, help="Batch size (default: the problem's)."),
    lr: float = typer.Option(None, help="Adam learning rate (default: the problem's)."),
    out: Path = typer.Option(Path("results.parquet"), help="Results file (rows are appended)."),
    device: str = typer.Option("auto", help="auto (CUDA if available), cpu or cuda[:N]."),
    split: str = typer.Option("test", help="Split the table reports: val or test."),
    update_every: int = typer.Option(None, help="Nash-MTL-N: recompute the weights every N steps."),
    main_task: str = typer.Option(None, help="Main task (by name) of gradsim and metabalance."),
    option: list[str] = typer.Option(
        [],
        "--option",
        "-o",
        help="A method option KEY=VALUE (to every method that has it) or METHOD.KEY=VALUE.",
    ),
    fmt: str = typer.Option("table", "--format", help="Output: table, json, csv, markdown."),
) -> None:
    """Run adaptive MTO methods (and STL baselines) on the sweep's setting and compare them.

    Same problem, model, data, epochs and seeds for every method. The table gives per-task
    metrics (mean ± std over seeds), Δm% against STL, mean rank, and whether a sweep point of
    the same setting in the results file dominates each method.
    """
    from paretokit.compare import CompareCallbacks, CompareConfig, run_compare
    from paretokit.results import SPLITS

    _check_format(fmt)
    if split not in SPLITS:
        raise ParetokitError(f"--split must be one of {', '.join(SPLITS)}")
    shared, scoped = parse_options(option)
    if update_every is not None:
        shared["update_every"] = update_every
    if main_task is not None:
        shared["main_task"] = main_task
    config = CompareConfig(
        methods=methods,
        problem=problem,
        tasks=tasks,
        seeds=seeds,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        out=out,
        device=device,
        split=split,
        options=shared,
        method_options=scoped,
    )
    with _progress() as progress:
        bars: dict[str, TaskID] = {}  # added once the comparison has validated its input

        def on_plan(todo: int, skipped: int) -> None:
            if todo == 0:
                return  # nothing to train: no progress bar (the summary line says so)
            bars["runs"] = progress.add_task(f"runs ({skipped} already done)", total=todo)
            bars["epochs"] = progress.add_task("epochs", total=1, visible=False)

        def on_run_start(run) -> None:
            progress.reset(bars["epochs"], total=1, visible=True)
            progress.update(bars["epochs"], description=f"{escape(run.label)} seed {run.seed}")

        def on_epoch(epoch: int, total: int) -> None:
            progress.update(bars["epochs"], completed=epoch, total=total)

        def on_run_end(run, status: str, error: str) -> None:
            progress.advance(bars["runs"])
            if status != "ok":
                progress.console.print(
                    f"[yellow]{escape(run.label)} seed {run.seed} failed:[/] {escape(error)}"
                )

        outcome = run_compare(config, CompareCallbacks(on_plan, on_run_start, on_epoch, on_run_end))
    console.print(
        f"{outcome.trained} runs trained ({outcome.failed} failed), {outcome.skipped} already in "
        f"{escape(str(outcome.out))}"
    )
    _render(
        comparison_frame(outcome.table, outcome.setting["tasks"], fmt),
        f"{outcome.setting['problem']} {', '.join(outcome.setting['tasks'])}: "
        f"{split} metrics, Δm% vs STL (lower is better)",
        fmt,
    )


def parse_options(items: list[str]) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    """``KEY=VALUE`` → shared options; ``METHOD.KEY=VALUE`` → that method's. Values are read as
    JSON when they parse (numbers, true/false, lists), else kept as strings."""
    shared: dict[str, object] = {}
    scoped: dict[str, dict[str, object]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ParetokitError(f"--option {item!r}: expected KEY=VALUE or METHOD.KEY=VALUE")
        try:
            value: object = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        method, dot, name = key.rpartition(".")
        if dot:
            scoped.setdefault(method, {})[name] = value
        else:
            shared[name] = value
    return shared, scoped


def comparison_frame(table: pd.DataFrame, tasks: list[str], fmt: str) -> pd.DataFrame:
    """For the rich table, 'mean ± std' cells; machine formats keep separate columns."""
    if fmt != "table" or table.empty:
        return table
    shown = pd.DataFrame({"method": table["method"], "seeds": table["seeds"]})
    for t in tasks:
        shown[t] = [  # one seed has no spread to show
            f"{m:.4g} ± {s:.2g}" if n > 1 else f"{m:.4g}"
            for m, s, n in zip(table[t], table[f"{t}.std"], table["seeds"])
        ]
    shown["Δm%"] = table["delta_m"].map(lambda v: f"{v:+.2f}" if pd.notna(v) else "n/a")
    shown["mean rank"] = table["mean_rank"].map(lambda v: f"{v:.2f}")
    shown["dominated by sweep"] = table["dominated"].replace("", "no sweep")
    shown["step ms"] = table["step_ms"].map(lambda v: f"{v:.2f}")
    return shown


@app.command()
@_user_errors
def plot(
    results_file: Path = typer.Argument(..., help="A results file written by sweep/compare."),
    out: Path = typer.Option(Path("frontier.png"), help="Figure file: .png, .svg or .pdf."),
    split: str = typer.Option("test", help="Which split's metrics to draw: val or test."),
    title: str = typer.Option(None, help="Figure title (default: problem, points, split)."),
    dpi: int = typer.Option(150, help="Resolution of PNG output (dots per inch)."),
    view: str = typer.Option(
        "auto", help="auto (pairwise panels up to 3 tasks, else parallel), pairs or parallel."
    ),
    three_d: bool = typer.Option(False, "--3d", help="With 3 tasks: add a 3-D view of the front."),
    epochs: int = typer.Option(None, help="With several training settings in the file: which."),
    batch_size: int = typer.Option(None, help="With several training settings: which."),
    lr: float = typer.Option(None, help="With several training settings: which."),
) -> None:
    """Draw the sweep frontier (and the methods' points) from a results file."""
    from paretokit.plot import plot_frontier
    from paretokit.results import SPLITS, read_results

    if split not in SPLITS:
        raise ParetokitError(f"--split must be one of {', '.join(SPLITS)}")
    results = read_results(results_file)
    setting = {"epochs": epochs, "batch_size": batch_size, "lr": lr}
    path = plot_frontier(
        results, out, split, title=title, dpi=dpi, view=view, three_d=three_d, setting=setting
    )
    console.print(f"wrote {path}")


@app.command()
@_user_errors
def merge(
    files: list[Path] = typer.Argument(..., help="Results files, e.g. one per sweep worker."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Merged results file (created, or the rows are added to it)."
    ),
) -> None:
    """Merge results files of one problem and task selection into one, each run once.

    Rows are keyed by (run_id, split): a row another file already holds is dropped.
    """
    from paretokit.results import merge_results

    rows, dropped = merge_results(files, out)
    _wide_console().print(f"{rows} rows in {escape(str(out))} ({dropped} duplicate rows dropped)")


@app.command()
@_user_errors
def export(
    storage: str = typer.Option(..., help="Optuna storage URL of the sweep study."),
    study_name: str = typer.Option(..., help="The sweep's study name."),
    out: Path = typer.Option(
        Path("results.parquet"), "--out", "-o", help="Results file (rows are appended)."
    ),
) -> None:
    """Rebuild a sweep's results rows from its Optuna study (every worker's finished trials)."""
    from paretokit.sweep import export_study

    rows = export_study(storage, study_name, out)
    _wide_console().print(f"{rows} new rows from study {escape(study_name)} → {escape(str(out))}")


@app.command()
@_user_errors
def report(
    results_file: Path = typer.Argument(..., help="A results file written by sweep/compare."),
    split: str = typer.Option("test", help="Which split's metrics to report: val or test."),
    fmt: str = typer.Option("table", "--format", help="Output: table, markdown, json, csv."),
    baseline: str = typer.Option(
        "stl", help="Δm% baseline: stl (single-task models) or a method's label."
    ),
    margin: float = typer.Option(
        0.1, help="Hypervolume reference: the nadir plus this fraction of each metric's range."
    ),
) -> None:
    """Every method against the sweep front: metrics over seeds, Δm%, mean rank, dominance,
    ε-distance, hypervolume, and what the sweep would have cost to match each method."""
    from paretokit import report_format as rf
    from paretokit.report import build_reports
    from paretokit.results import read_results

    _check_format(fmt)
    reports = build_reports(read_results(results_file), split, baseline, margin)
    if fmt == "json":
        sys.stdout.write(rf.dumps_json(reports) + "\n")
    elif fmt == "csv":
        sys.stdout.write(rf.to_csv(reports))
    elif fmt == "markdown":
        sys.stdout.write(rf.to_markdown(reports))
    else:
        out = _wide_console()
        for r in reports:
            for line in rf.summary_lines(r):
                out.print(escape(line))
            frame = rf.display_frame(r)
            if not frame.empty:
                _render(frame, "methods against the sweep front", fmt)
            for line in rf.verdict_lines(r):
                out.print(escape(line))
            for note in r.notes:
                out.print(f"[yellow]note:[/yellow] {escape(note)}")
            out.print()


def frontier_frame(front: pd.DataFrame, meta: ResultsMeta, fmt: str) -> pd.DataFrame:
    """The frontier's trial, weights and val metrics; the rich table gets readable headers
    ("mu MAE [D] ↓"), machine formats keep the file's column names."""
    tasks = meta.task_names
    frame = front[["trial"] + [f"w.{t}" for t in tasks] + [f"metric.{t}" for t in tasks]]
    frame = frame.reset_index(drop=True)
    if fmt != "table":
        return frame
    names = {f"w.{t.name}": f"w {t.name}" for t in meta.tasks}
    for t in meta.tasks:
        unit = f" [{t.unit}]" if t.unit else ""
        names[f"metric.{t.name}"] = (
            f"{t.name} {t.metric.upper()}{unit} {'↑' if t.higher_is_better else '↓'}"
        )
    return frame.rename(columns=names)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ParetokitError(f"--format must be one of {', '.join(FORMATS)}")


def _render(frame: pd.DataFrame, title: str, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(frame.to_dict(orient="records"), indent=2) + "\n")
    elif fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "markdown":
        sys.stdout.write(_markdown(frame) + "\n")
    else:
        table = Table(title=title)
        for i, col in enumerate(frame.columns):  # escaped: units like "[eV]" are not markup
            table.add_column(escape(str(col)), justify="right", no_wrap=i == 0)
        for _, row in frame.iterrows():
            table.add_row(*(escape(_cell(v)) for v in row))
        _wide_console().print(table)


def _wide_console() -> Console:
    """The console, or, piped to a file or a pager where there is no terminal width to
    respect, one wide enough not to squeeze tables and lines."""
    return console if console.is_terminal else Console(width=max(console.width, 200))


def _markdown(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    sep = "|" + "|".join("---:" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for _, row in frame.iterrows()]
    return "\n".join([head, sep, *body])


def _cell(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


if __name__ == "__main__":
    app()
