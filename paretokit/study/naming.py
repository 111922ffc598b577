"""What names a sweep study: its training setting, its default name, its results metadata.

A study is one training setting (problem, tasks, epochs, batch size, lr, seed, seeds,
checkpoint, model); ``compare`` names its runs after the study of the same setting, so both sides of a
comparison agree on one name. No torch, no optuna: the setting is plain data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paretokit.results import ResultsMeta, TaskMeta

if TYPE_CHECKING:
    from paretokit.problems import Problem
    from paretokit.train import RunConfig

# Setting keys that older studies did not store, and the value they ran with.
SETTING_DEFAULTS: dict[str, object] = {"seeds": 1, "checkpoint": "last", "model": "mlp"}


def study_setting(problem: Problem, run_cfg: RunConfig, seeds: int) -> dict[str, object]:
    """The training setting a sweep study stores and checks on every resume."""
    return {
        "problem": problem.name,
        "tasks": problem.task_names,
        "epochs": run_cfg.epochs,
        "batch_size": run_cfg.batch_size,
        "lr": run_cfg.lr,
        "seed": run_cfg.seed,
        "seeds": seeds,
        "checkpoint": run_cfg.checkpoint,
        "model": problem.model,
    }


def default_study_name(setting: dict[str, object]) -> str:
    """``<problem>-<tasks>-e<epochs>-b<batch>-lr<lr>-s<seed>``, then ``-S<seeds>`` for more
    than one training seed, ``-best`` for best-epoch checkpoints and ``-<model>`` for a model
    other than the mlp (single-seed, last-epoch mlp studies keep the names older versions gave
    them)."""
    tasks = "+".join(setting["tasks"])  # type: ignore[arg-type]
    seeds = int(setting.get("seeds", 1))  # type: ignore[call-overload]
    return (
        f"{setting['problem']}-{tasks}-e{setting['epochs']}-b{setting['batch_size']}"
        f"-lr{setting['lr']:g}-s{setting['seed']}"
        + (f"-S{seeds}" if seeds != 1 else "")
        + ("-best" if setting.get("checkpoint", "last") == "best" else "")
        + (f"-{setting['model']}" if setting.get("model", "mlp") != "mlp" else "")
    )


def compare_study_name(setting: dict[str, object]) -> str:
    """The ``study`` column of ``compare``'s runs: the name of the setting's sweep
    (:func:`default_study_name`) without seed, seeds and checkpoint; the model stays (runs of
    two models are never one setting)."""
    plain = {**setting, "seed": 0, "checkpoint": "last", "model": "mlp"}
    model = setting.get("model", "mlp")
    return default_study_name(plain).rsplit("-s", 1)[0] + (f"-{model}" if model != "mlp" else "")


def results_meta(problem: Problem) -> ResultsMeta:
    """The results-file metadata of a problem's task selection."""
    return ResultsMeta(
        problem.name,
        tuple(TaskMeta(t.name, t.metric, t.higher_is_better, t.unit) for t in problem.tasks),
    )
