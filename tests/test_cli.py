"""The command line: end-to-end runs on multidigits, and every user error as one clear line."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paretokit import __version__, analysis
from paretokit.results import read_results
from tests import helpers
from tests.helpers import USER, assert_user_error, run


def test_version_and_help():
    assert run("--version").stdout.strip() == f"paretokit {__version__}"
    out = run("--help").stdout
    for command in ("sweep", "compare", "plot", "problems", "methods"):
        assert command in out


def test_problems_lists_builtins_with_tasks():
    out = run("problems").stdout
    for name in ("qm9", "multifashion", "multidigits", "synthetic"):
        assert name in out
    for task in ("mu", "alpha", "homo", "lumo", "cv", "left", "right"):
        assert task in out


def test_methods_lists_every_method():
    from paretokit.methods import method_names

    out = run("methods").stdout
    for name in method_names():
        assert name in out


def sweep_args(tmp_path, *extra: str) -> list[object]:
    return helpers.sweep_args(
        tmp_path, "--seeds", "1", *extra, problem="multidigits", tasks=None, trials=3
    )


def test_sweep_and_plot_end_to_end_on_multidigits(tmp_path):
    result = run(*sweep_args(tmp_path))
    assert result.exit_code == 0, result.output
    assert "non-dominated sweep trials" in result.stdout
    res = read_results(tmp_path / "r.parquet")
    assert res.meta.task_names == ["left", "right"]
    assert [t.higher_is_better for t in res.meta.tasks] == [True, True]
    assert len(res.frame) == 6 and set(res.frame["kind"]) == {"sweep"}
    acc = res.frame[["metric.left", "metric.right"]].to_numpy()
    assert ((acc > 0.1) & (acc <= 1.0)).all()  # above chance (10 classes) after one epoch
    np.testing.assert_allclose(res.frame[["w.left", "w.right"]].sum(axis=1), 1.0, atol=1e-12)
    # the printed frontier is the file's non-dominated set on val
    front = analysis.sweep_frontier(res, "val")
    for trial in front["trial"]:
        assert f"│ {trial} " in result.stdout or f"│     {trial} │" in result.stdout

    for suffix in (".png", ".svg", ".pdf"):
        fig = tmp_path / f"f{suffix}"
        out = run("plot", tmp_path / "r.parquet", "--out", fig)
        assert out.exit_code == 0, out.output
        assert fig.stat().st_size > 1000
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    again = run(*sweep_args(tmp_path))  # resume of a finished study adds nothing
    assert again.exit_code == 0 and "0 new" in again.stdout
    assert len(read_results(tmp_path / "r.parquet").frame) == 6


def test_sweep_machine_readable_formats(tmp_path):
    run(*sweep_args(tmp_path))
    out = run(*sweep_args(tmp_path, "--format", "csv")).stdout.splitlines()
    assert out[0] == "trial,seeds,w.left,w.right,metric.left,metric.right"  # only the data
    rows = [line.split(",") for line in out[1:]]
    assert rows and all(len(r) == 6 for r in rows)


def test_compare_on_multidigits_and_delta_m_by_hand(tmp_path):
    out = tmp_path / "r.parquet"
    run(*sweep_args(tmp_path))
    compare_args = ["compare", "ls", "rlw", "--problem", "multidigits", "--seeds", "2"]
    compare_args += ["--epochs", "1", "--device", "cpu", "--out", out]
    result = run(*compare_args, "--format", "json")
    assert result.exit_code == 0, result.output
    res = read_results(out)
    f = res.frame[res.frame["split"] == "test"]
    assert sorted(f.loc[f["kind"] == "stl", "method"].unique()) == ["stl:left", "stl:right"]
    assert len(f[f["kind"] == "method"]) == 4 and len(f[f["kind"] == "stl"]) == 4
    # Δm% of LS by hand from the rows it wrote: accuracies, higher is better
    stl = np.array(
        [f.loc[f["method"] == f"stl:{t}", f"metric.{t}"].mean() for t in ("left", "right")]
    )
    ls = f.loc[f["method"] == "ls", ["metric.left", "metric.right"]].to_numpy().mean(axis=0)
    by_hand = 100 / 2 * sum(-(ls[k] - stl[k]) / stl[k] for k in range(2))
    import json

    (compared,) = json.loads(result.stdout)  # strict JSON alone on stdout
    table = {row["method"]: row for row in compared["methods"]}
    assert table["ls"]["delta_m"] == pytest.approx(by_hand, rel=1e-9, abs=1e-12)
    assert table["stl"]["delta_m"] == 0.0
    # the sweep trained seed 0 only: one paired seed, no interval
    assert table["ls"]["paired_seeds"] == 1 and table["ls"]["outcome"] == "within_noise"
    # one verdict table: compare prints the very numbers `report` gives for these methods
    (reported,) = json.loads(run("report", out, "--format", "json").stdout)
    assert compared["methods"] == [m for m in reported["methods"] if m["method"] in table]

    again = run(*compare_args)
    assert again.exit_code == 0 and "0 runs trained" in again.output
    assert len(read_results(out).frame) == len(res.frame)

    fig = tmp_path / "m.png"
    assert run("plot", out, "--out", fig).exit_code == 0 and fig.stat().st_size > 1000


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["sweep", "--problem", "qm8"], ["unknown problem 'qm8'", "qm9", "multidigits"]),
        (["sweep", "--problem", USER, "--tasks", "9"], ["out of range", "2 to 3"]),
        (["sweep", "--problem", USER, "--tasks", "1"], ["out of range"]),
        (
            ["sweep", "--problem", USER, "--tasks", "a,zz"],
            ["unknown task", "'zz'", "known: a, b, c"],
        ),
        (["sweep", "--problem", USER, "--trials", "0"], ["--trials must be at least 1"]),
        (["sweep", "--problem", "tests.user_problem:nope"], ["has no attribute 'nope'"]),
        (["sweep", "--problem", "tests.user_problem:not_a_problem"], ["not a paretokit Problem"]),
        (["sweep", "--problem", "no_such_pkg.mod:f"], ["cannot import problem module"]),
        (["compare", "nosuch", "--problem", USER], ["unknown method 'nosuch'", "nashmtl"]),
        (
            ["compare", "ls", "--problem", USER, "--update-every", "3"],
            ["'update_every' does not apply"],
        ),
        (["compare", "ls", "--problem", USER, "-o", "ls.alpha=2"], ["do not apply to method 'ls'"]),
        (["compare", "gradsim", "--problem", USER, "--main-task", "zz"], ["--main-task 'zz'"]),
        (["compare", "ls", "--problem", USER, "--seeds", "0"], ["--seeds"]),
    ],
)
def test_user_errors_are_one_clear_line(tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)
    assert_user_error(run(*args, "--device", "cpu"), *fragments)


@pytest.mark.parametrize(
    "args, option",
    [
        (["sweep", "--format", "xml"], "--format"),
        (["sweep", "--sampler", "sobol"], "--sampler"),
        (["compare", "ls", "--format", "xml"], "--format"),
        (["compare", "ls", "--split", "train"], "--split"),
        (["report", "r.parquet", "--format", "xml"], "--format"),
        (["report", "r.parquet", "--split", "train"], "--split"),
        (["plot", "r.parquet", "--split", "train"], "--split"),
        (["plot", "r.parquet", "--view", "cube"], "--view"),
    ],
)
def test_bad_choices_are_usage_errors(tmp_path, monkeypatch, args, option):
    """A value outside an option's choices is Typer's usage error (exit 2), naming the option
    and before any work: no file is read or written."""
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert option in result.stderr and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_cli_choices_match_the_library():
    """The CLI spells its choices out (so that --help imports no torch or optuna): they must
    be the library's."""
    from paretokit import plot, results, sampling
    from paretokit.cli._options import CheckpointChoice, SamplerChoice, SplitChoice, ViewChoice
    from paretokit.train.epochs import CHECKPOINTS

    assert [c.value for c in SamplerChoice] == [*sampling.SAMPLERS, *sampling.ALIASES]
    assert [c.value for c in SplitChoice] == list(results.SPLITS)
    assert [c.value for c in ViewChoice] == list(plot.VIEWS)
    assert [c.value for c in CheckpointChoice] == list(CHECKPOINTS)


def test_count_failed_is_a_flag_in_help():
    help_text = run("sweep", "--help").stdout
    line = next(line for line in help_text.splitlines() if "--count-failed" in line)
    assert "BOOL" not in line.upper().replace("--COUNT-FAILED", "")


def test_cuda_asked_for_without_gpu(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert_user_error(run("sweep", "--problem", USER, "--device", "cuda"), "no CUDA device")


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("sqlite:////nonexistent/dir/studies.db", "storage"),
        ("postgresql://paretokit@127.0.0.1:1/none", "storage"),
        ("nosuchscheme://x", "storage"),
    ],
)
def test_unreachable_storage(tmp_path, monkeypatch, url, fragment):
    monkeypatch.chdir(tmp_path)
    assert_user_error(
        run("sweep", "--problem", USER, "--device", "cpu", "--storage", url), fragment
    )


def test_plot_bad_inputs(tmp_path):
    assert_user_error(run("plot", tmp_path / "missing.parquet"), "does not exist")
    text = tmp_path / "notes.parquet"
    text.write_text("hello")
    assert_user_error(run("plot", text), "not a readable Parquet file")
    foreign = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), foreign)
    assert_user_error(run("plot", foreign), "not a paretokit results file")


def test_plot_refuses_unknown_figure_format(tmp_path):
    run(*sweep_args(tmp_path))
    assert_user_error(run("plot", tmp_path / "r.parquet", "--out", tmp_path / "f.jpg"), ".png")


def test_table_headers_keep_units_that_look_like_markup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("sweep", "--problem", USER, "--trials", "2", "--epochs", "1", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "a MAE [eV] ↓" in result.stdout


def test_table_cells_show_spread_only_with_several_seeds():
    from paretokit.report.formats import mean_std, with_interval

    assert mean_std(0.5, float("nan"), 1) == "0.5" and mean_std(0.25, 0.01, 3) == "0.25 ± 0.01"
    assert with_interval(0.1, float("nan"), float("nan"), "+.3f") == "+0.100"
    assert with_interval(0.1, -0.2, 0.4, "+.3f") == "+0.100 [-0.200, +0.400]"


def test_logs_get_one_plain_line_per_finished_trial_and_run(tmp_path):
    """stderr is no terminal here (as in a log file): no progress bars, one line per trial or
    run with its weights or method, seconds and metrics."""
    sweep = run(*sweep_args(tmp_path))
    assert sweep.exit_code == 0, sweep.output
    lines = sweep.stderr.splitlines()
    assert lines[0].startswith("study multidigits-") and "0 of 3 trials done" in lines[0]
    trials = [line for line in lines if line.startswith("trial ")]
    assert [t.split()[1] for t in trials] == ["0", "1", "2"]
    assert all(" w=(" in t and ": done in " in t and "val left " in t for t in trials)
    assert "━" not in sweep.stderr  # no bar drawn
    compare = run("compare", "ls", "--problem", "multidigits", "--seeds", "1", "--epochs", "1",
                  "--device", "cpu", "--out", tmp_path / "r.parquet")  # fmt: skip
    assert compare.exit_code == 0, compare.output
    assert "ls seed 0: done in " in compare.stderr and "stl:left seed 0: done" in compare.stderr


def test_a_terminal_gets_progress_bars(tmp_path, monkeypatch):
    from paretokit.cli._app import err_console

    monkeypatch.setattr(err_console, "_force_terminal", True)
    result = run(*sweep_args(tmp_path))
    assert result.exit_code == 0, result.output
    assert "trials: 3 complete, 0 failed" in result.stderr and "trial 0 seed" not in result.stderr
