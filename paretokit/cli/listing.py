"""``paretokit problems`` and ``paretokit methods``: what there is to run."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from paretokit.cli._app import app, console, user_errors


@app.command()
@user_errors
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
            f"{t.name} ({t.metric}{' ' + t.unit if t.unit else ''}, "
            f"{'↑' if t.higher_is_better else '↓'})"
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
@user_errors
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
