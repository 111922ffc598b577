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
            f"{d.epochs} epochs, batch {d.batch_size}, lr {d.lr:g}; model {' | '.join(cls.models)}",
            cls.source,
        )
    console.print(table)


@app.command()
@user_errors
def methods() -> None:
    """List the multi-task optimization methods: kind, summary, options and citation."""
    from paretokit.methods import method_class, method_names

    table = Table(title="methods", show_lines=True)
    table.add_column("method", no_wrap=True)
    for col in ("kind", "summary", "options (paper defaults)", "gradients", "citation"):
        table.add_column(col, overflow="fold")
    for name in method_names():
        cls = method_class(name)
        defaults = cls.option_defaults()
        opts = ", ".join(f"{k}={v!r}" for k, v in defaults.items()) or "-"
        if "feature_level" in defaults:  # see GramianWeighting: what feature gradients are
            grads = (
                "features*, parameters" if defaults["feature_level"] else "parameters*, features"
            )
        else:
            grads = "parameters" if cls.kind == "aggregation" else "-"
        table.add_row(
            f"[bold]{name}[/]", cls.kind, cls.summary, escape(opts), grads, escape(cls.citation)
        )
    console.print(table)
    console.print(
        "gradients: what an aggregation sees (* = its default; `compare --gradients` or "
        "-o feature_level=true|false). features = ∇_z L_k for the shared representation "
        "z = trunk(x) (MGDA-UB, LibMTL's rep_grad): one backward through the trunk instead of "
        "K, and weights from the features' Gramian, which approximates the parameters' "
        "Gramian by dropping the trunk Jacobian's metric (exact when JJᵀ ∝ I)."
    )
