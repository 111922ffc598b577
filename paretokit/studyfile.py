"""Study files: one TOML file that names a whole study, checked before any work.

A study is a sweep over linear-scalarization weights and a set of adaptive methods trained on
one setting with paired seeds (DESIGN.md, "The verdict protocol"); the file says which::

    title = "QM9, 3 tasks"          # the report's heading (default: the file's name)
    claim = "ranking"               # which claim the report's last paragraph states
    problem = "qm9"                 # a built-in problem or package.module:factory
    tasks = ["mu", "alpha", "homo"] # names, or a count (the first N); default: the problem's
    model = "mlp"                   # the problem's model, where it offers a choice
    seeds = 3                       # training seeds 0 … S−1, for the sweep and every method
                                    # (default: the problem's, 3; toy: its 5 starts)
    device = "auto"                 # auto, cpu, cuda or cuda:N
    threads = 1                     # torch CPU threads (default: $OMP_NUM_THREADS, else 1)
    paper = "…"                     # the paper's own setting and budget, quoted in the report

    [train]                         # the training setting: epochs, batch_size, lr, checkpoint
    epochs = 6
    [sweep]                         # trials (required), sampler, population, grid_resolution
    trials = 80
    [methods]                       # name = { option = value, … }, one table per method
    nashmtl = { update_every = 1 }
    [report]                        # split judged (test), figure file name (frontier.png)

Every key is checked (unknown keys, types, ranges, problem, task and method names, method
options) when the file is loaded, and a bad one is one :class:`StudyFileError` naming the
file and the key. The study's results live in a folder named after the file, next to it
(``studies/NAME.toml`` → ``studies/NAME/results.parquet``, ``report.md`` and the figure; the
Optuna storage is ``studies/NAME/paretokit-studies.db``), unless ``results`` names another file.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from paretokit.errors import ParetokitError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10: the same parser, from its own package
    import tomli as tomllib

CLAIMS = ("beyond", "ranking", "reach")
SAMPLERS = ("dirichlet", "grid", "qmc", "tpe", "nsga2", "adaptive", "random")
CHECKPOINTS = ("last", "best")
SPLITS = ("val", "test")
FIGURE_FORMATS = (".png", ".svg", ".pdf")
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


class StudyFileError(ParetokitError):
    """A study file that cannot be read, or a key in it with a bad value."""


@dataclass(frozen=True)
class SweepSpec:
    """The ``[sweep]`` table: the study's budget of complete trials and where weights go."""

    trials: int
    sampler: str = "dirichlet"
    population: int | str = 1
    grid_resolution: int | None = None


@dataclass(frozen=True)
class StudySpec:
    """A checked study file. ``None`` means the problem's (or paretokit's) default."""

    path: Path
    name: str
    title: str
    problem: str
    tasks: int | list[str] | None = None
    model: str | None = None
    seeds: int | None = None  # resolved by load_study: the problem's default when not given
    device: str = "auto"
    threads: int | None = None
    claim: str | None = None
    paper: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    checkpoint: str = "last"
    sweep: SweepSpec | None = None
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    split: str = "test"
    figure: str = "frontier.png"
    results: Path = Path("results.parquet")
    storage: str | None = None

    @property
    def folder(self) -> Path:
        """Where report.md and the figure are written: the results file's folder."""
        return self.results.parent


# --- value checks: each returns the value or raises ValueError with "must be …" -----------------


def _int(minimum: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            what = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
            raise ValueError(f"must be {what}, got {v!r}")
        return v

    return check


def _positive_float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"must be a finite number > 0, got {v!r}")
    return float(v)


def _text(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"must be a non-empty string, got {v!r}")
    return v


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {v!r}")
        return v

    return check


def _tasks(v: Any) -> int | list[str]:
    if isinstance(v, list) and v and all(isinstance(t, str) and t for t in v):
        if len(set(v)) != len(v):
            raise ValueError(f"names a task twice: {v!r}")
        return list(v)
    if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
        return v
    raise ValueError(f"must be a positive integer or a list of task names, got {v!r}")


def _device(v: Any) -> str:
    if not isinstance(v, str) or not _DEVICE.match(v):
        raise ValueError(f"must be auto, cpu, cuda or cuda:N, got {v!r}")
    return v


def _population(v: Any) -> int | str:
    if v == "auto":
        return v
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f'must be a positive integer or "auto", got {v!r}')
    return v


def _figure(v: Any) -> str:
    if not isinstance(v, str) or Path(v).suffix.lower() not in FIGURE_FORMATS or "/" in v:
        raise ValueError(f"must be a file name ending in {', '.join(FIGURE_FORMATS)}, got {v!r}")
    return v


TOP: dict[str, Callable[[Any], Any]] = {
    "title": _text,
    "claim": _choice(CLAIMS),
    "problem": _text,
    "tasks": _tasks,
    "model": _text,
    "seeds": _int(1),
    "device": _device,
    "threads": _int(1),
    "paper": _text,
    "results": _text,
    "storage": _text,
}
TABLES: dict[str, dict[str, Callable[[Any], Any]]] = {
    "train": {
        "epochs": _int(1),
        "batch_size": _int(1),
        "lr": _positive_float,
        "checkpoint": _choice(CHECKPOINTS),
    },
    "sweep": {
        "trials": _int(1),
        "sampler": _choice(SAMPLERS),
        "population": _population,
        "grid_resolution": _int(1),
    },
    "report": {"split": _choice(SPLITS), "figure": _figure},
}


def load_study(path: str | Path) -> StudySpec:
    """Read and check a study file: every key, then the problem, tasks and method options."""
    path = Path(path)
    raw = _read(path)
    values = _check_keys(path, raw)
    spec = _build(path, values, raw.get("methods", {}))
    problem = check_names(spec)
    if spec.seeds is None:
        from paretokit.validation import seed_count

        spec = replace(spec, seeds=seed_count(problem.defaults, None))
    return spec


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudyFileError(f"{path}: no such study file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyFileError(f"{path}: cannot read the study file ({exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{path}: not valid TOML: {exc}") from None


def _fail(path: Path, key: str, message: str) -> StudyFileError:
    return StudyFileError(f"{path}: {key}: {message}")


def _check_keys(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """Every key known and of the right type and range; ``{"sweep.trials": 80, …}``."""
    values: dict[str, Any] = {}
    known = [*TOP, *TABLES, "methods"]
    for key, value in raw.items():
        if key in TABLES or key == "methods":
            if not isinstance(value, dict):
                raise _fail(path, key, f"must be a table ([{key}]), got {value!r}")
            if key == "methods":
                continue
            for sub, v in value.items():
                if sub not in TABLES[key]:
                    raise _fail(
                        path, f"{key}.{sub}", f"unknown key (known: {', '.join(TABLES[key])})"
                    )
                values[f"{key}.{sub}"] = _checked(path, f"{key}.{sub}", TABLES[key][sub], v)
        elif key in TOP:
            values[key] = _checked(path, key, TOP[key], value)
        else:
            raise _fail(path, key, f"unknown key (known: {', '.join(known)})")
    if "problem" not in values:
        raise _fail(path, "problem", "missing (name a built-in problem or package.module:factory)")
    if "sweep" in raw and "sweep.trials" not in values:
        raise _fail(path, "sweep.trials", "missing (the sweep's budget of complete trials)")
    for name, options in raw.get("methods", {}).items():
        if not isinstance(options, dict):
            raise _fail(path, f"methods.{name}", f"must be a table of options, got {options!r}")
    if "sweep" not in raw and not raw.get("methods"):
        raise _fail(path, "sweep", "the study has neither a [sweep] nor any [methods]")
    return values


def _checked(path: Path, key: str, check: Callable[[Any], Any], value: Any) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise _fail(path, key, str(exc)) from None


def _build(path: Path, v: dict[str, Any], methods: dict[str, dict[str, Any]]) -> StudySpec:
    name = path.stem
    results = Path(v.get("results", f"{name}/results.parquet"))
    if not results.is_absolute():
        results = path.parent / results
    sweep = None
    if "sweep.trials" in v:
        sweep = SweepSpec(
            trials=v["sweep.trials"],
            sampler=v.get("sweep.sampler", "dirichlet"),
            population=v.get("sweep.population", 1),
            grid_resolution=v.get("sweep.grid_resolution"),
        )
    return StudySpec(
        path=path,
        name=name,
        title=v.get("title", name),
        problem=v["problem"],
        tasks=v.get("tasks"),
        model=v.get("model"),
        seeds=v.get("seeds"),
        device=v.get("device", "auto"),
        threads=v.get("threads"),
        claim=v.get("claim"),
        paper=v.get("paper"),
        epochs=v.get("train.epochs"),
        batch_size=v.get("train.batch_size"),
        lr=v.get("train.lr"),
        checkpoint=v.get("train.checkpoint", "last"),
        sweep=sweep,
        methods={m: dict(o) for m, o in methods.items()},
        split=v.get("report.split", "test"),
        figure=v.get("report.figure", "frontier.png"),
        results=results,
        storage=v.get("storage"),
    )


def check_names(spec: StudySpec) -> Any:
    """What only the registries can say: the problem and its tasks, the model, each method
    and its options (one error naming the key). Returns the problem."""
    from paretokit.compare import main_task_index, resolve_options
    from paretokit.problems import get_problem

    try:
        problem = get_problem(spec.problem, spec.tasks)
    except ParetokitError as exc:
        key = "tasks" if spec.tasks is not None and "task" in str(exc) else "problem"
        raise _fail(spec.path, key, str(exc)) from None
    if spec.model is not None:
        check_model(spec, problem)
        problem = get_problem(spec.problem, spec.tasks, spec.model)
    for name, options in spec.methods.items():
        if name == "stl" and not options:
            continue  # STL runs are always planned; naming it changes nothing
        try:
            scoped = main_task_index(options, problem)
            resolve_options([name], problem.n_tasks, {}, {name: scoped} if scoped else {})
        except ParetokitError as exc:
            raise _fail(spec.path, f"methods.{name}", str(exc)) from None
    return problem


def check_model(spec: StudySpec, problem: Any) -> None:
    """``model`` must be one the problem offers (problems without a choice have none)."""
    models = tuple(getattr(problem, "models", ()) or ())
    if spec.model not in models:
        offered = f"one of {', '.join(models)}" if models else "absent: it offers no choice"
        raise _fail(spec.path, "model", f"for problem {problem.name!r} must be {offered}")
