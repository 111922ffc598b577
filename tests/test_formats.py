"""Every ``--format`` of every command that has one: machine formats put only the data on
stdout (messages go to stderr), JSON is strict (null, never NaN), CSV is one table."""

from __future__ import annotations

import csv
import inspect
import io
import json

import pytest
from typer.testing import CliRunner

from paretokit.cli import app

runner = CliRunner()
TINY = ["--problem", "multidigits", "--epochs", "1", "--device", "cpu"]


def commands_with_format() -> set[str]:
    return {
        c.name or c.callback.__name__
        for c in app.registered_commands
        if "fmt" in inspect.signature(c.callback).parameters
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One sweep (2 trials) and one comparison (LS, one seed: its spread is undefined) in one
    results file, so that the resumed commands below train nothing."""
    tmp = tmp_path_factory.mktemp("formats")
    out, db = tmp / "r.parquet", f"sqlite:///{tmp / 's.db'}"
    sweep = ["sweep", *TINY, "--trials", "2", "--out", str(out), "--storage", db]
    compare = ["compare", "ls", *TINY, "--seeds", "1", "--out", str(out)]
    for args in (sweep, compare):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return {"sweep": sweep, "compare": compare, "report": ["report", str(out)]}


def strict_json(text: str):
    def refuse(name: str):
        raise AssertionError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_the_test_covers_every_command_with_a_format(files):
    assert commands_with_format() == set(files)


@pytest.mark.parametrize("command", ["sweep", "compare", "report"])
@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "table"])
def test_stdout_is_the_data_alone(files, command, fmt):
    result = runner.invoke(app, [*files[command], "--format", fmt])
    assert result.exit_code == 0, result.output
    out = result.stdout
    if fmt == "json":
        data = strict_json(out)
        rows = data if isinstance(data, list) else [data]
        assert rows and all(isinstance(r, dict) for r in rows)
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert len(rows) >= 2 and {len(r) for r in rows} == {len(rows[0])}
    elif fmt == "markdown":
        assert "|---" in out or "| ---" in out
    else:
        assert out.strip()
    if fmt in ("json", "csv") and command != "report":
        assert "trained" in result.stderr or "complete" in result.stderr  # the summary line


def test_compare_json_has_null_for_an_undefined_spread(files):
    result = runner.invoke(app, [*files["compare"], "--format", "json"])
    (report,) = strict_json(result.stdout)  # compare prints the setting's report
    ls = next(r for r in report["methods"] if r["method"] == "ls")
    assert ls["seeds"] == 1 and ls["left.std"] is None
