"""The one epoch driver of the engine: single runs and populations go through the same loop.

:func:`run_epochs` drives P ≥ 1 models (:class:`Members`; one run is P = 1) through
``config.epochs`` epochs: each epoch draws the data order(s), makes the training steps, checks
every member's epoch-mean training loss for divergence, calls the epoch callback, and — for
``checkpoint="best"`` — evaluates every member on the validation split and keeps its
parameters when its checkpoint score improved. After training it puts the chosen parameters
back, evaluates val and test, and assembles one :class:`RunResult` (or the
:class:`TrainingDiverged` the member hit) per member.

**Checkpoints.** ``last``: the parameters after the last epoch (no evaluation during
training). ``best``: the epoch ``e`` with the highest *mean normalized validation metric*

    s(e) = (1/K) Σ_k σ_k (m_k(e) − m_k(1)) / |m_k(1)|,

where ``m_k(e)`` is task k's primary validation metric after epoch e, ``σ_k = +1`` when higher
is better and ``−1`` when lower is better, and ``|m_k(1)|`` is replaced by 1 where it is 0:
each task's relative improvement over its value after the first epoch (s(1) = 0), averaged over
the tasks — the Δm% of Maninis et al. (CVPR 2019) with the run's own first epoch as the
baseline, so the choice needs nothing but the run itself. An epoch with a non-finite metric
is never chosen (a run with none to choose is evaluated at its last epoch); ties keep the
earlier epoch. ``best`` costs one evaluation of the validation
split per epoch (a forward pass over it: for the built-in problems a few percent of an
epoch's training time); it is counted in ``train_seconds`` but not in ``step_ms``.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from paretokit.errors import ParetokitError, TrainingDiverged
from paretokit.problems import Problem, Split
from paretokit.train.trajectory import Recorder

CHECKPOINTS = ("last", "best")

EpochCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RunConfig:
    """The budget and settings of one training run. ``checkpoint``: which epoch's parameters
    the run is evaluated at, ``last`` or ``best`` (see :mod:`paretokit.train.epochs`)."""

    epochs: int
    batch_size: int
    lr: float
    seed: int
    device: torch.device
    checkpoint: str = "last"


@dataclass
class RunResult:
    """What one run produced: per-split metrics and losses (task order) at the chosen
    checkpoint (``epoch``, 1-based), and its cost."""

    metrics: dict[str, list[float]]
    losses: dict[str, list[float]]
    train_seconds: float
    step_ms: float
    steps: int
    mean_weights: list[float] | None = None  # mean per-step weights (normalized), if any
    epoch_losses: list[list[float]] = field(default_factory=list)
    checkpoint: str = "last"
    epoch: int = 0  # the epoch whose parameters were evaluated
    # the thinned path (train.trajectory), for problems with trajectory_points > 0
    trajectory: dict[str, list] | None = None


def check_checkpoint(checkpoint: str) -> str:
    if checkpoint not in CHECKPOINTS:
        raise ParetokitError(f"checkpoint must be 'last' or 'best', not {checkpoint!r}")
    return checkpoint


class Members(ABC):
    """P models trained together by :func:`run_epochs` (P = 1: a single run)."""

    n_members: int = 1

    @abstractmethod
    def step(self, batches: Sequence[Tensor]) -> Tensor:
        """One training step on the batches (row indices into the training split, one per
        data order); returns the members' detached task losses (P, K)."""

    @abstractmethod
    def evaluate(self, split: Split) -> list[tuple[list[float], list[float]]]:
        """(metrics, losses) of every member on a whole split."""

    @abstractmethod
    def keep(self, members: Sequence[int]) -> None:
        """Remember the current parameters of ``members`` as their checkpoint."""

    @abstractmethod
    def restore(self) -> None:
        """Put the kept parameters back (members never kept keep their current ones)."""

    def epoch_end(self, mean_losses: Tensor) -> None:
        """Called with the epoch-mean training losses (P, K) of every epoch."""

    def mean_weights(self, m: int) -> list[float] | None:
        """Member ``m``'s mean normalized loss weights over the steps, if it has any."""
        return None

    def positions(self) -> Tensor:
        """Every member's trainable parameters, flattened (P, D): the points of a
        trajectory (:mod:`paretokit.train.trajectory`)."""
        raise NotImplementedError(f"{type(self).__name__} does not record trajectories")

    def train(self, mode: bool = True) -> None:
        """Switch the members to training (or evaluation) mode."""


def checkpoint_score(
    metrics: Sequence[float], first: Sequence[float], higher_is_better: Sequence[bool]
) -> float:
    """s(e) of the module docstring: the mean over tasks of each metric's direction-aware
    relative improvement over ``first`` (its value after epoch 1); −inf if any is not finite."""
    total = 0.0
    for m, m1, hib in zip(metrics, first, higher_is_better):
        if not (math.isfinite(m) and math.isfinite(m1)):
            return -math.inf
        total += (1.0 if hib else -1.0) * (m - m1) / (abs(m1) or 1.0)
    return total / len(metrics)


@dataclass
class _MemberLog:
    """What :func:`run_epochs` keeps of each of the P members while it trains them."""

    epoch_losses: list[list[list[float]]]  # per member: the epoch-mean training losses so far
    diverged: dict[int, TrainingDiverged]  # the members that diverged, with their error
    first: list[list[float] | None]  # per member: its validation metrics after epoch 1
    best: list[tuple[float, int]]  # per member: (score, epoch) of its kept parameters

    @classmethod
    def empty(cls, p: int) -> _MemberLog:
        return cls([[] for _ in range(p)], {}, [None] * p, [(-math.inf, 0)] * p)

    def record_epoch(self, mean_losses: Tensor, epoch: int, task_names: Sequence[str]) -> None:
        """Keep each live member's epoch-mean training losses (P, K); a member with a
        non-finite one diverged in this epoch."""
        for m in range(mean_losses.shape[0]):
            if m in self.diverged:
                continue
            finite = torch.isfinite(mean_losses[m])
            if not finite.all():
                bad = [name for name, ok in zip(task_names, finite.tolist()) if not ok]
                self.diverged[m] = TrainingDiverged(
                    f"non-finite training loss for task(s) {', '.join(bad)} in epoch {epoch}"
                )
            else:
                self.epoch_losses[m].append(mean_losses[m].tolist())

    def keep_best(self, members: Members, val: Split, epoch: int, hib: list[bool]) -> None:
        """``checkpoint="best"``: score each member on validation against its first epoch's
        metrics (:func:`checkpoint_score`) and keep the parameters of those that improved."""
        improved = []
        for m, (metrics, _) in enumerate(members.evaluate(val)):
            self.first[m] = self.first[m] or metrics
            score = checkpoint_score(metrics, self.first[m], hib)
            if m not in self.diverged and score > self.best[m][0]:
                self.best[m] = (score, epoch)
                improved.append(m)
        if improved:
            members.keep(improved)


def run_epochs(
    problem: Problem,
    members: Members,
    config: RunConfig,
    data: dict[str, Split],
    orders: Sequence[torch.Generator],
    on_epoch: EpochCallback | None = None,
) -> list[RunResult | TrainingDiverged]:
    """Train ``members`` for ``config.epochs`` epochs and evaluate each at its checkpoint.

    Each epoch, every generator of ``orders`` draws a permutation of the training rows (on the
    CPU); step i gets the i-th batch of each. A member whose epoch-mean training loss is not
    finite gets :class:`TrainingDiverged` (the others go on; training stops once every member
    diverged). ``train_seconds`` is the wall time of the epochs divided by P (the members
    share it), ``step_ms`` the training steps' share of it per step.
    """
    check_checkpoint(config.checkpoint)
    p = members.n_members
    hib = [t.higher_is_better for t in problem.tasks]
    shape = (len(data["train"]), problem.n_tasks)
    recorder = _recorder(problem, config, shape[0], p)
    log = _MemberLog.empty(p)
    steps = 0
    eval_seconds = 0.0
    members.train()
    _sync(config.device)
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        mean_losses, steps = _train_epoch(members, orders, config, shape, steps, recorder)
        log.record_epoch(mean_losses.cpu(), epoch, problem.task_names)
        if len(log.diverged) < p:
            members.epoch_end(mean_losses.to(torch.float32))
            if config.checkpoint == "best":
                tick = time.perf_counter()
                log.keep_best(members, data["val"], epoch, hib)
                eval_seconds += time.perf_counter() - tick
        if on_epoch is not None:
            on_epoch(epoch, config.epochs)
        if len(log.diverged) == p:
            break
    _sync(config.device)
    wall = time.perf_counter() - start
    if recorder is not None:  # the end point, before a best checkpoint is put back
        end_losses = [losses for _, losses in members.evaluate(data["train"])]
        recorder.add(steps, members.positions(), torch.tensor(end_losses))
    if config.checkpoint == "best":
        members.restore()
    step_ms = 1000.0 * (wall - eval_seconds) / p / max(steps, 1)
    return _results(members, data, config, log, recorder, (wall / p, step_ms, steps))


def _recorder(problem: Problem, config: RunConfig, n: int, p: int) -> Recorder | None:
    """The trajectory recorder of a problem that asks for one (``trajectory_points > 0``),
    over the run's ``epochs · ⌈n / batch_size⌉`` steps; None for the others."""
    if problem.trajectory_points <= 0:
        return None
    total = config.epochs * math.ceil(n / config.batch_size)
    return Recorder(p, total, problem.trajectory_points)


def _train_epoch(
    members: Members,
    orders: Sequence[torch.Generator],
    config: RunConfig,
    shape: tuple[int, int],
    steps: int,
    recorder: Recorder | None,
) -> tuple[Tensor, int]:
    """One epoch of training steps over the ``n`` training rows (``shape`` is (n, K)), in the
    orders the generators draw; the steps are counted on from ``steps``, and the recorder takes
    those it is due. Returns the epoch-mean training losses (P, K), float64 on the device, and
    the step count after the epoch."""
    (n, k), device, size = shape, config.device, config.batch_size
    perms = [torch.randperm(n, generator=g).to(device) for g in orders]
    loss_sum = torch.zeros(members.n_members, k, dtype=torch.float64, device=device)
    batches = 0
    for i in range(0, n, size):
        before = members.positions() if recorder and recorder.due(steps) else None
        losses = members.step([perm[i : i + size] for perm in perms])
        loss_sum += losses.double()
        if before is not None:
            recorder.add(steps, before, losses)  # type: ignore[union-attr]
        batches += 1
        steps += 1
    return loss_sum / batches, steps


def _results(
    members: Members,
    data: dict[str, Split],
    config: RunConfig,
    log: _MemberLog,
    recorder: Recorder | None,
    cost: tuple[float, float, int],
) -> list[RunResult | TrainingDiverged]:
    """Evaluate every member on val and test (at the parameters it holds now) and assemble its
    :class:`RunResult`, or the :class:`TrainingDiverged` it hit. ``cost``: each member's
    (train_seconds, step_ms, steps)."""
    train_seconds, step_ms, steps = cost
    evaluated = {s: members.evaluate(data[s]) for s in ("val", "test")}
    results: list[RunResult | TrainingDiverged] = []
    for m in range(members.n_members):
        if m in log.diverged:
            results.append(log.diverged[m])
            continue
        results.append(
            RunResult(
                metrics={s: evaluated[s][m][0] for s in evaluated},
                losses={s: evaluated[s][m][1] for s in evaluated},
                train_seconds=train_seconds,
                step_ms=step_ms,
                steps=steps,
                mean_weights=members.mean_weights(m),
                epoch_losses=log.epoch_losses[m],
                checkpoint=config.checkpoint,
                epoch=log.best[m][1] if log.best[m][1] else config.epochs,
                trajectory=recorder.member(m) if recorder is not None else None,
            )
        )
    return results


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
