"""A problem's model choice (``--model``) is part of the training setting: validated by the
registry, recorded in the results file (older files read as ``mlp``), in the study names and
the report headers, and runs of different models are never compared as one setting."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn

from paretokit.analysis import training_settings
from paretokit.compare import CompareConfig, plan_runs, run_compare
from paretokit.errors import ProblemError
from paretokit.problems import get_problem, problem_class
from paretokit.report import build_reports
from paretokit.report.formats import summary_lines
from paretokit.results import OPTIONAL_COLUMNS, read_results
from paretokit.study import SweepConfig, default_study_name, run_sweep
from tests.user_problem import TwoLines


class TwoModels(TwoLines):
    """The tests' two-line problem with a choice of trunk: ``mlp`` (the default) or ``wide``."""

    name = "twomodels"
    models = ("mlp", "wide")

    def __init__(self, tasks=None, model=None) -> None:
        self.blow_up = False
        super(TwoLines, self).__init__(tasks, model)

    def build_trunk(self):
        width = 32 if self.model == "wide" else 16
        return nn.Sequential(nn.Linear(6, width), nn.Tanh()), width


def make(tasks=None, model=None) -> TwoModels:
    return TwoModels(tasks, model)


SPEC = "tests.test_models:make"


def test_builtin_models_and_the_error_for_another() -> None:
    assert problem_class("qm9").models[0] == "mlp"
    assert get_problem("multidigits").model == "mlp"
    assert get_problem("multidigits", model="mlp").model == "mlp"
    with pytest.raises(ProblemError, match="problem 'multidigits' has no model 'gnn'; its models"):
        get_problem("multidigits", model="gnn")


def test_user_factories_get_the_model_only_when_asked() -> None:
    assert get_problem(SPEC).model == "mlp"
    wide = get_problem(SPEC, model="wide")
    assert wide.model == "wide" and wide.build_model().trunk[0].out_features == 32
    with pytest.raises(ProblemError, match="has no model 'deep'"):
        get_problem(SPEC, model="deep")
    with pytest.raises(ProblemError, match=r"cannot be called as f\(tasks=..., model=...\)"):
        get_problem("tests.user_problem:make", model="wide")


def test_study_names_and_run_ids_keep_the_old_ones_for_the_mlp() -> None:
    setting = {"problem": "p", "tasks": ["a", "b"], "epochs": 2, "batch_size": 32, "lr": 0.01,
               "seed": 0}  # fmt: skip
    assert default_study_name(setting) == default_study_name({**setting, "model": "mlp"})
    assert default_study_name({**setting, "model": "gnn"}) == default_study_name(setting) + "-gnn"
    problem = get_problem(SPEC)
    old = {k: v for k, v in setting.items() if k != "seed"}
    ids = [r.run_id for r in plan_runs([], {}, problem, old, 1, True)]
    same = [r.run_id for r in plan_runs([], {}, problem, {**old, "model": "mlp"}, 1, True)]
    other = [r.run_id for r in plan_runs([], {}, problem, {**old, "model": "wide"}, 1, True)]
    assert ids == same and not set(ids) & set(other)


def test_runs_of_two_models_are_two_settings(tmp_path) -> None:
    out = tmp_path / "r.parquet"
    torch.manual_seed(0)
    for model in (None, "wide"):
        run_compare(CompareConfig(["ls"], problem=SPEC, model=model, seeds=1, epochs=1, out=out,
                                  device="cpu"))  # fmt: skip
        run_sweep(SweepConfig(problem=SPEC, model=model, trials=2, seeds=1, epochs=1, out=out,
                              device="cpu", storage=f"sqlite:///{tmp_path / 's.db'}"))  # fmt: skip
    frame = read_results(out).frame
    assert set(frame["model"]) == {"mlp", "wide"}
    studies = frame.groupby("model")["study"].unique()
    assert all(s.endswith("-wide") for s in studies["wide"])
    assert not any(s.endswith("-wide") for s in studies["mlp"])
    settings = training_settings(frame)
    assert sorted(s["model"] for s in settings) == ["mlp", "wide"]
    reports = build_reports(read_results(out))
    assert sorted(r.setting["model"] for r in reports) == ["mlp", "wide"]
    for report in reports:
        assert f"model {report.setting['model']}, 1 epochs" in summary_lines(report)[0]
        assert report.sweep is not None and len(report.sweep.seeds) == 1


def test_older_files_read_as_mlp(tmp_path) -> None:
    assert OPTIONAL_COLUMNS["model"] == "mlp"
    out = tmp_path / "r.parquet"
    run_compare(CompareConfig(["ls"], problem=SPEC, seeds=1, epochs=1, out=out, device="cpu"))
    results = read_results(out)
    old = results.frame.drop(columns=["model"])
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(old, preserve_index=False)
    table = table.replace_schema_metadata(pq.read_schema(out).metadata)
    pq.write_table(table, out)
    again = read_results(out).frame
    assert (again["model"] == "mlp").all()
    assert isinstance(again, pd.DataFrame)
