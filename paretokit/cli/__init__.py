"""The ``paretokit`` command line: thin Typer commands that parse, call the library, render.

One module per command group registers its commands on :data:`app`: ``sweep``, ``compare``,
``study``, ``report`` (report, plot, merge, export) and ``listing`` (problems, methods). Importing this
package imports neither torch, optuna nor cvxpy: each command imports the library it needs.
"""

from __future__ import annotations

# isort: off
# the modules register their commands on `app` in this order, which --help lists
from paretokit.cli import sweep, compare, study, report, listing  # noqa: F401

# isort: on
from paretokit.cli._app import app
from paretokit.cli.compare import parse_options
from paretokit.cli.sweep import frontier_frame

__all__ = ["app", "frontier_frame", "parse_options"]
