"""``python -m paretokit.cli``: the same command line as the ``paretokit`` script."""

from paretokit.cli import app

app(prog_name="paretokit")
