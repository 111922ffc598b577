"""The Typer application, the consoles, and the one error wrapper every command uses.

Errors a user can cause are :class:`~paretokit.errors.ParetokitError`: one red line on stderr
and exit code 1 (Typer's usage errors exit 2). Nothing else should reach a user.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from paretokit import __version__
from paretokit.errors import ParetokitError, mask_password

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


def user_errors(fn: F) -> F:
    """Turn a ParetokitError into one red line and exit 1; Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ParetokitError as exc:
            _error_line(str(exc))
            raise typer.Exit(1) from None
        except OSError as exc:  # the disk, not the input: full, read-only, gone
            where = f" {exc.filename!s}" if exc.filename else ""
            _error_line(f"cannot write or read{where}: {exc.strerror or exc}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]: re-run the same command to resume")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _error_line(message: str) -> None:
    """One red line; storage URLs in it lose their password."""
    text = " ".join(mask_password(message).split())
    err_console.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)


def wide_console() -> Console:
    """The console, or, piped to a file or a pager where there is no terminal width to
    respect, one wide enough not to squeeze tables and lines."""
    return console if console.is_terminal else Console(width=max(console.width, 200))


def _version(value: bool) -> None:
    if value:
        console.print(f"paretokit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", metavar="", callback=_version, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """paretokit: adaptive MTO methods against the linear-scalarization Pareto frontier."""
