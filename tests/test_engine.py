"""The training engine: determinism, batched per-task gradients, and the method seam."""

from __future__ import annotations

import pytest
import torch

from paretokit.methods import GradientAggregation, get_method
from paretokit.train import RunConfig, TrainingDiverged, train_run
from paretokit.train.gradients import TaskJacobian
from tests.user_problem import TwoLines

CPU = torch.device("cpu")


class FixedGramianWeights(GradientAggregation):
    """A test aggregation whose direction is wᵀG for fixed w (the engine must reproduce LS)."""

    summary = citation = "test"

    def __init__(self, n_tasks, *, seed=0, w=(0.5, 0.5), target="parameters"):
        super().__init__(n_tasks, seed=seed)
        self.w = torch.tensor(w, dtype=torch.float64)
        self.gradient_target = target

    def gramian_weights(self, gramian, losses=None):
        return self.w.to(gramian.dtype)


FixedGramianWeights.name = "fixed-gramian-test"


def config(seed=0, epochs=3):
    return RunConfig(epochs=epochs, batch_size=32, lr=1e-2, seed=seed, device=CPU)


def test_same_seed_same_numbers_and_other_seed_differs():
    p = TwoLines(tasks=2)
    r1 = train_run(p, get_method("ls", 2), config(0))
    r2 = train_run(p, get_method("ls", 2), config(0))
    r3 = train_run(p, get_method("ls", 2), config(1))
    assert r1.metrics == r2.metrics and r1.losses == r2.losses
    assert r1.epoch_losses == r2.epoch_losses
    assert r1.metrics != r3.metrics


@pytest.mark.parametrize("target", ["parameters", "representation"])
def test_aggregation_with_fixed_weights_equals_linear_scalarization(target):
    """wᵀG written into the shared grads and w_k ∇L_k into the heads is exactly the gradient
    of Σ w_k L_k, at parameter level and (through z.backward) at representation level."""
    p = TwoLines(tasks=2)
    ls = train_run(p, get_method("ls", 2), config())
    agg = train_run(p, FixedGramianWeights(2, target=target), config())
    for split in ("val", "test"):
        torch.testing.assert_close(
            torch.tensor(agg.metrics[split]), torch.tensor(ls.metrics[split]), rtol=1e-5, atol=1e-6
        )
    assert agg.mean_weights == pytest.approx([0.5, 0.5])


def test_batched_jacobian_equals_k_backward_passes():
    torch.manual_seed(0)
    p = TwoLines(tasks=3)
    model = p.build_model()
    s = p.splits()["train"]
    losses = p.losses(model(s.x[:64]), s.y[:64])
    params = list(model.parameters())
    batched = TaskJacobian(batched=True)
    fast = torch.cat([g.reshape(len(losses), -1) for g in batched(losses, params)], dim=1)
    slow = torch.cat(
        [g.reshape(len(losses), -1) for g in TaskJacobian(batched=False)(losses, params)], dim=1
    )
    assert batched.batched, "the batched path must have been used, not the fallback"
    assert fast.shape == (3, sum(q.numel() for q in params))
    torch.testing.assert_close(fast, slow, rtol=1e-6, atol=1e-7)
    for k in range(3):
        row = torch.autograd.grad(
            losses[k], params, retain_graph=True, allow_unused=True, materialize_grads=True
        )
        torch.testing.assert_close(fast[k], torch.cat([g.reshape(-1) for g in row]))


def test_jacobian_falls_back_when_vmap_fails():
    class NoVmap(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            float(g.sum())  # .item() on a batched tensor is an error under vmap
            return g * 2

    x = torch.randn(5, requires_grad=True)
    y = NoVmap.apply(x)
    losses = torch.stack([y.sum(), (y**2).sum()])
    jac = TaskJacobian()
    (g,) = jac(losses, [x])
    assert not jac.batched
    torch.testing.assert_close(g, torch.stack([2 * torch.ones(5), 8 * x.detach()]))


def test_non_finite_loss_raises_training_diverged():
    p = TwoLines(tasks=2, blow_up=True)
    with pytest.raises(TrainingDiverged, match="a"):
        train_run(p, get_method("ls", 2), config(epochs=1))


def test_epoch_callback_and_costs():
    seen = []
    r = train_run(
        TwoLines(tasks=2),
        get_method("ls", 2),
        config(epochs=2),
        on_epoch=lambda e, n: seen.append((e, n)),
    )
    assert seen == [(1, 2), (2, 2)]
    assert r.steps == 2 * 10  # 300 training rows, batch 32 → 10 steps per epoch
    assert r.train_seconds > 0 and r.step_ms > 0


def test_nashmtl_max_norm_clips_shared_gradient_on_computed_and_reused_steps():
    """As in the official code: every step (Nash-MTL-N's reused ones too) back-propagates
    Σ α_k L_k, clips the shared parameters' gradient to max_norm, and leaves the heads'
    α_k ∇L_k unclipped."""
    from paretokit.train.loop import make_step

    torch.manual_seed(0)
    p = TwoLines(tasks=2)
    model = p.build_model()
    method = get_method("nashmtl", 2, update_every=2, max_norm=1e-3)
    step = make_step(p, model, method)
    train = p.splits()["train"]
    shared, head0 = model.shared_parameters(), model.head_parameters(0)
    for i in range(3):  # computed, reused, computed
        x, y = train.x[i * 32 : (i + 1) * 32], train.y[i * 32 : (i + 1) * 32]
        model.zero_grad(set_to_none=True)
        losses, w = step(x, y)
        norm = torch.linalg.vector_norm(torch.cat([q.grad.flatten() for q in shared]))
        assert norm <= 1e-3 * (1 + 1e-5)
        # the head of task 0 gets w_0 ∇L_0, unclipped (w: the bargaining weights)
        expected = torch.autograd.grad(p.losses(model(x), y)[0], head0)
        for q, e in zip(head0, expected):
            torch.testing.assert_close(q.grad, w[0].to(e.dtype) * e)
