"""Helpers the test files share: the command line run in-process, the check that an error is
one clear line, a sweep's command line, and a small two-task results file (its metadata and run
records)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from paretokit.cli import app
from paretokit.results import ResultsMeta, RunRecord, TaskMeta, append_results

runner = CliRunner()
USER = "tests.user_problem:make"
META = ResultsMeta("toy", (TaskMeta("a", "mae", False), TaskMeta("b", "accuracy", True)))


def run(*args: object):
    """``paretokit ARGS`` in this process (the result of Typer's test runner)."""
    return runner.invoke(app, [str(a) for a in args])


def assert_user_error(result, *fragments: str, after_progress: bool = False) -> None:
    """Exit code 1, no traceback, and one line on stderr, ``error: …``, that names what was
    wrong (contains every fragment). With ``after_progress``, progress lines may come first."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    if after_progress:
        lines = result.stderr.strip().splitlines()
        err = lines[-1]
        assert err.startswith("error:") and sum(x.startswith("error:") for x in lines) == 1, lines
    else:
        err = result.stderr
        assert err.startswith("error:") and err.count("\n") == 1, err  # no blank line first
    for f in fragments:
        assert f in err, err


def sweep_args(
    tmp_path: Path, *extra: object, problem: str = USER, tasks: str | None = "a,b", trials: int = 2
) -> list[object]:
    """``sweep`` of one-epoch trials on the CPU into ``tmp_path`` (results and SQLite storage)."""
    return [
        "sweep",
        "--problem",
        problem,
        *(["--tasks", tasks] if tasks else []),
        "--trials",
        trials,
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--out",
        tmp_path / "r.parquet",
        "--storage",
        f"sqlite:///{tmp_path / 's.db'}",
        *extra,
    ]


def record(
    run_id: str, w: float = 0.3, metric: float = 1.0, test_metric: float | None = None, **kw
) -> RunRecord:
    """A finished sweep run of the problem in :data:`META`: weights (w, 1 − w), metric a on
    validation ``metric`` (on test ``test_metric``, default the same), fixed b and losses."""
    base = dict(
        study="s",
        problem="toy",
        run_id=run_id,
        kind="sweep",
        method="sweep",
        seed=0,
        task_names=["a", "b"],
        epochs=1,
        batch_size=8,
        lr=0.1,
        device="cpu",
        weights=[w, 1 - w],
        metrics={
            "val": [metric, 0.5],
            "test": [metric if test_metric is None else test_metric, 0.6],
        },
        losses={"val": [0.1, 0.2], "test": [0.3, 0.4]},
        train_seconds=1.0,
        step_ms=1.0,
    )
    base.update(kw)
    return RunRecord(**base)


def write(path: Path, *records: RunRecord, meta: ResultsMeta = META) -> Path:
    """Append the records' rows to the results file ``path``; returns ``path``."""
    append_results(path, [row for r in records for row in r.rows()], meta)
    return path
