"""Which rows of a results table belong together: training settings, the sweep's rows, and
the one STL baseline summary every table and figure uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from paretokit.analysis.dominance import non_dominated
from paretokit.analysis.seeds import summarize_seeds
from paretokit.errors import ParetokitError
from paretokit.results import Results

SETTING_KEYS = ("problem", "epochs", "batch_size", "lr")
# columns that join the setting when the file has them (results.read_results gives older
# files their defaults: checkpoint "last", model "mlp")
OPTIONAL_SETTING_KEYS = ("checkpoint", "model")


def setting_keys(rows: pd.DataFrame) -> list[str]:
    """The columns that make runs comparable in ``rows``: problem, epochs, batch size, lr,
    and the optional ones (the checkpoint kind, the model) where the file has them."""
    return list(SETTING_KEYS) + [k for k in OPTIONAL_SETTING_KEYS if k in rows.columns]


def training_settings(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """The training settings present in ``rows``, in order of first appearance: runs are
    comparable only within one setting."""
    if rows.empty:
        return []
    return rows[setting_keys(rows)].drop_duplicates().to_dict(orient="records")


def describe_setting(setting: Mapping[str, Any]) -> str:
    """``epochs=6 batch_size=256 lr=0.001`` (and the checkpoint kind and model where
    recorded)."""
    parts = [f"{k}={setting[k]:g}" if k == "lr" else f"{k}={setting[k]}" for k in setting]
    return " ".join(p for p in parts if not p.startswith("problem="))


def choose_setting(rows: pd.DataFrame, wanted: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The one training setting of ``rows`` that matches ``wanted`` (a subset of the setting's
    keys; None values ignored). A clear error when none or several match."""
    wanted = {k: v for k, v in (wanted or {}).items() if v is not None}
    settings = training_settings(rows)
    matches = [s for s in settings if all(s.get(k) == v for k, v in wanted.items())]
    if len(matches) == 1:
        return matches[0]
    listed = "; ".join(describe_setting(s) for s in (matches or settings))
    if not matches:
        raise ParetokitError(f"no runs with {wanted}; the file holds: {listed}")
    raise ParetokitError(
        f"the file holds {len(matches)} training settings ({listed}); "
        "choose one by its epochs, batch size and lr (and model)"
    )


def setting_rows(
    frame: pd.DataFrame, setting: Mapping[str, Any], kind: str | None = None
) -> pd.DataFrame:
    """Rows trained under ``setting`` (every key of it that is a column of ``frame``),
    optionally of one kind."""
    mask = pd.Series(True, index=frame.index)
    for key, value in setting.items():
        if key in frame.columns and key != "tasks":
            mask &= frame[key] == value
    if kind is not None:
        mask &= frame["kind"] == kind
    return frame[mask]


def sweep_points(results: Results, split: str, study: str | None = None) -> pd.DataFrame:
    """Finished sweep rows of ``split`` (optionally of one study)."""
    df = results.ok(split=split, kind="sweep")
    if study is not None:
        df = df[df["study"] == study]
    return df.reset_index(drop=True)


def sweep_frontier(results: Results, split: str, study: str | None = None) -> pd.DataFrame:
    """The non-dominated sweep trials of ``split`` on the primary metrics, sorted by the first
    metric (best first). One row per trial (one weight vector): its metrics are the mean over
    its finished seeds (a trial's objective, as the sweep optimizes it), ``seeds`` how many
    there are; the other columns are those of its first seed's row."""
    trials = trial_means(sweep_points(results, split, study), results.metric_columns())
    if trials.empty:
        return trials
    hib = [t.higher_is_better for t in results.meta.tasks]
    mask = non_dominated(trials[results.metric_columns()].to_numpy(), hib)
    front = trials[mask]
    first = results.metric_columns()[0]
    return front.sort_values(first, ascending=not hib[0]).reset_index(drop=True)


def trial_means(rows: pd.DataFrame, metric_columns: list[str]) -> pd.DataFrame:
    """Sweep rows (one per trial and seed) as one row per (study, trial): metrics averaged
    over the seeds, ``seeds`` their count, other columns from the first seed's row."""
    if rows.empty:
        return rows.assign(seeds=pd.Series(dtype=int))
    groups = rows.groupby(["study", "trial"], sort=False)
    out = groups.first()
    out[metric_columns] = groups[metric_columns].mean()
    out["seeds"] = groups.size()
    return out.reset_index()


@dataclass(frozen=True)
class StlSummary:
    """The STL baseline: task k's metric from the runs trained on task k alone
    (``method == "stl:<task>"``), mean, sample std and 95% t half-width over seeds; ``n`` is
    the fewest seeds of any task; ``seconds`` is the training time of all K single-task models
    per seed, ``step_ms`` their mean step time."""

    n: int
    mean: np.ndarray
    std: np.ndarray
    ci95: np.ndarray
    seconds: float
    step_ms: float


def stl_summary(stl_rows: pd.DataFrame, task_names: Sequence[str]) -> StlSummary | None:
    """The :class:`StlSummary` of the STL rows of one setting and split; None unless every
    task has a finished run with a finite metric."""
    per_task = [
        stl_rows.loc[stl_rows["method"] == f"stl:{t}", f"metric.{t}"].to_numpy(float)
        for t in task_names
    ]
    per_task = [v[np.isfinite(v)] for v in per_task]
    if any(len(v) == 0 for v in per_task):
        return None
    summaries = [summarize_seeds(v[:, None]) for v in per_task]
    seeds = min(s.n for s in summaries)
    return StlSummary(
        n=seeds,
        mean=np.array([s.mean[0] for s in summaries]),
        std=np.array([s.std[0] for s in summaries]),
        ci95=np.array([s.ci95[0] for s in summaries]),
        seconds=float(stl_rows["train_seconds"].sum()) / max(seeds, 1),
        step_ms=float(stl_rows["step_ms"].mean()),
    )
