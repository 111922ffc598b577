"""Per-task gradients of the shared parameters, batched through the shared features.

For a model ``out_k = head_k(z)``, ``z = trunk(x)`` and losses L (K,), the task-gradient rows
are ``∇_θ L_k = J_θ(z)ᵀ ∇_z L_k``: first the K feature gradients ∇_z L_k (one batched
backward through the small heads, which also yields each head's own gradient), then one
batched vector–Jacobian product of the trunk with those K cotangents
(``torch.autograd.grad(z, θ, grad_outputs=Gz, is_grads_batched=True)``, one vmapped backward
pass instead of K). This is how TorchJD's ``mtl_backward`` proceeds (Quinton & Rey 2024); the
vmapped pass never goes through the heads. Models that vmap cannot handle (custom autograd
functions without vmap support, some in-place ops) fall back to K ordinary passes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


class TaskJacobian:
    """Vector–Jacobian products with K cotangents at once, batched when possible.

    The first failure of the batched path switches this instance to the K-pass loop for good
    (``batched`` becomes False), so a run never mixes the two.
    """

    def __init__(self, batched: bool = True) -> None:
        self.batched = batched

    def __call__(
        self, outputs: Tensor, inputs: Sequence[Tensor], cotangents: Tensor | None = None
    ) -> list[Tensor]:
        """Row k: the gradient of ``⟨cotangents[k], outputs⟩`` w.r.t. each input — a list with
        one (K, *input.shape) tensor per input (zeros where the output does not depend on an
        input). Without ``cotangents``, ``outputs`` is (K,) and the rows are ∇ outputs[k]."""
        if cotangents is None:
            cotangents = torch.eye(outputs.shape[0], dtype=outputs.dtype, device=outputs.device)
        if self.batched:
            try:
                return self._batched(outputs, inputs, cotangents)
            except RuntimeError:
                self.batched = False
        return self._loop(outputs, inputs, cotangents)

    @staticmethod
    def _batched(outputs: Tensor, inputs: Sequence[Tensor], cotangents: Tensor) -> list[Tensor]:
        grads = torch.autograd.grad(
            outputs,
            inputs,
            grad_outputs=cotangents,
            is_grads_batched=True,
            retain_graph=True,
            allow_unused=True,
            materialize_grads=True,
        )
        return list(grads)

    @staticmethod
    def _loop(outputs: Tensor, inputs: Sequence[Tensor], cotangents: Tensor) -> list[Tensor]:
        rows = [
            torch.autograd.grad(
                outputs,
                inputs,
                grad_outputs=c,
                retain_graph=True,
                allow_unused=True,
                materialize_grads=True,
            )
            for c in cotangents
        ]
        return [torch.stack([row[i] for row in rows]) for i in range(len(inputs))]
