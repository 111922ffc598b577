"""What optuna-dashboard shows of a sweep: the study's objectives named by task, metric and
direction, and each trial's loss weights as user attributes ``w.<task>`` (no dashboard needed:
it reads exactly these from the storage)."""

from __future__ import annotations

import optuna

from paretokit.results import read_results
from paretokit.study import SweepConfig, run_sweep


def test_a_sweeps_study_names_its_metrics_and_shows_each_trials_weights(tmp_path):
    config = SweepConfig(
        problem="tests.user_problem:make",
        tasks="a,c",
        trials=2,
        epochs=1,
        seeds=1,
        device="cpu",
        out=tmp_path / "r.parquet",
        storage=f"sqlite:///{tmp_path / 's.db'}",
    )
    name = run_sweep(config).study_name
    study = optuna.load_study(study_name=name, storage=config.storage)
    assert study.metric_names == ["a: mae [eV] (minimize)", "c: accuracy (maximize)"]
    rows = read_results(config.out).frame.drop_duplicates("trial").set_index("trial")
    trials = study.get_trials()
    assert len(trials) == 2
    for t in trials:
        shown = [t.user_attrs["w.a"], t.user_attrs["w.c"]]
        assert shown == rows.loc[t.number, ["w.a", "w.c"]].tolist()
        assert abs(sum(shown) - 1.0) < 1e-12
