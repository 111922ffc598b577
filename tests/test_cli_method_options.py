"""Method options through the CLI: typed from their declared defaults (one line per bad
value), and ``compare --gradients`` recorded in the rows' options."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from paretokit.cli import app
from paretokit.results import read_results

runner = CliRunner()
USER = "tests.user_problem:make"


@pytest.mark.parametrize(
    "methods, option, fragment",
    [
        (["cagrad"], "cagrad.c=abc", "cagrad: option c must be a finite number, got 'abc'"),
        (["cagrad"], "c=nan", "cagrad: option c must be a finite number, got 'nan'"),
        (["cagrad"], "c=NaN", "cagrad: option c must be a finite number, got nan"),
        (["cagrad"], "c=1e400", "cagrad: option c must be a finite number, got inf"),
        (["mgda"], "mgda.feature_level=maybe", "mgda: option feature_level must be true or false"),
        (["nashmtl"], "update_every=1.5", "nashmtl: option update_every must be an integer"),
        (["famo"], "min_losses=[0,1,null]", "famo: option min_losses must be a list of finite"),
    ],
)
def test_bad_option_values_are_one_line(tmp_path, monkeypatch, methods, option, fragment):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["compare", *methods, "--problem", USER, "-o", option])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    err = result.stderr.strip()
    assert err.startswith("error:") and "\n" not in err, err
    assert fragment in err
    assert not (tmp_path / "results.parquet").exists()


def test_gradients_features_is_recorded_in_the_rows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["compare", "upgrad", "--problem", USER, "--seeds", "1", "--epochs", "1"]
    args += ["--gradients", "features", "--device", "cpu", "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = read_results(tmp_path / "results.parquet").frame
    upgrad = rows[rows["kind"] == "method"]
    assert set(upgrad["method"]) == {"upgrad(feature_level=True)"}
    assert all(json.loads(o)["feature_level"] is True for o in upgrad["options"])
