"""What a problem is: task specs, data splits and a shared-trunk multi-task model.

A problem knows nothing of methods. The training engine asks it for data (:meth:`Problem.splits`),
a fresh model (:meth:`Problem.build_model`), the per-task training losses
(:meth:`Problem.losses`) and the per-task primary metrics (:meth:`Problem.metrics`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from paretokit.errors import ProblemError
from paretokit.validation import DEFAULT_SEEDS

LOSSES = ("mse", "l1", "cross_entropy", "value")
METRICS = ("mae", "mse", "accuracy", "value")
# "value": the head's output is the loss itself (analytic problems such as ``toy``); its mean
# over the batch is the loss, and as a metric that mean times the task's ``scale``.


@dataclass(frozen=True)
class TaskSpec:
    """One task: its name, training loss, primary metric and the metric's direction.

    ``scale`` converts a model output in training units back to the metric's units (targets
    standardized with train statistics are multiplied back by their standard deviation), so
    that e.g. an MAE is reported in the target's physical unit ``unit``.
    """

    name: str
    loss: str
    metric: str
    higher_is_better: bool
    unit: str = ""
    description: str = ""
    scale: float = 1.0
    n_classes: int = 0

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ProblemError(f"task {self.name!r}: unknown loss {self.loss!r}; known: {LOSSES}")
        if self.metric not in METRICS:
            raise ProblemError(
                f"task {self.name!r}: unknown metric {self.metric!r}; known: {METRICS}"
            )
        if (self.loss == "cross_entropy") != (self.n_classes > 0):
            raise ProblemError(
                f"task {self.name!r}: n_classes is set exactly for cross_entropy tasks"
            )


@dataclass(frozen=True)
class Split:
    """One data split: inputs ``x`` (N, ...) and targets ``y`` (N, K), one column per task.

    Regression targets are float; classification targets are int64 class indices.
    """

    x: Tensor
    y: Tensor

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class TrainDefaults:
    """A problem's default training budget: what makes a first run meaningful and quick.
    ``seeds``: training seeds per method and per sweep trial (0 … seeds−1) when none are
    asked for (a problem whose seeds mean something, such as ``toy``'s five starts, says how
    many it has)."""

    epochs: int
    batch_size: int
    lr: float
    seeds: int = DEFAULT_SEEDS


class MultiTaskModel(nn.Module):
    """A shared trunk and one head per task: ``z = trunk(x)``, ``out_k = heads[k](z)``.

    The engine uses :meth:`representation` and :meth:`heads_forward` separately when a method
    works on feature-level gradients (MGDA-UB, GradDrop).
    """

    def __init__(self, trunk: nn.Module, heads: Sequence[nn.Module]) -> None:
        super().__init__()
        self.trunk = trunk
        self.heads = nn.ModuleList(heads)

    def representation(self, x: Tensor) -> Tensor:
        return self.trunk(x)

    def heads_forward(self, z: Tensor) -> list[Tensor]:
        return [head(z) for head in self.heads]

    def forward(self, x: Tensor) -> list[Tensor]:
        return self.heads_forward(self.representation(x))

    def shared_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.trunk.parameters() if p.requires_grad]

    def head_parameters(self, k: int) -> list[nn.Parameter]:
        return [p for p in self.heads[k].parameters() if p.requires_grad]


def task_loss(kind: str, output: Tensor, target: Tensor) -> Tensor:
    """Mean loss over the batch for one task."""
    if kind == "mse":
        return F.mse_loss(output.reshape(-1), target.float())
    if kind == "l1":
        return F.l1_loss(output.reshape(-1), target.float())
    if kind == "cross_entropy":
        return F.cross_entropy(output, target.long())
    if kind == "value":
        return output.reshape(-1).mean()
    raise ValueError(f"unknown loss {kind!r}")


def task_metric(kind: str, output: Tensor, target: Tensor, scale: float = 1.0) -> float:
    """The primary metric over a whole split, in the metric's units."""
    if kind == "mae":
        return float((output.reshape(-1) - target.float()).abs().mean()) * scale
    if kind == "mse":
        return float(((output.reshape(-1) - target.float()) ** 2).mean()) * scale**2
    if kind == "accuracy":
        return float((output.argmax(dim=-1) == target.long()).float().mean())
    if kind == "value":
        return float(output.reshape(-1).mean()) * scale
    raise ValueError(f"unknown metric {kind!r}")


class Problem(ABC):
    """A multi-task benchmark problem restricted to a selection of its tasks.

    Subclasses set ``name``, ``summary``, ``source`` (data source and licence) and
    ``defaults``, and implement :meth:`available_tasks`, :meth:`_load_splits` (targets for
    *all* available tasks, columns in :meth:`available_tasks` order) and :meth:`build_trunk`.
    The base class resolves the task selection, slices the target columns and builds the
    heads.

    ``tasks`` may be ``None`` (the problem's default selection), an int N (the first N tasks)
    or a sequence of task names. ``model`` is one of ``models`` (``None``: the first); the
    results file records it and runs of different models are never compared as one setting.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    source: ClassVar[str]
    defaults: ClassVar[TrainDefaults]
    default_n_tasks: ClassVar[int | None] = None  # None: all tasks
    # Record each run's path (losses and all trainable parameters, flattened) at about this
    # many evenly spaced steps, plus its end point (the results file keeps those that draw
    # the same path); 0: no trajectory (problems whose parameters are a handful of numbers,
    # such as ``toy``, set it).
    trajectory_points: ClassVar[int] = 0
    # the models this problem can train, the default first; part of the training setting
    models: ClassVar[tuple[str, ...]] = ("mlp",)
    eval_batch_size: int = 8192  # examples per forward pass when evaluating a split

    def __init__(self, tasks: int | Sequence[str] | None = None, model: str | None = None) -> None:
        self.model = resolve_model(model, self.models, self.name)
        self._all = tuple(self.available_tasks())
        self.task_indices = resolve_tasks(tasks, self._all, self.name, self.default_n_tasks)
        self._splits: dict[str, Split] | None = None

    # --- to implement -------------------------------------------------------------------
    @abstractmethod
    def available_tasks(self) -> Sequence[TaskSpec]:
        """Every task this problem can train, in its canonical order."""

    @abstractmethod
    def _load_splits(self) -> dict[str, Split]:
        """``{"train", "val", "test"}`` splits with one target column per available task."""

    @abstractmethod
    def build_trunk(self) -> tuple[nn.Module, int]:
        """A fresh shared trunk and the width of its output representation."""

    def build_head(self, task: TaskSpec, width: int) -> nn.Module:
        """A fresh head for ``task`` on a ``width``-wide representation (default: linear)."""
        return nn.Linear(width, task.n_classes or 1)

    # --- provided -----------------------------------------------------------------------
    @property
    def tasks(self) -> tuple[TaskSpec, ...]:
        return tuple(self._all[i] for i in self.task_indices)

    @property
    def task_names(self) -> list[str]:
        return [t.name for t in self.tasks]

    @property
    def n_tasks(self) -> int:
        return len(self.task_indices)

    def splits(self) -> dict[str, Split]:
        """The train/val/test splits with target columns for the selected tasks (cached)."""
        if self._splits is None:
            full = self._load_splits()
            idx = torch.as_tensor(self.task_indices)
            self._splits = {k: Split(s.x, s.y.index_select(1, idx)) for k, s in full.items()}
        return self._splits

    def build_model(self) -> MultiTaskModel:
        """A fresh model; the caller seeds the RNG before calling for reproducible init."""
        trunk, width = self.build_trunk()
        return MultiTaskModel(trunk, [self.build_head(t, width) for t in self.tasks])

    def build_model_for_seed(self, seed: int) -> MultiTaskModel:
        """The model a run with training seed ``seed`` starts from; the engine seeds the RNG
        with ``seed`` first. Default: :meth:`build_model` (the seed acts through the RNG);
        a problem whose seeds select fixed starting points (``toy``) overrides it."""
        return self.build_model()

    def check_seeds(self, seeds: Sequence[int]) -> None:
        """Refuse training seeds the problem cannot honour (:class:`ProblemError`), before any
        work; every seed is fine by default."""

    def losses(self, outputs: Sequence[Tensor], y: Tensor) -> Tensor:
        """Per-task mean training losses, shape (K,)."""
        return torch.stack(
            [task_loss(t.loss, out, y[:, k]) for k, (t, out) in enumerate(zip(self.tasks, outputs))]
        )

    def metrics(self, outputs: Sequence[Tensor], y: Tensor) -> list[float]:
        """Per-task primary metrics over a whole split, in each metric's units."""
        return [
            task_metric(t.metric, out, y[:, k], t.scale)
            for k, (t, out) in enumerate(zip(self.tasks, outputs))
        ]

    def describe(self) -> dict[str, object]:
        return {"problem": self.name, "tasks": self.task_names, "model": self.model}


def resolve_model(model: str | None, models: Sequence[str], problem: str) -> str:
    """The model to train: ``None`` → the problem's default (the first of ``models``)."""
    if model is None:
        return models[0]
    if model not in models:
        raise ProblemError(
            f"problem {problem!r} has no model {model!r}; its models: {', '.join(models)}"
        )
    return model


def resolve_tasks(
    tasks: int | str | Sequence[str] | None,
    available: Sequence[TaskSpec],
    problem: str,
    default_n: int | None = None,
) -> list[int]:
    """Indices of the selected tasks: None → default, N → first N, names → those, in order.

    A string is either a count (``"3"``) or comma-separated names (``"mu,alpha"``).
    """
    names = [t.name for t in available]
    if tasks is None:
        n = default_n if default_n is not None else len(names)
        return list(range(n))
    if isinstance(tasks, str):
        text = tasks.strip()
        if text.isdigit():
            tasks = int(text)
        else:
            tasks = [s.strip() for s in text.split(",") if s.strip()]
    if isinstance(tasks, int):
        if not 2 <= tasks <= len(names):
            raise ProblemError(
                f"--tasks {tasks} is out of range for problem {problem!r}: "
                f"it has {len(names)} tasks, choose 2 to {len(names)}"
            )
        return list(range(tasks))
    selected = list(tasks)
    unknown = [t for t in selected if t not in names]
    if unknown:
        raise ProblemError(
            f"unknown task(s) {', '.join(map(repr, unknown))} for problem {problem!r}; "
            f"known: {', '.join(names)}"
        )
    if len(set(selected)) != len(selected):
        raise ProblemError(f"--tasks names a task twice: {','.join(selected)}")
    if len(selected) < 2:
        raise ProblemError("a multi-task run needs at least 2 tasks")
    return [names.index(t) for t in selected]
