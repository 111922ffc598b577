"""``toy``: the two-objective problem of CAGrad's and Nash-MTL's Fig. 1, trained by the engine.

The losses and the exact Pareto front are in :mod:`paretokit.analysis.toy` (NumPy, no torch);
this module computes the same losses in torch for training. The "model" is the point
x ∈ R² itself (the shared trunk's one parameter); head k turns it into the loss f_k
(:mod:`paretokit.analysis.toy`'s formulas, f₁ including the scale s), and the task's loss and
metric are that value (kind ``value``). There is no data: the training split is 1,000 empty
rows, so with batch size 1 an epoch is 1,000 Adam steps and the default 35 epochs are
Nash-MTL's 35,000 iterations at lr 10⁻³ (steps per epoch = ⌈1000 / batch size⌉); the val and
test splits are one empty row each, so both hold the end point's losses (the same numbers).

Training seed s ∈ 0…4 starts at Nash-MTL's s-th starting point
(:data:`~paretokit.analysis.toy.STARTS`); other seeds are refused. Runs record their path
(``trajectory_points``), so ``plot`` draws Fig. 1 and ``report`` says which runs reach the
front. The scale is an option: ``--problem "toy(scale=1)"`` (the problem's name in the
results file carries it, so the file alone knows which front applies).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from paretokit.analysis import toy as toy_math
from paretokit.errors import ProblemError
from paretokit.problems._base import MultiTaskModel, Problem, Split, TaskSpec, TrainDefaults

STEPS_PER_EPOCH = 1000  # empty training rows: batch size 1 → 1,000 steps per epoch


def value_and_gradient(x1: float, x2: float, task: int, scale: float) -> tuple[float, float, float]:
    """f_task (0: f₁ with its scale, 1: f₂) at (x₁, x₂) and its gradient, in double precision.

    The gradient is what torch's autograd gives for the formulas of
    :mod:`paretokit.analysis.toy` written with ``clamp``/``abs``/``log``, including its
    conventions at the kinks: a clamp passes the gradient where its input equals the bound
    (so at x₂ = 0 both blends have slope ±½ and a run started on the x₁ axis leaves it, as in
    the reference), ``abs`` has slope 0 at 0.
    """
    th = math.tanh(x2)
    dth = 1.0 - th * th
    if task == 0:  # ℓ₁'s argument −(x₁ + 7)/2 − tanh(−x₂), q₁ centred at x₁ = 7
        arg, darg2, centre = -0.5 * x1 - 3.5 + th, dth, 7.0
    else:  # ℓ₂'s argument −(x₁ − 3)/2 + tanh(−x₂) + 2, q₂ centred at x₁ = −7
        arg, darg2, centre = -0.5 * x1 + 3.5 - th, -dth, -7.0
    size = abs(arg)
    log_term = math.log(max(size, toy_math.LOWER)) + 6.0
    dlog = (math.copysign(1.0, arg) if arg != 0.0 else 0.0) / max(size, toy_math.LOWER)
    dlog = dlog if size >= toy_math.LOWER else 0.0
    quad = ((x1 - centre) ** 2 + 0.1 * (x2 + 8.0) ** 2) / 10.0 - 20.0
    half = math.tanh(0.5 * x2)
    dhalf = 0.5 * (1.0 - half * half)
    up, dup = (half, dhalf) if half >= 0.0 else (0.0, 0.0)  # max(tanh(x₂/2), 0)
    down, ddown = (-half, -dhalf) if half <= 0.0 else (0.0, 0.0)  # max(tanh(−x₂/2), 0)
    value = up * log_term + down * quad
    g1 = up * dlog * -0.5 + down * (x1 - centre) / 5.0
    g2 = dup * log_term + up * dlog * darg2 + ddown * quad + down * 0.02 * (x2 + 8.0)
    k = scale if task == 0 else 1.0
    return value * k, g1 * k, g2 * k


def _evaluate(z: Tensor, task: int, scale: float) -> tuple[Tensor, Tensor]:
    """f_task of every row of z (..., 2) and its gradient (..., 2), in plain Python floats."""
    rows = torch.tensor(
        [value_and_gradient(a, b, task, scale) for a, b in z.detach().reshape(-1, 2).tolist()],
        dtype=z.dtype,
        device=z.device,
    )
    return rows[:, 0].reshape(z.shape[:-1]), rows[:, 1:].reshape(z.shape)


class _ToyLossFunction(torch.autograd.Function):
    """f_task of every row of z (..., 2), its gradient computed alongside in plain Python
    floats: a toy step is two numbers, and ~40 tiny torch operations per loss (forward and
    backward) cost far more than the arithmetic. This ``forward(ctx, …)`` form is the cheap
    one to call (torch binds the arguments of the other form by ``inspect`` at every call);
    under ``vmap`` (populations) :class:`_BatchedToyLoss` takes over."""

    @staticmethod
    def forward(ctx: Any, z: Tensor, task: int, scale: float) -> Tensor:  # type: ignore[override]
        values, grads = _evaluate(z, task, scale)
        ctx.save_for_backward(grads)
        return values

    @staticmethod
    def backward(ctx: Any, grad_values: Tensor) -> tuple[Tensor, None, None]:  # type: ignore[override]
        (grads,) = ctx.saved_tensors
        return grad_values.unsqueeze(-1) * grads, None, None


class _BatchedToyLoss(torch.autograd.Function):
    """The same, with a vmap rule: a population's P members in one call of the Python loop
    (the members' points are the rows of the batched tensor)."""

    @staticmethod
    def forward(z: Tensor, task: int, scale: float) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        return _evaluate(z, task, scale)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, Tensor]) -> None:
        ctx.mark_non_differentiable(output[1])
        ctx.save_for_backward(output[1])

    @staticmethod
    def backward(ctx: Any, grad_values: Tensor, _unused: Tensor) -> tuple[Tensor, None, None]:  # type: ignore[override]
        (grads,) = ctx.saved_tensors
        return grad_values.unsqueeze(-1) * grads, None, None

    @staticmethod
    def vmap(info: Any, in_dims: tuple[Any, ...], z: Tensor, task: int, scale: float) -> Any:
        if in_dims[0] is None:
            return _BatchedToyLoss.apply(z, task, scale), (None, None)
        return _BatchedToyLoss.apply(z.movedim(in_dims[0], 0), task, scale), (0, 0)


def _transformed() -> bool:
    """Whether a torch.func transform (vmap) is active around this call."""
    active = getattr(torch._C, "_are_functorch_transforms_active", None)
    return bool(active()) if active is not None else True


def toy_loss(z: Tensor, task: int, scale: float) -> Tensor:
    """f_task (0: f₁ with its scale, 1: f₂) at every row of z (..., 2) (differentiable)."""
    if _transformed():
        return _BatchedToyLoss.apply(z, task, scale)[0]
    return _ToyLossFunction.apply(z, task, scale)


class ToyPoint(nn.Module):
    """The trunk: the point x ∈ R² (its one parameter), repeated for each row of the batch."""

    def __init__(self, start: Sequence[float]) -> None:
        super().__init__()
        self.x = nn.Parameter(torch.tensor([float(v) for v in start]))

    def forward(self, rows: Tensor) -> Tensor:
        return self.x.expand(rows.shape[0], 2)


class ToyLoss(nn.Module):
    """Head k: the loss f_k at the representation (the point), one value per row (B, 1)."""

    def __init__(self, task: int, scale: float) -> None:
        super().__init__()
        self.task, self.scale = task, scale

    def forward(self, z: Tensor) -> Tensor:
        return toy_loss(z, self.task, self.scale).unsqueeze(-1)


class Toy(Problem):
    """CAGrad's two-objective toy (Liu et al. 2021) with Nash-MTL's scale and starts
    (Navon et al. 2022, Fig. 1); see the module docstring. Option: ``scale`` s > 0 of f₁."""

    name = "toy"
    summary = (
        "CAGrad / Nash-MTL Fig. 1: x ∈ R², two analytic losses (f1 scaled by 0.1), seeds 0-4 "
        "select the five starts; exact Pareto front; runs record their path"
    )
    source = "analytic (Liu et al., NeurIPS 2021; Navon et al., ICML 2022, experiments/toy)"
    # 35 × 1000 = 35,000 steps; the five starts, all of them unless fewer are asked for
    defaults = TrainDefaults(epochs=35, batch_size=1, lr=1e-3, seeds=len(toy_math.STARTS))
    trajectory_points = 200
    models = ("point",)  # no network: the trained parameters are the point x itself

    def __init__(
        self, tasks: int | str | Sequence[str] | None = None, scale: float = toy_math.DEFAULT_SCALE
    ) -> None:
        toy_math.front(scale, 2)  # validates the scale (one clear line)
        self.scale = float(scale)
        self.name = toy_math.problem_name(self.scale)  # type: ignore[misc]
        super().__init__(tasks)

    def available_tasks(self) -> list[TaskSpec]:
        return [
            TaskSpec("f1", "value", "value", False, "", "toy loss f1 (times the scale)"),
            TaskSpec("f2", "value", "value", False, "", "toy loss f2"),
        ]

    def _load_splits(self) -> dict[str, Split]:
        sizes = {"train": STEPS_PER_EPOCH, "val": 1, "test": 1}
        return {k: Split(torch.zeros(n, 1), torch.zeros(n, 2)) for k, n in sizes.items()}

    def build_trunk(self) -> tuple[nn.Module, int]:
        return ToyPoint(toy_math.STARTS[0]), 2

    def build_head(self, task: TaskSpec, width: int) -> nn.Module:
        return ToyLoss(0 if task.name == "f1" else 1, self.scale)

    def build_model_for_seed(self, seed: int) -> MultiTaskModel:
        self.check_seeds([seed])
        model = self.build_model()
        with torch.no_grad():
            model.trunk.x.copy_(torch.tensor(toy_math.STARTS[seed]))
        return model

    def check_seeds(self, seeds: Sequence[int]) -> None:
        bad = [s for s in seeds if not 0 <= s < len(toy_math.STARTS)]
        if bad:
            starts = ", ".join(f"{s}: {p}" for s, p in enumerate(toy_math.STARTS))
            raise ProblemError(
                f"toy: seed {bad[0]} has no starting point; seeds 0-4 select Nash-MTL's five "
                f"starts ({starts}), so use at most 5 seeds starting at 0"
            )

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "scale": self.scale}
