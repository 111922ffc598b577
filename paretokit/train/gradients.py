"""Per-task gradients of the shared parameters in one batched backward pass.

For losses L (K,) and parameters θ, the Jacobian rows ∇_θ L_k are vector–Jacobian products
with the unit vectors e_k; ``torch.autograd.grad(..., is_grads_batched=True)`` computes all K of
them in one vmapped backward pass instead of K passes. Models that vmap cannot handle (custom
autograd functions without vmap support, some in-place ops) fall back to K ordinary passes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


class TaskJacobian:
    """Computes the (K, P) task-gradient rows for a list of tensors, batched when possible.

    The first failure of the batched path switches this instance to the K-pass loop for good
    (``batched`` becomes False), so a run never mixes the two.
    """

    def __init__(self, batched: bool = True) -> None:
        self.batched = batched

    def __call__(self, losses: Tensor, inputs: Sequence[Tensor]) -> list[Tensor]:
        """Gradients of each ``losses[k]`` w.r.t. each input: a list with one (K, *input.shape)
        tensor per input (zeros where a loss does not depend on an input)."""
        if self.batched:
            try:
                return self._batched(losses, inputs)
            except RuntimeError:
                self.batched = False
        return self._loop(losses, inputs)

    @staticmethod
    def _batched(losses: Tensor, inputs: Sequence[Tensor]) -> list[Tensor]:
        k = losses.shape[0]
        eye = torch.eye(k, dtype=losses.dtype, device=losses.device)
        grads = torch.autograd.grad(
            losses,
            inputs,
            grad_outputs=eye,
            is_grads_batched=True,
            retain_graph=True,
            allow_unused=True,
            materialize_grads=True,
        )
        return list(grads)

    @staticmethod
    def _loop(losses: Tensor, inputs: Sequence[Tensor]) -> list[Tensor]:
        rows = [
            torch.autograd.grad(
                losses[k], inputs, retain_graph=True, allow_unused=True, materialize_grads=True
            )
            for k in range(losses.shape[0])
        ]
        return [torch.stack([row[i] for row in rows]) for i in range(len(inputs))]


def flatten_rows(grads: Sequence[Tensor]) -> Tensor:
    """Concatenate per-input (K, …) gradients into one (K, D) matrix."""
    k = grads[0].shape[0]
    return torch.cat([g.reshape(k, -1) for g in grads], dim=1)


def assign_flat_grad(params: Sequence[Tensor], flat: Tensor) -> None:
    """Write a flat (D,) vector into ``p.grad`` of each parameter, in order."""
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset : offset + n].view_as(p).to(p.dtype).clone()
        offset += n
