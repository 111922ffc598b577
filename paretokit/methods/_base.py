"""What a multi-task optimization method is, as the training engine and users see it.

Two kinds:

* :class:`LossWeighting` — per-step task weights from the task losses alone
  (``weights(losses) -> (K,)``); the engine back-propagates ``loss(losses)``, by default
  ``Σ_k w_k L_k`` with the weights detached.
* :class:`GradientAggregation` — an update direction from the matrix of per-task gradients
  ``G`` (K, D) of the shared parameters (``aggregate(G) -> (D,)``). Most aggregations depend
  on ``G`` only through its Gramian ``A = G Gᵀ`` (K, K) and return ``d = wᵀ G``: they
  implement :meth:`GradientAggregation.gramian_weights` and get ``weights``/``aggregate``
  from the base class.

Methods never see a model or a problem. A call to ``weights``/``aggregate``/``combine`` is
one training step: stateful methods (Nash-MTL-N, RLW, DWA, FAMO, …) advance their state on
it, so the engine calls :meth:`GradientAggregation.combine` exactly once per step.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch
from torch import Tensor

from paretokit.errors import MethodError


def check_task_index(method: str, main_task: object, n_tasks: int) -> int:
    """``main_task`` as an index into the K tasks, or a :class:`MethodError` naming the method."""
    if (
        isinstance(main_task, bool)
        or not isinstance(main_task, int)
        or not 0 <= main_task < n_tasks
    ):
        raise MethodError(
            f"{method}: main_task must be a task index in 0..{n_tasks - 1}, got {main_task!r}"
        )
    return main_task


class Method(ABC):
    """Base of every method: name, kind, citation, options, state and seeding.

    Options are the keyword arguments of the subclass's ``__init__`` after ``n_tasks``;
    their defaults are the paper's. Unknown options raise :class:`MethodError` (done by
    :func:`paretokit.methods.get_method`, which checks against the signature).
    """

    name: ClassVar[str]
    kind: ClassVar[str]  # "weighting" | "aggregation"
    summary: ClassVar[str]
    citation: ClassVar[str]
    # Where the engine takes per-task gradients for aggregations: the shared parameters
    # ("parameters"), or the shared representation z = trunk(x) ("representation", the
    # feature-level gradients of MGDA-UB / GradDrop). Instances may override it.
    gradient_target: str = "parameters"
    # Methods may hold learnable tensors (:meth:`parameters`): the engine puts them in the
    # model's optimizer and zeroes their ``.grad`` before each step's forward pass, so a
    # method may set that ``.grad`` itself during the step (GradNorm).
    # True when the method needs the task losses re-evaluated on the same batch after the
    # optimizer step (FAMO); the engine then calls :meth:`after_step`.
    needs_post_step_losses: ClassVar[bool] = False

    def __init__(self, n_tasks: int, *, seed: int = 0) -> None:
        if not isinstance(n_tasks, int) or n_tasks < 2:
            raise MethodError(f"{self.name}: n_tasks must be an integer ≥ 2, got {n_tasks!r}")
        self.n_tasks = n_tasks
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)
        self.step_count = 0

    def reset(self, seed: int | None = None) -> None:
        """Forget all state (new run); reseed the method's random generator."""
        if seed is not None:
            self.seed = seed
        self.generator = torch.Generator().manual_seed(self.seed)
        self.step_count = 0

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        """The method's options and their defaults, from ``__init__``'s keyword arguments."""
        params = inspect.signature(cls.__init__).parameters
        return {
            k: p.default
            for k, p in params.items()
            if k not in ("self", "n_tasks", "seed") and p.kind is not p.VAR_KEYWORD
        }

    def options(self) -> dict[str, Any]:
        """The options this instance runs with (for recording in results)."""
        return {k: getattr(self, k, v) for k, v in self.option_defaults().items()}

    # --- engine hooks (no-ops unless a method needs them) -------------------------------
    def parameters(self) -> list[Tensor]:
        """Learnable tensors the engine adds to the model optimizer (e.g. UW's log-variances)."""
        return []

    def epoch_end(self, mean_losses: Tensor) -> None:
        """Called after each epoch with the epoch's mean training loss per task (DWA)."""

    def after_step(self, new_losses: Tensor | None) -> None:
        """Called after every optimizer step. ``new_losses`` (K,) are the task losses on the
        same batch after the step when ``needs_post_step_losses`` (FAMO), else None."""

    def _check_k(self, k: int) -> None:
        if k != self.n_tasks:
            raise MethodError(f"{self.name}: built for {self.n_tasks} tasks, got {k}")


class LossWeighting(Method):
    """A method that weights the task losses: ``loss = Σ_k w_k L_k`` (by default)."""

    kind: ClassVar[str] = "weighting"

    @abstractmethod
    def weights(self, losses: Tensor) -> Tensor:
        """Task weights (K,) for this step, from the current losses (K,)."""

    # The weights used by the latest :meth:`loss` call (for reporting; None before any step).
    last_weights: Tensor | None = None

    def loss(self, losses: Tensor) -> Tensor:
        """The scalar the engine back-propagates this step (one call per step: stateful or
        random weightings draw once here). Records the weights used in ``last_weights``."""
        self._check_k(losses.shape[0])
        w = self.weights(losses.detach())
        self.last_weights = w.detach()
        return (w.to(losses) * losses).sum()


class GradientAggregation(Method):
    """A method that turns per-task gradients G (K, D) into one update direction (D,).

    Subclasses implement either :meth:`gramian_weights` (direction ``wᵀG``, Gramian-only
    methods) or override :meth:`combine` (methods that need ``G`` itself).
    """

    kind: ClassVar[str] = "aggregation"
    # True when the direction is wᵀG for the weights returned by ``weights``.
    has_weights: ClassVar[bool] = True
    # True when the method needs the task losses too (GradNorm, DB-MTL).
    needs_losses: ClassVar[bool] = False
    # On steps answered by :meth:`reuse_weights`, the engine clips the shared parameters'
    # gradient to this norm after back-propagating Σ w_k L_k (0: no clip; Nash-MTL's max_norm).
    max_shared_grad_norm: float = 0.0

    def gramian_weights(self, gramian: Tensor, losses: Tensor | None = None) -> Tensor:
        """Weights (K,) from the Gramian G Gᵀ (K, K). Override in Gramian-only methods."""
        raise MethodError(f"{self.name} does not work from the Gramian alone")

    def combine(self, G: Tensor, losses: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """One step: the direction (D,) and, for wᵀG methods, the weights (K,) else None."""
        self._check_input(G, losses)
        w = self.gramian_weights(G @ G.T, losses)
        return w @ G, w

    def reuse_weights(self) -> Tensor | None:
        """Weights to apply this step *without* per-task gradients (Nash-MTL-N between its
        updates), or None when this step needs G. The engine asks once per step, before
        computing G; a non-None answer counts as the step, and the engine then
        back-propagates ``Σ_k w_k L_k`` — the same update as ``combine`` with these weights."""
        return None

    def aggregate(self, G: Tensor, losses: Tensor | None = None) -> Tensor:
        """The update direction (D,) for per-task gradients G (K, D)."""
        return self.combine(G, losses)[0]

    def weights(self, G: Tensor, losses: Tensor | None = None) -> Tensor:
        """The weights w (K,) with direction wᵀG; an error for methods without such weights."""
        if not self.has_weights:
            raise MethodError(f"{self.name}'s direction is not a fixed combination wᵀG")
        w = self.combine(G, losses)[1]
        assert w is not None
        return w

    def _check_input(self, G: Tensor, losses: Tensor | None) -> None:
        if G.ndim != 2:
            raise MethodError(f"{self.name}: G must be (K, D), got shape {tuple(G.shape)}")
        self._check_k(G.shape[0])
        # One reduction instead of an elementwise pass: NaN and ±inf propagate through a sum
        # (+inf with −inf gives NaN), so a row sum is finite iff the row is (barring overflow
        # of finite entries near the dtype's maximum, which is no usable gradient either).
        if not torch.isfinite(G.sum(dim=1)).all():
            raise MethodError(f"{self.name}: task gradients contain NaN or inf")
        if self.needs_losses and losses is None:
            raise MethodError(f"{self.name} needs the task losses: call with losses=")
