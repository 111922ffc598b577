"""The per-task gradient pass (heads batched, then one batched VJP through the trunk) gives
exactly the rows ∇_θ L_k, the feature rows ∇_z L_k, and the heads w_k ∇_{head k} L_k."""

from __future__ import annotations

import pytest
import torch

from paretokit.methods import GramianWeighting
from paretokit.problems import MultiTaskModel, get_problem
from paretokit.train.gradients import TaskJacobian
from paretokit.train.loop import make_step


class Recorder(GramianWeighting):
    """Fixed weights; keeps the G it was given."""

    name = "recorder-test"
    summary = citation = "test"

    def _array_weights(self, A, losses):
        return torch.linspace(0.5, 1.5, A.shape[0], dtype=torch.float64).numpy()

    def _combine(self, G, losses):
        self.G = G.detach().clone()
        return super()._combine(G, losses)


class OwnHeadsForward(MultiTaskModel):
    """A model with its own heads_forward: the engine cannot give each head its own copy of
    z and takes the batched backward through all heads instead."""

    def heads_forward(self, z):
        return [head(z) for head in self.heads]


@pytest.mark.parametrize("custom_heads", [False, True])
@pytest.mark.parametrize("feature_level", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_rows_heads_and_direction_match_plain_autograd(feature_level, batched, custom_heads):
    torch.manual_seed(0)
    problem = get_problem("synthetic", tasks=4)
    model = problem.build_model()
    if custom_heads:
        model = OwnHeadsForward(model.trunk, model.heads)
    train = problem.splits()["train"]
    x, y = train.x[:64], train.y[:64]
    method = Recorder(4, feature_level=feature_level)
    step = make_step(problem, model, method)
    if not batched:  # the K-pass fallback gives the same rows
        for cell in step.__closure__:
            if isinstance(cell.cell_contents, TaskJacobian):
                cell.cell_contents.batched = False
    losses, w = step(x, y)

    shared = model.shared_parameters()
    z = model.representation(x)
    ref_losses = problem.losses(model.heads_forward(z), y)
    torch.testing.assert_close(losses, ref_losses)
    target = [z] if feature_level else shared
    rows = [
        torch.cat(
            [g.reshape(-1) for g in torch.autograd.grad(ref_losses[k], target, retain_graph=True)]
        )
        for k in range(4)
    ]
    torch.testing.assert_close(method.G, torch.stack(rows), rtol=1e-5, atol=1e-7)
    # shared parameters: the gradient of Σ w_k L_k; heads: w_k ∇ L_k
    expected = torch.autograd.grad((w * ref_losses).sum(), list(model.parameters()))
    for p, e in zip(model.parameters(), expected, strict=True):
        torch.testing.assert_close(p.grad, e, rtol=1e-5, atol=1e-7)
