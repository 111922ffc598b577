"""The repository's promises about itself: CI runs exactly the README's test command, and the
package's functions are short enough to read in one go (or say why not).

``python -m tests.test_repo`` lists the package's longest functions.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 60  # the developers' guide: functions under ~60 lines


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


def function_lengths(package: Path = ROOT / "paretokit") -> list[tuple[int, str, str, bool]]:
    """Every function and method of the package, longest first: (lines from ``def`` to its
    last line, name, ``path:line``, whether a comment line stands right above it or above its
    decorators, where a reason for its length goes)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                top = min([node.lineno] + [d.lineno for d in node.decorator_list])
                commented = top >= 2 and lines[top - 2].lstrip().startswith("#")
                length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.append((length, node.name, where, commented))
    return sorted(found, key=lambda f: -f[0])


def test_long_functions_say_why():
    long = [f for f in function_lengths() if f[0] > MAX_FUNCTION_LINES and not f[3]]
    listed = ", ".join(f"{name} ({where}, {n} lines)" for n, name, where, _ in long)
    assert not long, (
        f"functions over {MAX_FUNCTION_LINES} lines with no reason in a comment above: {listed}"
    )


STUDY_FILE_LIMIT = 300_000  # bytes: "never commit generated results larger than a few 100 KB"


def test_committed_study_outputs_are_small():
    """Every file committed under studies/ (results files, figures, reports) stays under the
    limit; checked on the files git tracks, so a local results file rebuilt beside a study
    (git-ignored or not yet added) does not count. Skipped outside a git checkout."""
    import shutil
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        import pytest

        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "studies"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    files = [ROOT / name for name in listed.split("\0") if name]
    assert files, "no study files tracked"
    sizes = {f.relative_to(ROOT).as_posix(): f.stat().st_size for f in files if f.exists()}
    too_big = {name: size for name, size in sizes.items() if size > STUDY_FILE_LIMIT}
    assert not too_big, too_big


if __name__ == "__main__":
    for n, name, where, commented in function_lengths()[:15]:
        print(f"{n:4d}  {name:24s} {where}{'  (# reason)' if commented else ''}")
