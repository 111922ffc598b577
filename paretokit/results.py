"""The results file: one Parquet table, one row per (run, split), self-describing.

Columns (DESIGN.md): ``study``, ``problem``, ``run_id``, ``kind`` (``sweep``, ``method``,
``stl``), ``method``, ``seed``, ``split`` (``val``, ``test``), ``w.<task>``, ``metric.<task>``,
``loss.<task>``, ``train_seconds``, ``step_ms``, ``device``, ``version``, ``status``, plus
``epochs``, ``batch_size``, ``lr``, ``options`` (JSON), ``trial``, ``torch``, ``created`` and
``error``. The Parquet key-value metadata under ``paretokit`` records the task order, each
metric's name, unit and direction, so every reader needs nothing else.

Writes are atomic (temporary file in the same folder, then ``os.replace``) and serialized by
an advisory lock on ``.<file>.lock``, so a crash never leaves a corrupt file and concurrent
workers on one machine never lose each other's rows. A sweep appends its batches as small parts
beside the file at the cost of the batch (:class:`~paretokit.results_append.ResultsAppender`,
:mod:`paretokit.results_store`); every reader reads the file and its parts as one table.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd
import pyarrow as pa

from paretokit import __version__, polyline
from paretokit import results_store as store
from paretokit.errors import ResultsFileError

FORMAT_VERSION = 1
META_KEY = b"paretokit"
KINDS = ("sweep", "method", "stl")
SPLITS = ("val", "test")
STATUS_OK = "ok"
STATUS_FAILED = "failed"
BASE_COLUMNS = ["study", "problem", "run_id", "kind", "method", "seed", "split"]
COST_COLUMNS = ["train_seconds", "step_ms", "device", "version", "status"]
EXTRA_COLUMNS = ["epochs", "batch_size", "lr", "options", "trial", "torch", "created", "error"]
# Columns added after the first files were written: a file that lacks one reads as if every
# row held the default (name → default, whose type is the column's).
OPTIONAL_COLUMNS: dict[str, object] = {
    "threads": -1,  # torch's intra-op CPU threads during the run (-1: not recorded)
    "checkpoint": "last",  # the epoch a run was evaluated at: "last" or "best" (train.epochs)
    # the run's thinned path as JSON (trajectory_json), for problems that record one (toy);
    # "" for every other run and in older files (whose paths, not yet thinned at storing, hold
    # every recorded point: they read the same)
    "trajectory": "",
    "model": "mlp",  # the problem's model (Problem.models; qm9: mlp or gnn)
}
TRAJECTORY_DIGITS = 7  # significant digits kept per number of a stored trajectory
# a stored path keeps the recorded points a polyline needs to pass within this share of the
# run's own range of each loss and parameter from every recorded point (polyline.simplify): a
# tenth of a pixel for a path across a figure's panel, so the figure is the same
TRAJECTORY_TOLERANCE = 1e-3


@dataclass(frozen=True)
class TaskMeta:
    """What the file says about one task's primary metric."""

    name: str
    metric: str
    higher_is_better: bool
    unit: str = ""

    @property
    def direction(self) -> str:
        return "maximize" if self.higher_is_better else "minimize"


@dataclass(frozen=True)
class ResultsMeta:
    """The file-level description: problem, task order and metric directions."""

    problem: str
    tasks: tuple[TaskMeta, ...]

    @property
    def task_names(self) -> list[str]:
        return [t.name for t in self.tasks]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT_VERSION,
                "problem": self.problem,
                "tasks": [t.name for t in self.tasks],
                "metrics": {t.name: t.metric for t in self.tasks},
                "directions": {t.name: t.direction for t in self.tasks},
                "units": {t.name: t.unit for t in self.tasks},
            }
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> ResultsMeta:
        """Parse and check the metadata; a :class:`ResultsFileError` (or ``ValueError``,
        ``KeyError``, ``TypeError``) for anything else than what :meth:`to_json` writes."""
        d = json.loads(raw)
        if not isinstance(d, dict):
            raise ResultsFileError(f"metadata is a JSON {type(d).__name__}, not an object")
        if d.get("format") != FORMAT_VERSION:
            raise ResultsFileError(f"unsupported results format {d.get('format')!r}")
        names = d.get("tasks")
        if not isinstance(names, list) or not names or not all(isinstance(t, str) for t in names):
            raise ResultsFileError(f"metadata lists no tasks (tasks: {names!r})")
        if len(set(names)) != len(names):
            raise ResultsFileError(f"metadata lists a task twice (tasks: {names!r})")
        if not isinstance(d.get("problem"), str):
            raise ResultsFileError(f"metadata names no problem (problem: {d.get('problem')!r})")
        for key in ("metrics", "directions"):
            if not isinstance(d.get(key), dict):
                raise ResultsFileError(f"metadata has no {key} per task ({key}: {d.get(key)!r})")
        bad = {t: d["directions"].get(t) for t in names}
        bad = {t: v for t, v in bad.items() if v not in ("maximize", "minimize")}
        if bad:
            raise ResultsFileError(f"metadata has no direction (maximize/minimize) for {bad}")
        tasks = tuple(
            TaskMeta(
                name,
                d["metrics"][name],
                d["directions"][name] == "maximize",
                d.get("units", {}).get(name, ""),
            )
            for name in d["tasks"]
        )
        return cls(d["problem"], tasks)


def columns_for(task_names: Sequence[str]) -> list[str]:
    """The full column list, in order, for a file with these tasks."""
    return (
        BASE_COLUMNS
        + [f"w.{t}" for t in task_names]
        + [f"metric.{t}" for t in task_names]
        + [f"loss.{t}" for t in task_names]
        + COST_COLUMNS
        + EXTRA_COLUMNS
        + list(OPTIONAL_COLUMNS)
    )


@dataclass
class RunRecord:
    """One training run, as it becomes rows: one per split (val, test).

    ``metrics``/``losses`` map split → per-task values in task order; a failed run has
    ``status="failed"``, an ``error`` and NaN metrics.
    """

    study: str
    problem: str
    run_id: str
    kind: str
    method: str
    seed: int
    task_names: Sequence[str]
    epochs: int
    batch_size: int
    lr: float
    device: str
    weights: Sequence[float] | None = None
    metrics: dict[str, list[float]] | None = None
    losses: dict[str, list[float]] | None = None
    train_seconds: float = math.nan
    step_ms: float = math.nan
    options: dict[str, object] = field(default_factory=dict)
    trial: int = -1
    status: str = STATUS_OK
    error: str = ""
    threads: int = -1
    checkpoint: str = "last"
    trajectory: str = ""  # the run's path as trajectory_json's text ("" for none)
    model: str = "mlp"

    def rows(self) -> list[dict[str, object]]:
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        rows = []
        for split in SPLITS:
            row: dict[str, object] = {
                "study": self.study,
                "problem": self.problem,
                "run_id": self.run_id,
                "kind": self.kind,
                "method": self.method,
                "seed": self.seed,
                "split": split,
                "train_seconds": self.train_seconds,
                "step_ms": self.step_ms,
                "device": self.device,
                "version": __version__,
                "status": self.status,
                "epochs": self.epochs,
                "batch_size": self.batch_size,
                "lr": self.lr,
                "options": json.dumps(self.options, sort_keys=True),
                "trial": self.trial,
                "torch": _torch_version(),
                "created": created,
                "error": self.error,
                "threads": self.threads,
                "checkpoint": self.checkpoint,
                "trajectory": self.trajectory,
                "model": self.model,
            }
            for k, t in enumerate(self.task_names):
                row[f"w.{t}"] = self.weights[k] if self.weights is not None else math.nan
                row[f"metric.{t}"] = self.metrics[split][k] if self.metrics else math.nan
                row[f"loss.{t}"] = self.losses[split][k] if self.losses else math.nan
            rows.append(row)
        return rows


def trajectory_json(
    trajectory: dict[str, list] | None, tolerance: float = TRAJECTORY_TOLERANCE
) -> str:
    """A run's path as compact JSON text for the ``trajectory`` column ("" for none): steps,
    per-point losses (task order) and parameters, each number to
    :data:`TRAJECTORY_DIGITS` significant digits (NaN/inf as null: strict JSON), thinned to
    the recorded points that draw the same path (:func:`paretokit.polyline.simplify` on the
    losses and parameters together, at ``tolerance``; 0 keeps them all). The first and last
    points (the start and the end point) are always kept, and each kept point is the pair of a
    recorded position and its losses."""
    if not trajectory:
        return ""

    def num(v: float) -> float | None:
        return float(f"{v:.{TRAJECTORY_DIGITS}g}") if math.isfinite(v) else None

    path = {
        "step": [int(s) for s in trajectory["step"]],
        "loss": [[num(v) for v in row] for row in trajectory["loss"]],
        "x": [[num(v) for v in row] for row in trajectory["x"]],
    }
    if tolerance > 0:  # measured on the stored numbers (null: NaN, which keeps the path whole)
        points = [
            [math.nan if v is None else v for v in (*f, *x)]
            for f, x in zip(path["loss"], path["x"])
        ]
        kept = polyline.simplify(points, tolerance)
        path = {key: [path[key][i] for i in kept] for key in path}
    return json.dumps(path, separators=(",", ":"))


def read_trajectory(text: object) -> dict[str, list] | None:
    """The path stored in a ``trajectory`` cell: {"step", "loss", "x"} with equally many
    points, or None for an empty cell; a :class:`ResultsFileError` for anything else."""
    if not isinstance(text, str) or not text:
        return None
    try:
        d = json.loads(text)
        n = len(d["step"])
        if n == 0 or len(d["loss"]) != n or len(d["x"]) != n:
            raise ValueError(f"{n} steps, {len(d['loss'])} losses, {len(d['x'])} positions")
    except (ValueError, KeyError, TypeError) as exc:
        raise ResultsFileError(f"a damaged trajectory cell ({exc})") from exc
    return d


@dataclass
class Results:
    """A validated results table and its metadata."""

    frame: pd.DataFrame
    meta: ResultsMeta

    def metric_columns(self) -> list[str]:
        return [f"metric.{t}" for t in self.meta.task_names]

    def ok(self, split: str | None = None, kind: str | None = None) -> pd.DataFrame:
        """Rows of finished runs, optionally restricted to one split and/or kind."""
        df = self.frame[self.frame["status"] == STATUS_OK]
        if split is not None:
            df = df[df["split"] == split]
        if kind is not None:
            df = df[df["kind"] == kind]
        return df


def read_results(path: str | os.PathLike[str]) -> Results:
    """Read and validate a results file, with the parts appended to it since it was last
    written whole (:mod:`paretokit.results_store`); a clear :class:`ResultsFileError`
    otherwise."""
    path = Path(path)
    if not path.exists():
        raise ResultsFileError(f"results file {str(path)!r} does not exist")
    if path.is_dir():
        raise ResultsFileError(f"{str(path)!r} is a folder, not a results file")
    try:
        main, parts = store.read_snapshot(store.target(path))
    except (OSError, pa.ArrowException) as exc:
        raise ResultsFileError(f"{str(path)!r} is not a readable Parquet file ({exc})") from exc
    assert main is not None  # it exists
    meta = _table_meta(main, str(path))
    frames = [_table_frame(main, meta, str(path))]
    for part, table in parts:
        if _table_meta(table, str(part)) != meta:
            raise ResultsFileError(f"{str(part)!r}, a part of {str(path)!r}, holds other tasks")
        frames.append(_table_frame(table, meta, str(part)))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return Results(_one_row_per_key(frame, meta, str(path)), meta)


def _table_meta(table: pa.Table, source: str) -> ResultsMeta:
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise ResultsFileError(
            f"{source!r} is a Parquet file but not a paretokit results file (no paretokit metadata)"
        )
    try:
        return ResultsMeta.from_json(raw)
    except (ValueError, KeyError, TypeError, AttributeError, ResultsFileError) as exc:
        raise ResultsFileError(f"{source!r} has damaged paretokit metadata ({exc})") from exc


def _table_frame(table: pa.Table, meta: ResultsMeta, source: str) -> pd.DataFrame:
    """The rows of one table, checked: every column there (optional ones defaulted), numbers
    in the numeric columns, known kinds and splits."""
    frame = table.to_pandas()
    for c, default in OPTIONAL_COLUMNS.items():
        if c not in frame.columns:
            frame[c] = default
    missing = [c for c in columns_for(meta.task_names) if c not in frame.columns]
    if missing:
        raise ResultsFileError(f"{source!r} lacks column(s): {', '.join(missing)}")
    floats, ints = _numeric_columns(meta)
    text = [c for c in floats + ints if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        raise ResultsFileError(
            f"{source!r} holds non-numbers in numeric column(s) {', '.join(text)} "
            f"(e.g. {text[0]} = {frame[text[0]].iloc[0]!r}): not a file paretokit wrote"
        )
    bad_kind = set(frame["kind"].unique()) - set(KINDS)
    bad_split = set(frame["split"].unique()) - set(SPLITS)
    if bad_kind or bad_split:
        raise ResultsFileError(f"{source!r} has unknown kind/split values: {bad_kind | bad_split}")
    return frame


def _one_row_per_key(frame: pd.DataFrame, meta: ResultsMeta, source: str) -> pd.DataFrame:
    """The rule of :func:`merge_results`, applied to one file: rows that repeat a
    (run_id, split) key with the same run (see :func:`check_same_runs`) are dropped, keeping
    the first; a key held by two different runs is a :class:`ResultsFileError`. (A file
    written by paretokit never repeats a key; a hand-made concatenation may.)"""
    dup = frame.duplicated(subset=["run_id", "split"], keep="first")
    if not dup.any():
        return frame
    check_same_runs(frame.assign(_source=source), meta)
    return frame[~dup].reset_index(drop=True)


def append_results(
    path: str | os.PathLike[str], rows: Sequence[dict[str, object]], meta: ResultsMeta
) -> int:
    """Append ``rows`` to the file (created if absent), atomically; returns rows added.

    Rows whose (run_id, split) the file already holds are not added again, so re-running a
    resumed study never duplicates rows; such a row must be the same run as the one held
    (same setting, weights, metrics, losses and status), else it is another run under the
    same id (e.g. a study re-created after its storage was deleted) and the append is a
    :class:`ResultsFileError` naming the run, never a silent choice. The file's problem and
    task order must match ``meta``.
    """
    path = store.target(path)
    with store.locked(path):
        parts = store.list_parts(path) if path.exists() else []
        if path.exists():
            existing = read_results(path)
            check_same_meta(existing.meta, meta, path)
            frame = existing.frame
        else:
            store.drop_orphans(path)
            frame = pd.DataFrame(columns=columns_for(meta.task_names))
        new = new_rows(rows, meta)
        seen = set(zip(frame["run_id"], frame["split"]))
        if seen.intersection(zip(new["run_id"], new["split"])):
            check_same_runs(
                pd.concat(
                    [frame.assign(_source=str(path)), new.assign(_source="the new rows")],
                    ignore_index=True,
                ),
                meta,
            )
        keep = [(r, s) not in seen for r, s in zip(new["run_id"], new["split"])]
        new = new[keep]
        if new.empty and path.exists() and not parts:
            return 0
        merged = pd.concat([frame, new], ignore_index=True) if len(frame) else new
        write_whole(path, merged.reset_index(drop=True), meta)
        store.remove(path, parts)  # folded into the file just written
        return len(new)


def new_rows(rows: Sequence[dict[str, object]], meta: ResultsMeta) -> pd.DataFrame:
    """Rows to append as a frame of the file's columns, one row per (run_id, split) (a key
    given twice must be the same run, see :func:`check_same_runs`)."""
    new = pd.DataFrame(list(rows), columns=columns_for(meta.task_names))
    return _one_row_per_key(new, meta, "the new rows").drop_duplicates(subset=["run_id", "split"])


def check_same_meta(held: ResultsMeta, meta: ResultsMeta, path: Path) -> None:
    """A file takes rows of its own problem and task order only."""
    if held != meta:
        raise ResultsFileError(
            f"{str(path)!r} holds results for {held.problem} with tasks "
            f"{','.join(held.task_names)}, not {meta.problem} with tasks "
            f"{','.join(meta.task_names)}: write to another --out file"
        )


def existing_run_ids(path: str | os.PathLike[str]) -> set[str]:
    """The run ids the file holds (empty when the file does not exist yet)."""
    path = Path(path)
    if not path.exists():
        return set()
    return set(read_results(path).frame["run_id"])


def merge_results(
    paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]
) -> tuple[int, int]:
    """Merge results files (e.g. one per sweep worker) into ``out``, atomically.

    Every file must describe the same problem with the same tasks in the same order (the
    metadata of ``out`` too, when it exists: its rows are kept and the others are added, as
    every writer of a results file appends). Rows are keyed by (run_id, split); a row whose
    key an earlier file (or ``out``) already holds is dropped as a duplicate. Two rows with one
    key but different weights, metrics, losses or status are two different runs under one id
    (e.g. separate studies that were given the same name) and make an error instead of a
    silent choice. Returns (rows in the merged file, duplicate rows dropped).
    """
    if not paths:
        raise ResultsFileError("nothing to merge: name at least one results file")
    out = store.target(out)
    inputs = [Path(p) for p in paths]
    with store.locked(out):
        folded = store.list_parts(out) if out.exists() else []
        resolved = {p.resolve() for p in inputs}
        sources = ([out] if out.exists() and out.resolve() not in resolved else []) + inputs
        files = [(p, read_results(p)) for p in sources]
        first_path, first = files[0]
        for path, res in files[1:]:
            if res.meta != first.meta:
                raise ResultsFileError(
                    f"{str(path)!r} holds results for {res.meta.problem} with tasks "
                    f"{','.join(res.meta.task_names)}, but {str(first_path)!r} for "
                    f"{first.meta.problem} with tasks {','.join(first.meta.task_names)}: "
                    "only files of the same problem and tasks merge"
                )
        meta = first.meta
        frame = pd.concat(
            [res.frame.assign(_source=str(path)) for path, res in files], ignore_index=True
        )
        check_same_runs(frame, meta)
        dup = frame.duplicated(subset=["run_id", "split"], keep="first")
        merged = frame[~dup].drop(columns="_source").reset_index(drop=True)
        write_whole(out, merged, meta)
        store.remove(out, folded)  # read above (as part of out, or of an input that is out)
        return len(merged), int(dup.sum())


SAME_RUN_COLUMNS = ("problem", "kind", "method", "seed", "epochs", "batch_size", "lr", "status")


def check_same_runs(frame: pd.DataFrame, meta: ResultsMeta) -> None:
    """Rows that share (run_id, split) must be the same run: same setting (problem, kind,
    method, seed, epochs, batch size, lr), weights, metrics, losses and status (NaN equals
    NaN); ``created``, versions and timings may differ."""
    keyed = frame[frame.duplicated(subset=["run_id", "split"], keep=False)]
    if keyed.empty:
        return
    cols = [f"{p}.{t}" for p in ("w", "metric", "loss") for t in meta.task_names]
    cols += [c for c in SAME_RUN_COLUMNS if c in frame.columns]
    key = ["run_id", "split"]
    ref = keyed.drop_duplicates(subset=key)[key + cols + ["_source"]]
    both = keyed.merge(ref, on=key, how="left", suffixes=("", "@first"))
    per_column = {}
    for c in cols:
        a, b = both[c], both[f"{c}@first"]
        per_column[c] = ((a != b) & ~(pd.isna(a) & pd.isna(b))).fillna(True).astype(bool)
    differs = pd.concat(per_column.values(), axis=1).any(axis=1)
    if differs.any():
        i = differs[differs].index[0]
        bad = both.loc[i]
        what = ", ".join(
            f"{c} {_show(bad[f'{c}@first'])} vs {_show(bad[c])}" for c in cols if per_column[c][i]
        )
        raise ResultsFileError(
            f"run {bad['run_id']!r} ({bad['split']}) in {bad['_source@first']!r} and the run of "
            f"the same id in {bad['_source']!r} differ ({what}): two different runs under one "
            "id, e.g. a study re-created under the same name after its storage was deleted, or "
            "two studies of the same name in different storages; keep the runs of one study "
            "per results file (write to another file, or choose another study name)"
        )


def _show(value: object) -> str:
    if hasattr(value, "item"):  # a NumPy scalar
        value = value.item()  # type: ignore[union-attr]
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def to_table(frame: pd.DataFrame, meta: ResultsMeta) -> pa.Table:
    """The Parquet table of a frame of results rows: fixed column types, the metadata."""
    table = pa.Table.from_pandas(_typed(frame, meta), preserve_index=False)
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), META_KEY: meta.to_json()}
    )


def write_whole(path: Path, frame: pd.DataFrame, meta: ResultsMeta) -> None:
    """Write the whole file atomically (the caller holds the lock)."""
    store.write_table_atomic(path, to_table(frame, meta))


def _numeric_columns(meta: ResultsMeta) -> tuple[list[str], list[str]]:
    """The float and the integer columns."""
    floats = ["train_seconds", "step_ms", "lr"] + [
        f"{p}.{t}" for p in ("w", "metric", "loss") for t in meta.task_names
    ]
    ints = ["seed", "epochs", "batch_size", "trial"]
    ints += [c for c, d in OPTIONAL_COLUMNS.items() if isinstance(d, int)]
    return floats, ints


def _typed(frame: pd.DataFrame, meta: ResultsMeta) -> pd.DataFrame:
    """Fixed column dtypes, so appends never change the schema."""
    out = frame.copy()
    floats, ints = _numeric_columns(meta)
    for c in floats:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    for c in ints:
        fill = OPTIONAL_COLUMNS.get(c, -1)
        out[c] = pd.to_numeric(out[c], errors="coerce").fillna(fill).astype("int64")
    for c in set(out.columns) - set(floats) - set(ints):
        out[c] = out[c].astype("string").fillna(str(OPTIONAL_COLUMNS.get(c, "")))
    return out


def _torch_version() -> str:
    """The running torch's version (the engine has imported it when rows are written); read
    from the installed package's metadata otherwise, so that reading results never imports
    torch (``report``, ``plot``, ``merge`` start in well under a second)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return str(torch.__version__)
    try:
        return version("torch")
    except PackageNotFoundError:
        return ""
