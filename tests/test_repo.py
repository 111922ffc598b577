"""The repository's promises about itself: CI runs exactly the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The shell commands in the README's fenced ``bash`` blocks of its "Set up" section."""
    text = (ROOT / "README.md").read_text()
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", setup, flags=re.S)
    return [line.strip() for b in blocks for line in b.splitlines() if line.strip()]


def test_ci_runs_exactly_the_readme_test_command():
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    test_cmd = [c for c in readme_commands() if "pytest" in c]
    assert len(test_cmd) == 1, readme_commands()
    assert ci[-1] == test_cmd[0]


def test_readme_run_command_installs_and_sweeps():
    run = [c for c in readme_commands() if "paretokit sweep" in c]
    assert len(run) == 1
    assert "pip install" in run[0] and "paretokit plot" in run[0]
