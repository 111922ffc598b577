"""Commands that train nothing start fast: they import neither torch, optuna nor cvxpy.

Each check runs in a fresh interpreter, because this test process has imported them all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "optuna", "cvxpy")
ROOT = Path(__file__).resolve().parent.parent


def imported_after(code: str, cwd: Path = ROOT) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter; which of HEAVY it left in ``sys.modules``."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli(*args: str) -> str:
    """Run the command line in-process (its SystemExit caught), as the console script does."""
    return (
        "import sys\nfrom paretokit.cli import app\n"
        f"try:\n    app({list(args)!r}, prog_name='paretokit')\nexcept SystemExit as e:\n"
        "    assert e.code in (0, None), e.code\n"
    )


def test_importing_the_cli_imports_no_heavy_library():
    assert imported_after("import paretokit.cli") == dict.fromkeys(HEAVY, False)


@pytest.mark.parametrize(
    "args", [["--help"], ["sweep", "--help"], ["compare", "--help"], ["study", "--help"]]
)
def test_help_imports_no_heavy_library(args):
    assert imported_after(cli(*args)) == dict.fromkeys(HEAVY, False)


@pytest.fixture(scope="module")
def results_file(tmp_path_factory) -> Path:
    """A small results file with sweep points, methods and STL (no training)."""
    from tests.test_report import write_file

    path = tmp_path_factory.mktemp("imports") / "r.parquet"
    write_file(path)
    return path


def test_report_plot_merge_import_no_heavy_library(results_file, tmp_path):
    for args in (
        ["report", str(results_file)],
        ["report", str(results_file), "--format", "json"],
        ["plot", str(results_file), "--out", str(tmp_path / "f.png")],
        ["merge", str(results_file), "--out", str(tmp_path / "m.parquet")],
    ):
        assert imported_after(cli(*args)) == dict.fromkeys(HEAVY, False), args
    assert (tmp_path / "f.png").stat().st_size > 0 and (tmp_path / "m.parquet").exists()


@pytest.mark.parametrize("command", ["problems", "methods"])
def test_listings_import_no_heavy_library(command):
    """The listings read the shipped catalog (paretokit.catalog), not the torch classes."""
    assert imported_after(cli(command)) == dict.fromkeys(HEAVY, False)


def test_plotting_leaves_the_matplotlib_backend_alone(results_file, tmp_path):
    """A notebook's backend stays what it was: plot_frontier draws on a Figure of its own and
    saves through the file type's canvas, without pyplot or matplotlib.use."""
    code = (
        "import matplotlib\nmatplotlib.use('svg')\nimport sys\n"
        "from paretokit.plot import plot_frontier\nfrom paretokit.results import read_results\n"
        f"plot_frontier(read_results({str(results_file)!r}), "
        f"__import__('pathlib').Path({str(tmp_path / 'f.png')!r}), 'test')\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    imported_after(code)
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
