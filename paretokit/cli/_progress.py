"""Progress for long commands: the callbacks ``sweep`` and ``compare`` hand to the library.

On a terminal, rich progress bars on stderr, started with the first bar (a command that
fails before any work leaves no trace). When stderr is not a terminal (a log file, a pipe, a
batch job), one plain line per finished trial or run instead: what it was, how long it
trained, and its metrics, so a long sweep's log shows how it goes.
"""

from __future__ import annotations

import math
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
    from paretokit.results import RunRecord
    from paretokit.study.config import SweepCallbacks


class _Bars:
    """Named rich bars on stderr; the display starts with the first bar."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        )
        self.ids: dict[str, TaskID] = {}

    def add(self, key: str, description: str, total: int, visible: bool = True) -> None:
        if not self.progress.live.is_started:
            self.progress.start()
        self.ids[key] = self.progress.add_task(description, total=total, visible=visible)

    def update(self, key: str, **kw: Any) -> None:
        self.progress.update(self.ids[key], **kw)

    def reset(self, key: str, description: str) -> None:
        self.progress.reset(self.ids[key], total=1, visible=True, description=description)

    def note(self, text: str) -> None:
        self.progress.console.print(text)

    def stop(self) -> None:
        if self.progress.live.is_started:
            self.progress.stop()


def _plain(text: str) -> None:
    """One line of a log: no markup, colour, wrapping or highlighting."""
    err_console.print(text, markup=False, highlight=False, soft_wrap=True)


def _weights(w: Any) -> str:
    return ", ".join(f"{x:.2f}" for x in w)


def record_line(record: RunRecord, what: str) -> str:
    """A finished run as one log line: ``what``, seconds, and each split's task metrics."""
    seconds = "" if math.isnan(record.train_seconds) else f" in {record.train_seconds:.1f} s"
    if record.status != "ok":
        return f"{what}: failed{seconds}: {record.error}"
    splits = "; ".join(
        f"{split} " + ", ".join(f"{t} {v:.4g}" for t, v in zip(record.task_names, values))
        for split, values in (record.metrics or {}).items()
    )
    return f"{what}: done{seconds}; {splits}"


@contextmanager
def sweep_progress(count_failed: bool) -> Iterator[SweepCallbacks]:
    """Callbacks showing the study's trials (every worker's) and the current batch's epochs:
    progress bars on a terminal, plain log lines elsewhere."""
    if not err_console.is_terminal:
        yield _sweep_log(count_failed)
        return
    bars = _Bars()
    try:
        yield _sweep_bars(bars, count_failed)
    finally:
        bars.stop()


def _sweep_log(count_failed: bool) -> SweepCallbacks:
    """The sweep's plain log: its start, each finished (trial, seed) with its metrics, waits
    for other workers, and a large population's asking in tenths."""
    from paretokit.study.config import SweepCallbacks

    waiting = [-1]

    def on_start(name: str, counts: Any, total: int) -> None:
        _plain(
            f"study {name}: {counts.counted(count_failed)} of {total} trials done "
            f"({counts.complete} complete, {counts.failed} failed, {counts.running} running)"
        )

    def on_record(record: RunRecord) -> None:
        what = f"trial {record.trial} seed {record.seed} w=({_weights(record.weights or [])})"
        _plain(record_line(record, what))

    def on_wait(counts: Any) -> None:
        if counts.running != waiting[0]:
            waiting[0] = counts.running
            _plain(f"waiting for {counts.running} trial(s) of other workers")

    def on_ask(asked: int, of: int) -> None:  # a large population: a line per tenth
        if of >= 100 and (asked * 10 // of != (asked - 1) * 10 // of or asked == of):
            _plain(f"asked {asked} of {of} trials")

    return SweepCallbacks(on_start=on_start, on_wait=on_wait, on_record=on_record, on_ask=on_ask)


def _sweep_bars(bars: _Bars, count_failed: bool) -> SweepCallbacks:
    """The sweep's bars: the study's trials (every worker's), and one bar for the current
    batch's epochs that also shows waits for other workers and a population's asking."""
    from paretokit.study.config import SweepCallbacks

    def on_start(name: str, counts: Any, total: int) -> None:
        bars.add("trials", f"study {escape(name)}", total)
        bars.add("epochs", "epochs", 1, visible=False)
        on_progress(counts)

    def on_progress(counts: Any) -> None:  # the study's, across all workers
        bars.update(
            "trials",
            completed=counts.counted(count_failed),
            description=f"trials: {counts.complete} complete, {counts.failed} failed, "
            f"{counts.running} running",
        )

    def on_batch_start(numbers: list[int], weights: list[list[float]]) -> None:
        if len(numbers) == 1:
            label = f"trial {numbers[0]} w=({_weights(weights[0])})"
        else:
            label = f"trials {numbers[0]}–{numbers[-1]} (population of {len(numbers)})"
        bars.reset("epochs", label)

    def on_epoch(epoch: int, total: int) -> None:
        bars.update("epochs", completed=epoch, total=total)

    def on_trial_end(number: int, status: str, error: str) -> None:
        if status != "ok":
            bars.note(f"[yellow]trial {number} failed:[/] {escape(error)}")

    def on_wait(counts: Any) -> None:
        bars.update(
            "epochs",
            visible=True,
            description=f"waiting for {counts.running} trial(s) of other workers",
        )

    def on_ask(asked: int, of: int) -> None:  # a large population takes a while to ask
        if of > 1:
            bars.update(
                "epochs", visible=True, description="asking trials", completed=asked, total=of
            )

    return SweepCallbacks(
        on_start, on_batch_start, on_epoch, on_trial_end, on_progress, on_wait, on_ask=on_ask
    )


@contextmanager
def compare_progress() -> Iterator[CompareCallbacks]:
    """Callbacks showing the runs left to train and the current run's epochs: progress bars
    on a terminal, plain log lines elsewhere."""
    if not err_console.is_terminal:
        yield _compare_log()
        return
    bars = _Bars()
    try:
        yield _compare_bars(bars)
    finally:
        bars.stop()


def _compare_log() -> CompareCallbacks:
    """compare's plain log: the plan, then each finished run with its metrics."""
    from paretokit.compare import CompareCallbacks

    def on_plan(todo: int, skipped: int) -> None:
        _plain(f"{todo} runs to train ({skipped} already in the results file)")

    def on_record(record: RunRecord) -> None:
        _plain(record_line(record, f"{record.method} seed {record.seed}"))

    return CompareCallbacks(on_plan=on_plan, on_record=on_record)


def _compare_bars(bars: _Bars) -> CompareCallbacks:
    """compare's bars: the runs left to train, and the current run's epochs."""
    from paretokit.compare import CompareCallbacks

    def on_plan(todo: int, skipped: int) -> None:
        if todo == 0:
            return  # nothing to train: no progress bar (the summary line says so)
        bars.add("runs", f"runs ({skipped} already done)", todo)
        bars.add("epochs", "epochs", 1, visible=False)

    def on_run_start(run: Any) -> None:
        bars.reset("epochs", f"{escape(run.label)} seed {run.seed}")

    def on_epoch(epoch: int, total: int) -> None:
        bars.update("epochs", completed=epoch, total=total)

    def on_run_end(run: Any, status: str, error: str) -> None:
        bars.progress.advance(bars.ids["runs"])
        if status != "ok":
            bars.note(f"[yellow]{escape(run.label)} seed {run.seed} failed:[/] {escape(error)}")

    return CompareCallbacks(on_plan, on_run_start, on_epoch, on_run_end)
