"""The training loop: one run of one problem with one method (or fixed sweep weights).

Each step: forward → task losses L (K,) → the method turns them into parameter gradients →
Adam step. A :class:`~paretokit.methods.LossWeighting` back-propagates its scalar loss; a
:class:`~paretokit.methods.GradientAggregation` receives the per-task gradient matrix G (one
batched backward pass) and returns the direction d written into the shared parameters'
gradients, while head k receives ``w_k ∇L_k`` (``∇L_k`` for methods without weights).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from paretokit.errors import ParetokitError, TrainingDiverged  # re-exported: train.TrainingDiverged
from paretokit.methods import GradientAggregation, LossWeighting, Method
from paretokit.problems import MultiTaskModel, Problem, Split
from paretokit.train.epochs import EpochCallback, Members, RunConfig, RunResult, run_epochs
from paretokit.train.gradients import TaskJacobian
from paretokit.train.seeding import seed_everything
from paretokit.train.trajectory import flat_positions

EVAL_BATCH = 8192  # the default of Problem.eval_batch_size


def train_run(
    problem: Problem,
    method: Method,
    config: RunConfig,
    on_epoch: EpochCallback | None = None,
    splits: dict[str, Split] | None = None,
) -> RunResult:
    """Train a fresh model of ``problem`` with ``method`` and evaluate it on val and test at
    ``config.checkpoint`` (epochs driven by :func:`~paretokit.train.epochs.run_epochs`).

    ``splits`` may be passed already on ``config.device`` to avoid moving data per run.
    Raises :class:`TrainingDiverged` when a task loss becomes non-finite.
    """
    device = config.device
    data_order = seed_everything(config.seed, device)
    model = problem.build_model_for_seed(config.seed).to(device)
    method.reset(config.seed)
    data = splits if splits is not None else to_device(problem.splits(), device)
    run = SingleRun(problem, model, method, config.lr, data["train"])
    (result,) = run_epochs(problem, run, config, data, [data_order], on_epoch)
    if isinstance(result, TrainingDiverged):
        raise result
    return result


class SingleRun(Members):
    """One model trained with one method: the driver's P = 1 case."""

    def __init__(
        self, problem: Problem, model: MultiTaskModel, method: Method, lr: float, train: Split
    ) -> None:
        self.problem, self.model, self.method, self.train_split = problem, model, method, train
        self.trainer = Trainer(problem, model, method, lr)
        self.weight_sum = torch.zeros(problem.n_tasks, dtype=torch.float64, device=train.x.device)
        self.weight_steps = 0
        self.kept: dict[str, Tensor] | None = None

    def step(self, batches: Sequence[Tensor]) -> Tensor:
        (idx,) = batches
        losses, weights = self.trainer.step(self.train_split.x[idx], self.train_split.y[idx])
        if weights is not None:
            w = weights.detach().double()
            self.weight_sum += w / w.sum()
            self.weight_steps += 1
        return losses.unsqueeze(0)

    def epoch_end(self, mean_losses: Tensor) -> None:
        self.method.epoch_end(mean_losses[0])

    def evaluate(self, split: Split) -> list[tuple[list[float], list[float]]]:
        return [evaluate(self.problem, self.model, split)]

    def keep(self, members: Sequence[int]) -> None:
        self.kept = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore(self) -> None:
        if self.kept is not None:
            self.model.load_state_dict(self.kept)

    def mean_weights(self, m: int) -> list[float] | None:
        if not self.weight_steps:
            return None
        return (self.weight_sum / self.weight_steps).tolist()

    def positions(self) -> Tensor:
        return flat_positions([p for p in self.model.parameters() if p.requires_grad], 1)

    def train(self, mode: bool = True) -> None:
        self.model.train(mode)


class Trainer:
    """One training step of ``model`` with ``method``: zero the gradients, compute them from the
    task losses (see :func:`make_step`), take an Adam step over the model's and the method's
    parameters, and call the method's ``after_step`` hook. The benchmark times exactly this."""

    def __init__(self, problem: Problem, model: MultiTaskModel, method: Method, lr: float) -> None:
        self.problem, self.model, self.method = problem, model, method
        self.params = list(model.parameters()) + list(method.parameters())
        self.optimizer = make_adam(self.params, lr)
        self._gradients = make_step(problem, model, method)

    def step(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
        """One step on the batch (x, y); returns the detached losses and the weights or None."""
        for p in self.params:
            p.grad = None
        losses, weights = self._gradients(x, y)
        self.optimizer.step()
        if self.method.needs_post_step_losses:
            with torch.no_grad():
                self.method.after_step(self.problem.losses(self.model(x), y))
        else:
            self.method.after_step(None)
        return losses.detach(), weights


def make_adam(params: list[Tensor], lr: float) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba 2015) with torch's fused kernel where it supports the parameters'
    devices (CPU and CUDA since torch 2.4: one kernel for all tensors, ~15% faster steps on
    the qm9 model on CPU), else the default multi-tensor implementation."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except RuntimeError:
        return torch.optim.Adam(params, lr=lr)


# Long by its nested step functions: closures over the model's parameter lists, built once
# per run, so the hot path does no lookups; each nested function is under 25 lines.
def make_step(
    problem: Problem, model: MultiTaskModel, method: Method
) -> Callable[[Tensor, Tensor], tuple[Tensor, Tensor | None]]:
    """The function that computes one step's gradients: returns (losses, weights or None)."""
    if isinstance(method, LossWeighting):

        def weighting_step(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
            losses = problem.losses(model(x), y)
            method.loss(losses).backward()
            return losses, method.last_weights

        return weighting_step
    if not isinstance(method, GradientAggregation):
        raise ParetokitError(f"{method.name}: not a loss weighting nor a gradient aggregation")

    jacobian = TaskJacobian()
    shared = model.shared_parameters()
    heads = [model.head_parameters(j) for j in range(problem.n_tasks)]
    head_flat = [p for ps in heads for p in ps]
    on_features = method.gradient_target == "representation"

    def clip_shared() -> None:
        # Nash-MTL's official code clips the shared parameters' gradient after writing the
        # update into it (reused-weight steps included); the method's direction is unclipped.
        if method.max_shared_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(shared, method.max_shared_grad_norm)

    # out_k = heads[k](z) (the base class's heads_forward): head k gets its own detached copy
    # of z, so one ordinary backward of Σ_k L_k gives ∇_z L_k per copy and ∇L_k per head,
    # without a vmapped pass through all K heads for each of the K tasks (K² head work).
    own_heads = type(model).heads_forward is MultiTaskModel.heads_forward
    k_tasks = problem.n_tasks

    def task_losses(z: Tensor, y: Tensor) -> tuple[Tensor, list[Tensor]]:
        if own_heads:
            leaves = [z.detach().requires_grad_(True) for _ in range(k_tasks)]
            outputs = [head(leaf) for head, leaf in zip(model.heads, leaves, strict=True)]
        else:
            leaves = [z.detach().requires_grad_(True)]
            outputs = model.heads_forward(leaves[0])
        return problem.losses(outputs, y), leaves

    def head_and_feature_gradients(
        losses: Tensor, leaves: list[Tensor]
    ) -> tuple[list[Tensor], Tensor]:
        """Each head parameter's gradient (head k's: ∇L_k) and Gz (K, *z.shape) = ∇_z L_k."""
        if own_heads:
            grads = torch.autograd.grad(
                losses.sum(), [*head_flat, *leaves], allow_unused=True, materialize_grads=True
            )
            return list(grads[: len(head_flat)]), torch.stack(grads[len(head_flat) :])
        # any other heads_forward: one batched backward through all heads
        *rows, Gz = jacobian(losses, [*head_flat, leaves[0]])
        owner = [j for j, ps in enumerate(heads) for _ in ps]
        return [r[j] for r, j in zip(rows, owner, strict=True)], Gz

    def assign_heads(grads: list[Tensor], weights: Tensor | None) -> None:
        i = 0
        for j, ps in enumerate(heads):
            for p in ps:
                p.grad = (
                    grads[i] * weights[j].to(grads[i].dtype) if weights is not None else grads[i]
                )
                i += 1

    def aggregation_step(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
        z = model.representation(x)
        losses, leaves = task_losses(z, y)
        reused = method.reuse_weights()
        if reused is not None:
            (reused.to(losses.dtype) * losses).sum().backward()
            z.backward(torch.stack([leaf.grad for leaf in leaves]).sum(dim=0))
            clip_shared()
            return losses, reused
        # the heads' gradients and the K feature gradients ∇_z L_k; then (parameter
        # gradients) one batched VJP through the trunk with those K cotangents.
        head_grads, Gz = head_and_feature_gradients(losses, leaves)
        if on_features:
            direction, weights = method.combine(Gz.reshape(k_tasks, -1), losses.detach())
            z.backward(direction.view_as(z).to(z.dtype))
        else:
            blocks, weights = method.combine_blocks(jacobian(z, shared, Gz), losses.detach())
            for p, block in zip(shared, blocks, strict=True):
                p.grad = block.to(p.dtype)
        clip_shared()
        assign_heads(head_grads, weights)
        return losses, weights

    return aggregation_step


@torch.no_grad()
def evaluate(
    problem: Problem, model: MultiTaskModel, split: Split
) -> tuple[list[float], list[float]]:
    """Per-task primary metrics and mean losses of ``model`` on a whole split."""
    was_training = model.training
    model.eval()
    chunks: list[list[Tensor]] = [[] for _ in range(problem.n_tasks)]
    rows = problem.eval_batch_size
    for i in range(0, len(split), rows):
        for j, out in enumerate(model(split.x[i : i + rows])):
            chunks[j].append(out)
    outputs = [torch.cat(c) for c in chunks]
    metrics = problem.metrics(outputs, split.y)
    losses = problem.losses(outputs, split.y).tolist()
    model.train(was_training)
    return metrics, losses


def to_device(splits: dict[str, Split], device: torch.device) -> dict[str, Split]:
    """The splits with their tensors on ``device``."""
    return {name: Split(s.x.to(device), s.y.to(device)) for name, s in splits.items()}
