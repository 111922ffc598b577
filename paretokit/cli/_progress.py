"""Progress for long commands: the callbacks ``sweep`` and ``compare`` hand to the library.

On a terminal, rich progress bars on stderr; the library only calls the hooks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from paretokit.cli._app import err_console

if TYPE_CHECKING:
    from paretokit.compare import CompareCallbacks
    from paretokit.sweep import SweepCallbacks


@contextmanager
def _bars() -> Iterator[Progress]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
    with progress:
        yield progress


@contextmanager
def sweep_progress(count_failed: bool) -> Iterator[SweepCallbacks]:
    """Callbacks drawing the study's trials (every worker's) and the current batch's epochs."""
    from paretokit.sweep import SweepCallbacks

    with _bars() as progress:
        bars: dict[str, TaskID] = {}  # added once the sweep has validated its input

        def on_start(name: str, counts: Any, total: int) -> None:
            bars["trials"] = progress.add_task(f"study {escape(name)}", total=total)
            bars["epochs"] = progress.add_task("epochs", total=1, visible=False)
            on_progress(counts)

        def on_progress(counts: Any) -> None:  # the study's, across all workers
            progress.update(
                bars["trials"],
                completed=counts.counted(count_failed),
                description=f"trials: {counts.complete} complete, {counts.failed} failed, "
                f"{counts.running} running",
            )

        def on_batch_start(numbers: list[int], weights: list[list[float]]) -> None:
            if len(numbers) == 1:
                label = f"trial {numbers[0]} w=({_weights(weights[0])})"
            else:
                label = f"trials {numbers[0]}–{numbers[-1]} (population of {len(numbers)})"
            progress.reset(bars["epochs"], total=1, visible=True)
            progress.update(bars["epochs"], description=label)

        def on_epoch(epoch: int, total: int) -> None:
            progress.update(bars["epochs"], completed=epoch, total=total)

        def on_trial_end(number: int, status: str, error: str) -> None:
            if status != "ok":
                progress.console.print(f"[yellow]trial {number} failed:[/] {escape(error)}")

        def on_wait(counts: Any) -> None:
            progress.update(
                bars["epochs"],
                visible=True,
                description=f"waiting for {counts.running} trial(s) of other workers",
            )

        yield SweepCallbacks(on_start, on_batch_start, on_epoch, on_trial_end, on_progress, on_wait)


@contextmanager
def compare_progress() -> Iterator[CompareCallbacks]:
    """Callbacks drawing the runs left to train and the current run's epochs."""
    from paretokit.compare import CompareCallbacks

    with _bars() as progress:
        bars: dict[str, TaskID] = {}  # added once the comparison has validated its input

        def on_plan(todo: int, skipped: int) -> None:
            if todo == 0:
                return  # nothing to train: no progress bar (the summary line says so)
            bars["runs"] = progress.add_task(f"runs ({skipped} already done)", total=todo)
            bars["epochs"] = progress.add_task("epochs", total=1, visible=False)

        def on_run_start(run: Any) -> None:
            progress.reset(bars["epochs"], total=1, visible=True)
            progress.update(bars["epochs"], description=f"{escape(run.label)} seed {run.seed}")

        def on_epoch(epoch: int, total: int) -> None:
            progress.update(bars["epochs"], completed=epoch, total=total)

        def on_run_end(run: Any, status: str, error: str) -> None:
            progress.advance(bars["runs"])
            if status != "ok":
                progress.console.print(
                    f"[yellow]{escape(run.label)} seed {run.seed} failed:[/] {escape(error)}"
                )

        yield CompareCallbacks(on_plan, on_run_start, on_epoch, on_run_end)


def _weights(w: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in w)
