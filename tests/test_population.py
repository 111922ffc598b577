"""Population training: member i equals the sequential run with weights w_i."""

from __future__ import annotations

import functools
from dataclasses import replace

import pytest
import torch
from torch import nn

import paretokit.train.population as population_module
from paretokit.errors import MethodError, ParetokitError
from paretokit.methods._fixed import FixedWeights
from paretokit.problems import get_problem
from paretokit.problems.synthetic import Synthetic
from paretokit.train import (
    RunConfig,
    RunResult,
    TrainingDiverged,
    auto_population_size,
    train_population,
    train_run,
)
from paretokit.train.loop import make_adam
from paretokit.train.population import make_population
from tests.user_problem import TwoLines

CPU = torch.device("cpu")


class Unusual(TwoLines):
    """A user problem whose trunk the ``linear`` path cannot take: LayerNorm and dropout."""

    def build_trunk(self):
        trunk = nn.Sequential(nn.Linear(6, 16), nn.LayerNorm(16), nn.Tanh(), nn.Dropout(0.3))
        return trunk, 16


class WithBatchNorm(TwoLines):
    def build_trunk(self):
        return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.Tanh()), 16


class ItemCheck(nn.Module):
    """Reads a tensor's value in forward (vmap cannot batch that): forces the loop fallback."""

    def forward(self, x):
        if float(x.detach().abs().max()) > 1e30:
            raise AssertionError("unexpected")
        return x


class Unbatchable(TwoLines):
    def build_trunk(self):
        return nn.Sequential(nn.Linear(6, 16), ItemCheck(), nn.Tanh(), nn.Dropout(0.3)), 16


def config(epochs=2, batch_size=64, lr=1e-2, seed=0):
    return RunConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=CPU)


def weights_for(k):
    """Three weight vectors: a vertex, the centre, and a lopsided point (unnormalized)."""
    return [[1.0] + [0.0] * (k - 1), [1.0] * k, [3.0] + [1.0] * (k - 2) + [0.5]]


def sequential(problem, weights, cfg):
    """train_run per weight vector; returns the results and each run's trained model."""
    results, models = [], []
    build = problem.build_model

    def capture():
        models.append(build())
        return models[-1]

    problem.build_model = capture
    try:
        for w in weights:
            results.append(train_run(problem, FixedWeights(problem.n_tasks, weights=w), cfg))
    finally:
        del problem.build_model
    return results, models


def run_population(problem, weights, cfg, monkeypatch, path="auto", poison=None):
    """train_population, capturing the population object (for its members' parameters);
    ``poison``: members whose initial parameters are set to NaN."""
    made = []

    def capture(*args, **kwargs):
        made.append(make_population(*args, **kwargs))
        for m in poison or ():
            with torch.no_grad():
                for p in made[-1].parameters():
                    p[m] = float("nan")
        return made[-1]

    monkeypatch.setattr(population_module, "make_population", capture)
    results = train_population(problem, weights, cfg, path=path)
    return results, made[0]


def assert_member_equals_run(member: RunResult, run: RunResult, params, model, buffers=None):
    for split in ("val", "test"):
        torch.testing.assert_close(
            torch.tensor(member.metrics[split]), torch.tensor(run.metrics[split]),
            rtol=1e-4, atol=1e-5,
        )  # fmt: skip
        torch.testing.assert_close(
            torch.tensor(member.losses[split]), torch.tensor(run.losses[split]),
            rtol=1e-4, atol=1e-6,
        )  # fmt: skip
    torch.testing.assert_close(
        torch.tensor(member.epoch_losses), torch.tensor(run.epoch_losses), rtol=1e-5, atol=1e-6
    )
    assert member.steps == run.steps
    assert member.mean_weights == pytest.approx(run.mean_weights, rel=1e-12)
    expected = dict(model.named_parameters())
    assert set(params) == set(expected)
    for name, value in params.items():
        torch.testing.assert_close(value, expected[name].detach(), rtol=1e-4, atol=1e-5)
    for name, value in (buffers or {}).items():  # e.g. BatchNorm's running statistics
        torch.testing.assert_close(value, dict(model.named_buffers())[name], rtol=1e-4, atol=1e-5)


@functools.cache
def sequential_case(name):
    """The problem, config, weights and sequential runs of a test case (shared by its paths)."""
    if name == "multidigits":
        problem, cfg = get_problem("multidigits"), config(epochs=1, batch_size=128, lr=2e-3)
    elif name == "synthetic":
        problem = Synthetic(tasks=3, n_samples=2000)
        cfg = config(epochs=2, batch_size=64, lr=2e-3)
    else:
        cls = {
            "user": TwoLines,
            "unusual": Unusual,
            "unbatchable": Unbatchable,
            "batchnorm": WithBatchNorm,
        }[name]
        problem, cfg = cls(tasks=3), config(epochs=3, batch_size=32)
    weights = weights_for(problem.n_tasks)
    runs, models = sequential(problem, weights, cfg)
    return problem, cfg, weights, runs, models


@pytest.mark.parametrize(
    ("name", "path", "used"),
    [
        ("multidigits", "auto", "linear"),
        ("multidigits", "vmap", "vmap"),
        ("synthetic", "auto", "linear"),
        ("user", "auto", "linear"),
        ("user", "vmap", "vmap"),
        ("user", "loop", "loop"),
        ("unusual", "auto", "vmap"),
        ("unbatchable", "auto", "loop"),
        ("batchnorm", "auto", "loop"),
    ],
)
def test_member_equals_sequential_run(name, path, used, monkeypatch):
    """Same init, same batches in the same order (and the same dropout masks), own weights and
    own Adam state: every member ends where its sequential run ends."""
    problem, cfg, weights, runs, models = sequential_case(name)
    members, population = run_population(problem, weights, cfg, monkeypatch, path)
    assert population.path == used
    assert len(members) == len(weights)
    for m, (member, run, model) in enumerate(zip(members, runs, models)):
        assert isinstance(member, RunResult)
        buffers = {n: b[m] for n, b in getattr(population, "buffers", {}).items()}
        assert_member_equals_run(member, run, population.member_parameters(m), model, buffers)


@pytest.mark.parametrize("path", ["linear", "vmap"])
def test_a_diverging_member_leaves_the_others_untouched(path, monkeypatch):
    problem, cfg, weights, runs, models = sequential_case("user")
    members, population = run_population(problem, weights, cfg, monkeypatch, path, poison=[1])
    assert isinstance(members[1], TrainingDiverged)
    assert str(members[1]) == "non-finite training loss for task(s) a, b, c in epoch 1"
    for m in (0, 2):
        assert_member_equals_run(members[m], runs[m], population.member_parameters(m), models[m])


def test_divergence_message_is_train_runs():
    problem, cfg = TwoLines(tasks=2, blow_up=True), config(epochs=2, batch_size=32)
    with pytest.raises(TrainingDiverged) as raised:
        train_run(problem, FixedWeights(2, weights=[0.5, 0.5]), cfg)
    seen = []
    members = train_population(
        problem, [[0.5, 0.5], [0.1, 0.9]], cfg, on_epoch=lambda e, n: seen.append(e)
    )
    assert [str(m) for m in members] == [str(raised.value)] * 2
    assert all(isinstance(m, TrainingDiverged) for m in members)
    assert seen == [1]  # every member diverged in epoch 1: the population stops there


def test_deterministic_and_reports_amortized_costs():
    problem, cfg = TwoLines(tasks=2), config(epochs=2, batch_size=32)
    seen = []
    a = train_population(problem, [[1, 3], [1, 1]], cfg, on_epoch=lambda e, n: seen.append((e, n)))
    b = train_population(problem, [[1, 3], [1, 1]], cfg)
    assert seen == [(1, 2), (2, 2)]
    for x, y in zip(a, b):
        assert x.metrics == y.metrics and x.losses == y.losses
        assert x.epoch_losses == y.epoch_losses
    assert a[0].mean_weights == pytest.approx([0.25, 0.75])
    assert a[0].steps == 2 * 10  # 300 training rows, batch 32
    assert a[0].train_seconds > 0
    assert a[0].step_ms == pytest.approx(1000 * a[0].train_seconds / a[0].steps)
    assert a[0].train_seconds == a[1].train_seconds  # the wall time shared out evenly


def test_bad_weights_and_empty_population():
    problem, cfg = TwoLines(tasks=2), config(epochs=1)
    with pytest.raises(MethodError):
        train_population(problem, [[1, 1], [-1, 2]], cfg)
    with pytest.raises(MethodError):
        train_population(problem, [[1, 1, 1]], cfg)
    assert train_population(problem, [], cfg) == []


def test_one_adam_over_stacked_members_is_independent_adams():
    """Adam is elementwise: one (fused where available) Adam over (P, …) tensors equals P
    Adams over the members' own tensors, whatever the other members' gradients."""
    g = torch.Generator().manual_seed(0)
    stacked = torch.randn(4, 5, 3, generator=g).requires_grad_()
    alone = [stacked[m].detach().clone().requires_grad_() for m in range(4)]
    opt = make_adam([stacked], 1e-2)
    opts = [make_adam([a], 1e-2) for a in alone]
    for _ in range(5):
        grads = (
            torch.randn(4, 5, 3, generator=g) * torch.tensor([1e-3, 1.0, 1e3, 0.0])[:, None, None]
        )
        stacked.grad = grads.clone()
        opt.step()
        for m in range(4):
            alone[m].grad = grads[m].clone()
            opts[m].step()
    for m in range(4):
        torch.testing.assert_close(stacked[m].detach(), alone[m].detach(), rtol=0, atol=0)


def test_linear_path_falls_back_to_vmap_for_other_models():
    assert make_population(TwoLines(tasks=2), TwoLines(tasks=2).build_model(), 2).path == "linear"
    unusual = Unusual(tasks=2)
    assert make_population(unusual, unusual.build_model(), 2).path == "vmap"
    with pytest.raises(ParetokitError, match="nn.Linear"):
        make_population(unusual, unusual.build_model(), 2, "linear")


def test_auto_population_size_on_cpu():
    problem, cfg = TwoLines(tasks=2), config()
    assert auto_population_size(problem, cfg) == 16
    assert auto_population_size(problem, cfg, limit=4) == 4
    assert auto_population_size(problem, cfg, limit=1) == 1
    with pytest.raises(ParetokitError, match="at least 1"):
        auto_population_size(problem, cfg, limit=0)


@pytest.mark.parametrize(("name", "used"), [("user", "linear"), ("unusual", "per seed")])
def test_members_of_other_seeds_equal_their_sequential_runs(name, used, monkeypatch):
    """Weights × seeds in one call: member (w, s) starts from seed s's initialization and
    takes seed s's batches, as ``train_run`` with weights w and seed s does. The ``linear`` path
    runs them as one population (per-member batches); other models one population per seed."""
    problem = {"user": TwoLines, "unusual": Unusual}[name](tasks=3)
    cfg = config(epochs=3, batch_size=32)
    pairs = [(w, s) for s in (2, 0, 1) for w in weights_for(3)[1:]]
    made = []

    def capture(*args, **kwargs):
        made.append(make_population(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(population_module, "make_population", capture)
    members = train_population(problem, [w for w, _ in pairs], cfg, seeds=[s for _, s in pairs])
    assert len(made) == (1 if used == "linear" else 3)
    if used == "linear":
        assert made[0].path == "linear" and made[0].n_members == len(pairs)
    for (w, seed), member in zip(pairs, members):
        run = train_run(problem, FixedWeights(3, weights=w), replace(cfg, seed=seed))
        assert_member_equals_run(member, run, {}, nn.Module())
    # the seeds are not interchangeable: seed 2 and seed 0 of one weight vector differ
    assert members[0].metrics["val"] != members[2].metrics["val"]


def test_seeds_must_match_the_weights():
    problem, cfg = TwoLines(tasks=2), config(epochs=1)
    with pytest.raises(ParetokitError, match="2 weight vectors but 1 seeds"):
        train_population(problem, [[1, 1], [1, 2]], cfg, seeds=[0])
    with pytest.raises(ParetokitError, match="unknown population path"):
        train_population(problem, [[1, 1]], cfg, path="fast")
