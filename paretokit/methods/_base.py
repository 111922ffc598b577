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
import math
from abc import ABCMeta, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
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


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def coerce_option(method: str, key: str, value: object, default: object) -> object:
    """``value`` checked against the type of the option's declared ``default``: bool options
    take true/false only, int options integers only (not 1.5, not true), float options finite
    numbers (not NaN, not ±inf, so not 1e400 either), str options strings, sequence options
    sequences of finite numbers (as a tuple of floats). Anything else is a
    :class:`MethodError` naming the method and the option."""

    def bad(expected: str) -> MethodError:
        return MethodError(f"{method}: option {key} must be {expected}, got {value!r}")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("an integer")
        return value
    if isinstance(default, float):
        if not _is_number(value) or not math.isfinite(value):  # type: ignore[arg-type]
            raise bad("a finite number")
        return float(value)  # type: ignore[arg-type]
    if isinstance(default, str):
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if isinstance(default, tuple | list):
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise bad("a list of finite numbers")
        if not all(_is_number(v) and math.isfinite(v) for v in value):
            raise bad("a list of finite numbers")
        return tuple(float(v) for v in value)
    return value


class _MethodMeta(ABCMeta):
    """Checks the options of every construction, ``NashMTL(3, max_norm=…)`` as well as
    :func:`~paretokit.methods.get_method`: unknown names and values of the wrong type are a
    :class:`MethodError` before the method's own ``__init__`` runs."""

    def __call__(cls, n_tasks: int, *args: Any, seed: int = 0, **options: Any) -> Any:
        if args:
            raise MethodError(f"{cls.label()}: options are keyword arguments, got {args!r}")
        return super().__call__(n_tasks, seed=seed, **cls.check_options(options))


class Method(metaclass=_MethodMeta):
    """Base of every method: name, kind, citation, options, state, step counter and seeding.

    Options are the keyword arguments of the subclass's ``__init__`` after ``n_tasks``;
    their defaults are the paper's and declare their types (:func:`coerce_option`). Unknown
    options and values of the wrong type raise :class:`MethodError` at construction.
    ``step_count`` counts the steps since :meth:`reset` (one per ``loss``/``weights`` call of
    a loss weighting, one per ``combine`` of an aggregation, reused steps included).
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
        if not isinstance(n_tasks, int) or isinstance(n_tasks, bool) or n_tasks < 2:
            raise MethodError(f"{self.label()}: n_tasks must be an integer ≥ 2, got {n_tasks!r}")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise MethodError(f"{self.label()}: seed must be an integer, got {seed!r}")
        self.n_tasks = n_tasks
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)
        self.step_count = 0

    @classmethod
    def label(cls) -> str:
        return getattr(cls, "name", cls.__name__)

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

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` with each value checked against its declared default's type."""
        valid = cls.option_defaults()
        unknown = sorted(set(options) - set(valid))
        if unknown:
            accepted = ", ".join(valid) if valid else "none"
            raise MethodError(
                f"option(s) {', '.join(unknown)} do not apply to method {cls.label()!r}; "
                f"its options: {accepted}"
            )
        return {k: coerce_option(cls.label(), k, v, valid[k]) for k, v in options.items()}

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

    def _check_losses(self, losses: Tensor, minimum: str | None = None, why: str = "") -> None:
        """Task losses of shape (K,); with ``minimum`` ("positive" or "nonnegative") also
        finite and > 0 or ≥ 0 (``why`` says what needs it, for the message)."""
        if losses.shape != (self.n_tasks,):
            raise MethodError(
                f"{self.name}: expected {self.n_tasks} task losses, got shape {tuple(losses.shape)}"
            )
        if minimum is None:
            return
        bad = not torch.isfinite(losses).all() or (
            (losses <= 0).any() if minimum == "positive" else (losses < 0).any()
        )
        if bad:
            need = "finite positive" if minimum == "positive" else "finite non-negative"
            raise MethodError(f"{self.name}: needs {need} task losses{why}, got {losses.tolist()}")


class LossWeighting(Method):
    """A method that weights the task losses: ``loss = Σ_k w_k L_k`` (by default).

    Subclasses implement :meth:`_weights` (and :meth:`_loss` when the scalar is not
    ``Σ_k w_k L_k``); :meth:`weights` checks the losses' shape and counts the step.
    """

    kind: ClassVar[str] = "weighting"

    # The weights used by the latest :meth:`loss` call (for reporting; None before any step).
    last_weights: Tensor | None = None

    @abstractmethod
    def _weights(self, losses: Tensor) -> Tensor:
        """Task weights (K,) for this step, from the current (checked, detached) losses."""

    def weights(self, losses: Tensor) -> Tensor:
        """Task weights (K,) for this step, from the current losses (K,); one step."""
        self._check_losses(losses)
        w = self._weights(losses.detach())
        self.step_count += 1
        return w

    def loss(self, losses: Tensor) -> Tensor:
        """The scalar the engine back-propagates this step (one call per step: stateful or
        random weightings draw once here). Records the weights used in ``last_weights``."""
        w = self.weights(losses)
        self.last_weights = w.detach()
        return self._loss(losses, w)

    def _loss(self, losses: Tensor, weights: Tensor) -> Tensor:
        return (weights.to(losses) * losses).sum()


def split_like(flat: Tensor, blocks: Sequence[Tensor]) -> list[Tensor]:
    """A flat (D,) vector cut into views shaped like ``blocks[b][0]`` (the inverse of
    flattening and concatenating the blocks' rows)."""
    sizes = [b[0].numel() for b in blocks]
    return [part.view_as(b[0]) for part, b in zip(flat.split(sizes), blocks, strict=True)]


class GradientAggregation(Method):
    """A method that turns per-task gradients G (K, D) into one update direction (D,).

    Subclasses implement either :meth:`gramian_weights` (direction ``wᵀG``, Gramian-only
    methods; :class:`GramianWeighting` does the bookkeeping) or :meth:`_combine` (methods that
    need ``G`` itself). :meth:`combine` checks the input and counts the step.
    """

    kind: ClassVar[str] = "aggregation"
    # True when the direction is wᵀG for the weights returned by ``weights``:
    # then ``aggregate(G) == weights(G) @ G`` (tested for every such method).
    has_weights: ClassVar[bool] = True
    # True when the method needs the task losses too (GradNorm, DB-MTL).
    needs_losses: ClassVar[bool] = False
    # The engine clips the shared parameters' gradient to this norm after writing the step's
    # update into it, every step (0: no clip; Nash-MTL's max_norm, as its official code does).
    max_shared_grad_norm: float = 0.0

    def gramian_weights(self, gramian: Tensor, losses: Tensor | None = None) -> Tensor:
        """Weights (K,) from the Gramian G Gᵀ (K, K). Override in Gramian-only methods."""
        raise MethodError(f"{self.name} does not work from the Gramian alone")

    def combine(self, G: Tensor, losses: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """One step: the direction (D,) and, for wᵀG methods, the weights (K,) else None."""
        self._check_input(G, losses)
        out = self._combine(G, losses)
        self.step_count += 1
        return out

    def _combine(self, G: Tensor, losses: Tensor | None) -> tuple[Tensor, Tensor | None]:
        w = self.gramian_weights(G @ G.T, losses)
        return w @ G, w

    def combine_blocks(
        self, blocks: Sequence[Tensor], losses: Tensor | None = None
    ) -> tuple[list[Tensor], Tensor | None]:
        """:meth:`combine` on G given by column blocks, ``blocks[b]`` (K, *shape_b) (the
        engine's per-parameter gradients; G is their flattened concatenation): returns the
        direction as blocks of the same shapes, and the weights or None. Here: concatenate,
        combine, split; :class:`GramianWeighting` sums the blocks' Gramians instead."""
        k = blocks[0].shape[0]
        G = torch.cat([b.reshape(k, -1) for b in blocks], dim=1)
        direction, weights = self.combine(G, losses)
        return split_like(direction, blocks), weights

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
        self._check_losses_given(losses)

    def _check_losses_given(self, losses: Tensor | None) -> None:
        if self.needs_losses and losses is None:
            raise MethodError(f"{self.name} needs the task losses: call with losses=")


class GramianWeighting(GradientAggregation):
    """An aggregation whose weights depend on G only through its Gramian A = GGᵀ (K, K), and
    whose direction is ``wᵀG`` (TorchJD's "weighting from the Gramian" split).

    Subclasses implement :meth:`_array_weights` on the Gramian as a symmetrized float64 numpy
    array (:func:`~paretokit.methods._solvers.gramian_array`: NaN/inf is a MethodError); this
    class converts back to a tensor of the Gramian's dtype and device. Helpers shared by the
    solver-based methods: :meth:`live_rows` (tasks with a nonzero gradient) and
    :meth:`scale_free` (the correlation matrix of the live rows).

    Every such method takes the option ``feature_level`` (False unless its paper says
    otherwise): True gives it the gradients with respect to the shared representation
    z = trunk(x) instead of the shared parameters (the engine's ``gradient_target``). That is
    MGDA-UB's upper bound (Sener & Koltun 2018, §3.3) and LibMTL's ``rep_grad``: G has rows
    ∇_z L_k (K × batch·features), the weights come from their Gramian, and the trunk receives
    ``Σ_k w_k ∇_z L_k`` in one backward pass. Since ∇_θ L_k = J_θ(z)ᵀ ∇_z L_k, the feature
    Gramian approximates the parameter Gramian J ∇_z ∇_zᵀ Jᵀ with J's metric dropped: exact
    when JJᵀ is a multiple of the identity, otherwise a different (cheaper) weighting.
    """

    def __init__(self, n_tasks: int, *, seed: int = 0, feature_level: bool = False) -> None:
        super().__init__(n_tasks, seed=seed)
        self.feature_level = feature_level
        self.gradient_target = "representation" if feature_level else "parameters"
        # the last active set of the method's solver (K booleans): between training steps
        # it rarely changes, and a solver started from it needs one factorization, not K
        self.warm_support: np.ndarray | None = None

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.warm_support = None

    def hull_weights(self, C: np.ndarray) -> tuple[np.ndarray, float]:
        """:func:`~paretokit.methods._solvers.min_norm_weights` of ``C``, warm-started from
        and recording :attr:`warm_support`."""
        from paretokit.methods._solvers import min_norm_weights

        w, m = min_norm_weights(C, name=self.name, support=self.warm_support)
        self.warm_support = w > 0
        return w, m

    def combine_blocks(
        self, blocks: Sequence[Tensor], losses: Tensor | None = None
    ) -> tuple[list[Tensor], Tensor | None]:
        """:meth:`combine` from column blocks without forming G (K, D): the Gramian is
        ``Σ_b B_b B_bᵀ`` (each block while it is in cache, no (K, D) copy) and the direction
        of block b is ``wᵀB_b`` — the same numbers as ``combine`` up to float rounding."""
        if type(self)._combine is not GradientAggregation._combine:
            return super().combine_blocks(blocks, losses)  # a subclass that needs G itself
        k = blocks[0].shape[0]
        self._check_k(k)
        self._check_losses_given(losses)
        flat = [b.reshape(k, -1) for b in blocks]
        gramian = flat[0] @ flat[0].T
        for f in flat[1:]:
            gramian.addmm_(f, f.T)
        w = self.gramian_weights(gramian, losses)
        self.step_count += 1
        return [torch.tensordot(w.to(b.dtype), b, dims=1) for b in blocks], w

    def gramian_weights(self, gramian: Tensor, losses: Tensor | None = None) -> Tensor:
        from paretokit.methods._solvers import gramian_array

        w = self._array_weights(gramian_array(gramian), losses)
        return torch.as_tensor(w, dtype=gramian.dtype, device=gramian.device)

    @abstractmethod
    def _array_weights(self, A: np.ndarray, losses: Tensor | None) -> np.ndarray:
        """Weights (K,) from the float64 Gramian A (K, K)."""

    @staticmethod
    def live_rows(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, live): the task-gradient norms n_k = √A_kk and the indices of the rows that are
        not zero (n_k > 1e-150 · max(1, max n): a zero row has no direction to weigh)."""
        n = np.sqrt(np.maximum(np.diag(A), 0.0))
        live = np.flatnonzero(n > 1e-150 * max(1.0, float(n.max()) if n.size else 0.0))
        return n, live

    @staticmethod
    def scale_free(A: np.ndarray, n: np.ndarray, live: np.ndarray) -> np.ndarray:
        """``C = D⁻¹ A D⁻¹`` on the live rows (D = diag(n)): the Gramian of the unit gradients,
        in which the solvers' tolerances do not depend on the gradients' scales."""
        nl = n[live]
        return A[np.ix_(live, live)] / np.outer(nl, nl)
