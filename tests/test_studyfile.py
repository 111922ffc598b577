"""``paretokit study FILE.toml``: the file's validation, the dry-run plan, resuming, report.md."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paretokit.cli import app
from paretokit.cli.report import REPORT_HINTS
from paretokit.results import read_results
from paretokit.studyfile import StudyFileError, load_study
from paretokit.studyplan import plan_study, run_study_methods, run_study_sweep
from paretokit.studyreport import write_study_report

runner = CliRunner()

# a study on the fast synthetic problem: 1 epoch of 8,000 samples per run
SMALL = """
title = "small"
claim = "beyond"
problem = "synthetic"
tasks = 2
seeds = 2
device = "cpu"
threads = 1

[train]
epochs = 1
batch_size = 256

[sweep]
trials = {trials}
population = 2

[methods]
{methods}
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def small(tmp_path: Path, trials: int = 2, methods: str = "ls = {}") -> Path:
    return write(tmp_path, SMALL.format(trials=trials, methods=methods))


@pytest.mark.parametrize(
    "body, fragment",
    [
        (
            "problem = 'synthetic'\n[sweep]\ntrials = 0",
            "sweep.trials: must be a positive integer, got 0",
        ),
        (
            "problem = 'synthetic'\n[sweep]\ntrials = '80'",
            "sweep.trials: must be a positive integer, got '80'",
        ),
        ("problem = 'synthetic'\n[sweep]\ntrails = 8", "sweep.trails: unknown key (known: trials,"),
        ("problem = 'synthetic'\nseed = 1\n[sweep]\ntrials = 8", "seed: unknown key"),
        (
            "problem = 'synthetic'\n[sweep]\ntrials = 8\nsampler = 'sobol'",
            "sweep.sampler: must be one of",
        ),
        (
            "problem = 'synthetic'\n[sweep]\ntrials = 8\npopulation = 'many'",
            'sweep.population: must be a positive integer or "auto"',
        ),
        (
            "problem = 'synthetic'\n[train]\nlr = -1.0\n[sweep]\ntrials = 8",
            "train.lr: must be a finite number > 0, got -1.0",
        ),
        (
            "problem = 'synthetic'\n[train]\nepochs = 1.5\n[sweep]\ntrials = 8",
            "train.epochs: must be a positive integer, got 1.5",
        ),
        (
            "problem = 'synthetic'\n[train]\ncheckpoint = 'first'\n[sweep]\ntrials = 8",
            "train.checkpoint: must be one of last, best",
        ),
        (
            "problem = 'synthetic'\ndevice = 'gpu'\n[sweep]\ntrials = 8",
            "device: must be auto, cpu, cuda or cuda:N",
        ),
        (
            "problem = 'synthetic'\nseeds = true\n[sweep]\ntrials = 8",
            "seeds: must be a positive integer, got True",
        ),
        (
            "problem = 'synthetic'\ntasks = ['t1', 't1']\n[sweep]\ntrials = 8",
            "tasks: names a task twice",
        ),
        ("problem = 'synthetic'\ntasks = ['t1', 'nope']\n[sweep]\ntrials = 8", "tasks: "),
        ("problem = 'qm8'\n[sweep]\ntrials = 8", "problem: unknown problem 'qm8'"),
        ("[sweep]\ntrials = 8", "problem: missing"),
        ("problem = 'synthetic'\n[sweep]\nsampler = 'grid'", "sweep.trials: missing"),
        ("problem = 'synthetic'", "the study has neither a [sweep] nor any [methods]"),
        ("problem = 'synthetic'\nsweep = 3", "sweep: must be a table"),
        (
            "problem = 'synthetic'\n[methods]\nnashmtlx = {}",
            "methods.nashmtlx: unknown method 'nashmtlx'",
        ),
        ("problem = 'synthetic'\n[methods]\ncagrad = { c = 'abc' }", "methods.cagrad: "),
        ("problem = 'synthetic'\n[methods]\ncagrad = { nope = 1 }", "methods.cagrad: "),
        ("problem = 'synthetic'\n[methods]\nls = 1", "methods.ls: must be a table of options"),
        ("problem = 'synthetic'\nmodel = 'gnn'\n[methods]\nls = {}", "model: "),
        (
            "problem = 'synthetic'\n[report]\nfigure = 'x.jpg'\n[methods]\nls = {}",
            "report.figure: must be a file name ending in",
        ),
        ("problem = 'synthetic'\nclaim = 'all'\n[methods]\nls = {}", "claim: must be one of"),
        ("problem = 'synthetic\n", "not valid TOML"),
    ],
)
def test_each_bad_key_is_one_error_naming_it(tmp_path, body, fragment):
    path = write(tmp_path, body)
    with pytest.raises(StudyFileError) as info:
        load_study(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert fragment in message, message
    assert "\n" not in message


def test_cli_error_is_one_line_before_any_work(tmp_path):
    path = write(tmp_path, "problem = 'synthetic'\n[sweep]\ntrials = 0")
    result = runner.invoke(app, ["study", str(path)])
    assert result.exit_code == 1, result.output
    assert result.stderr == f"error: {path}: sweep.trials: must be a positive integer, got 0\n"
    assert not (tmp_path / "s").exists()  # no results folder, no storage: nothing was done
    missing = runner.invoke(app, ["study", str(tmp_path / "none.toml")])
    assert missing.exit_code == 1 and "no such study file" in missing.stderr


def test_layout_and_defaults(tmp_path):
    spec = load_study(small(tmp_path))
    assert spec.results == tmp_path / "s" / "results.parquet"
    assert spec.folder == tmp_path / "s"
    assert (spec.seeds, spec.epochs, spec.lr, spec.checkpoint) == (2, 1, None, "last")
    assert spec.sweep is not None and spec.sweep.trials == 2 and spec.sweep.sampler == "dirichlet"
    assert spec.methods == {"ls": {}}


def test_dry_run_plan_of_a_partly_done_study_then_resume_trains_nothing(tmp_path):
    path = small(tmp_path, trials=2)
    spec = load_study(path)
    fresh = plan_study(spec)
    assert [(p.label, p.runs_left, p.runs_done) for p in fresh.parts] == [
        ("sweep", 4, 0),
        ("stl", 4, 0),
        ("ls", 2, 0),
    ]
    assert fresh.unestimated == ["sweep", "stl", "ls"]

    first = run_study_sweep(spec)
    assert first is not None and first.complete == 2
    # the study grows: one more trial, one more method; only those are left
    spec = load_study(small(tmp_path, trials=3, methods="ls = {}\nmgda = {}"))
    plan = plan_study(spec)
    parts = {p.label: p for p in plan.parts}
    assert (plan.trials_done, plan.trials_left) == (2, 1)
    assert (parts["sweep"].runs_left, parts["sweep"].runs_done) == (2, 4)
    assert parts["sweep"].seconds_per_run is not None and parts["sweep"].seconds_per_run >= 0
    assert parts["sweep"].seconds == pytest.approx(2 * parts["sweep"].seconds_per_run)
    assert (parts["stl"].runs_left, parts["ls"].runs_left, parts["mgda"].runs_left) == (4, 2, 2)
    assert plan.unestimated == ["stl", "ls", "mgda"]

    result = runner.invoke(app, ["study", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "sweep: 1 trial × 2 seeds = 2 runs to train, 4 done" in result.stdout
    assert "no estimate for stl, ls, mgda" in result.stdout

    swept, compared = run_study_sweep(spec), run_study_methods(spec)
    assert swept.new_trials == 1 and compared.trained == 8
    rows = len(read_results(spec.results).frame)
    again_sweep, again_methods = run_study_sweep(spec), run_study_methods(spec)
    assert again_sweep.new_trials == 0 and again_methods.trained == 0
    assert again_methods.skipped == 8
    assert len(read_results(spec.results).frame) == rows
    done = plan_study(spec)
    assert done.runs_left == 0 and done.seconds == 0.0


def test_study_command_writes_report_and_figure_and_second_run_trains_nothing(tmp_path):
    path = small(tmp_path, trials=2)
    first = runner.invoke(app, ["study", str(path)])
    assert first.exit_code == 0, first.output
    folder = tmp_path / "s"
    report = (folder / "report.md").read_text()
    assert (folder / "frontier.png").stat().st_size > 0
    assert report.startswith("# small\n")
    assert "- sweep: 2 of 2 trials complete × 2 seeds" in report
    assert "| ls | 2 |" in report
    assert "![s](frontier.png)" in report
    claim = report.split("## The claim\n\n", 1)[1]
    assert claim.startswith("**Claim (Xin et al. 2022") and "2 paired seeds" in claim
    rows = read_results(folder / "results.parquet").frame
    second = runner.invoke(app, ["study", str(path)])
    assert second.exit_code == 0, second.output
    assert "(0 new, 0 failed)" in second.stdout
    assert "methods: 0 runs trained (0 failed), 6 already done" in second.stdout
    assert read_results(folder / "results.parquet").frame.equals(rows)
    # the page is a function of the results file: written again, it is the same page
    again = write_study_report(load_study(path), REPORT_HINTS, command=f"paretokit study {path}")
    assert again.text == report


def test_the_readme_study_file_is_valid(tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```toml\n(.*?)```", readme, flags=re.S) if "[sweep]" in b]
    spec = load_study(write(tmp_path, block, "qm9-3.toml"))
    assert spec.methods["nashmtl"] == {"update_every": 1} and spec.sweep.population == 8


@pytest.mark.parametrize(
    "path",
    sorted((Path(__file__).resolve().parent.parent / "studies").glob("*.toml")),
    ids=lambda p: p.name,
)
def test_every_shipped_study_file_is_valid(path):
    spec = load_study(path)
    assert spec.results == path.parent / path.stem / "results.parquet"
    assert spec.paper and spec.claim  # each report says the paper's budget and its claim


def test_main_task_by_name_is_checked(tmp_path):
    good = write(tmp_path, "problem = 'synthetic'\n[methods]\ngradsim = { main_task = 't2' }")
    assert load_study(good).methods == {"gradsim": {"main_task": "t2"}}
    bad = write(tmp_path, "problem = 'synthetic'\n[methods]\ngradsim = { main_task = 'zz' }")
    with pytest.raises(
        StudyFileError, match="methods.gradsim: .*'zz' is not one of the selected tasks"
    ):
        load_study(bad)


def test_a_finished_study_without_its_storage_only_rewrites_its_report(tmp_path):
    """A shipped study in a fresh clone: the results file holds the whole budget, but its
    Optuna storage is git-ignored and absent. Before, the command opened a new storage and
    refused the file's rows as another study's (while the dry run said nothing was left)."""
    path = small(tmp_path, trials=2)
    assert runner.invoke(app, ["study", str(path)]).exit_code == 0
    folder = tmp_path / "s"
    (folder / "paretokit-studies.db").unlink()
    rows = len(read_results(folder / "results.parquet").frame)
    again = runner.invoke(app, ["study", str(path)])
    assert again.exit_code == 0, again.output
    assert "2 of 2 trials complete in the results file" in again.stdout
    assert len(read_results(folder / "results.parquet").frame) == rows
    assert (folder / "report.md").exists()
