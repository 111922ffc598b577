"""The README's commands do what it says, run here on small settings: the user-problem
example from the current folder through the console script, and the main job's sweep and
figure (on a small synthetic problem instead of QM9's hours)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paretokit.cli import app
from paretokit.results import read_results

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def console_script() -> str:
    """The installed ``paretokit`` script (not ``python -m``: the script does not put the
    current folder on the path, which is what a user's ``--problem mymod:make`` needs)."""
    script = Path(sys.executable).with_name("paretokit")
    found = str(script) if script.exists() else shutil.which("paretokit")
    if found is None:
        pytest.skip("the paretokit console script is not installed")
    return found


def test_the_user_problem_example_runs_from_its_folder(tmp_path):
    (source,) = [b for b in blocks("python") if "class Lines(Problem)" in b]
    (tmp_path / "mymod.py").write_text(source)
    (commands,) = [b for b in blocks("bash") if "--problem mymod:make" in b]
    small = {"sweep": ["--trials", "2", "--epochs", "1"], "compare": ["--epochs", "1"]}
    for line in commands.strip().splitlines():
        argv = line.split()
        assert argv[0] == "paretokit", line
        argv += small.get(argv[1], [])
        done = subprocess.run(
            [console_script(), *argv[1:], *(["--device", "cpu"] if argv[1] in small else [])],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"{line}\n{done.stderr}"
    frame = read_results(tmp_path / "results.parquet").frame
    assert set(frame["kind"]) == {"sweep", "method", "stl"}
    assert sorted(frame.loc[frame["kind"] == "method", "method"].unique()) == ["mgda", "pcgrad"]
    assert "methods against the sweep front" in done.stdout  # the report


def test_the_main_job_sweeps_k_tasks_and_draws_the_figure(tmp_path, monkeypatch):
    """The set-up section's main job: `paretokit sweep --tasks 3`, then `paretokit plot
    results.parquet` → frontier.png (on synthetic data and one epoch, not QM9)."""
    (line,) = [b for b in blocks("bash") if "paretokit plot results.parquet" in b]
    commands = [c.strip() for c in line.split("&&") if "paretokit " in c]
    assert [c.split()[1] for c in commands] == ["sweep", "plot"]
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    small = ["--problem", "synthetic", "--epochs", "1", "--trials", "2", "--device", "cpu"]
    for command in commands:
        argv = command.split()[1:]
        result = runner.invoke(app, argv + (small if argv[0] == "sweep" else []))
        assert result.exit_code == 0, f"{command}\n{result.output}"
    res = read_results(tmp_path / "results.parquet")
    assert len(res.meta.task_names) == 3 and set(res.frame["kind"]) == {"sweep"}
    assert (tmp_path / "frontier.png").stat().st_size > 1000
