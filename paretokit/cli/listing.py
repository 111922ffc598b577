"""``paretokit problems`` and ``paretokit methods``: what there is to run."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from paretokit import catalog
from paretokit.cli._app import app, console, user_errors


@app.command()
@user_errors
def problems() -> None:
    """List the built-in problems with their tasks, metrics and data sources."""
    table = Table(title="built-in problems", show_lines=True)
    for col in ("problem", "tasks (metric, direction)", "default tasks", "defaults", "data"):
        table.add_column(col, overflow="fold")
    for row in catalog.load()["problems"]:
        table.add_row(
            f"[bold]{row['name']}[/]\n{row['summary']}",
            row["tasks"],
            row["default_tasks"],
            row["defaults"],
            row["source"],
        )
    console.print(table)


@app.command()
@user_errors
def methods() -> None:
    """List the multi-task optimization methods: kind, summary, options and citation."""
    table = Table(title="methods", show_lines=True)
    table.add_column("method", no_wrap=True)
    for col in ("kind", "summary", "options (paper defaults)", "gradients", "citation"):
        table.add_column(col, overflow="fold")
    for row in catalog.load()["methods"]:
        table.add_row(
            f"[bold]{row['name']}[/]",
            row["kind"],
            row["summary"],
            escape(row["options"]),
            row["gradients"],
            escape(row["citation"]),
        )
    console.print(table)
    console.print(
        "gradients: what an aggregation sees (* = its default; `compare --gradients` or "
        "-o feature_level=true|false). features = ∇_z L_k for the shared representation "
        "z = trunk(x) (MGDA-UB, LibMTL's rep_grad): one backward through the trunk instead of "
        "K, and weights from the features' Gramian, which approximates the parameters' "
        "Gramian by dropping the trunk Jacobian's metric (exact when JJᵀ ∝ I)."
    )
