"""Population training: P sweep points of one problem trained at once as one batched model.

A weight sweep trains the same model with linear scalarization ``L_i = Σ_k w_ik L_ik`` for
many weight vectors w_i. Trained one after the other, every run pays the small-matrix and
per-operation overheads of a small model on its own; trained together, the P members' layers
become batched matrix products over P stacked copies of the parameters.

Member i is the run ``train_run(problem, FixedWeights(K, weights=w_i), config)`` with its
training seed s_i (``seeds``; default ``config.seed`` for all):

* the same initial parameters — the model is built once per seed after seeding with it and
  copied to that seed's members, as sequential runs with that seed would each build it;
* the same data batches in the same order (common random numbers: neighbouring sweep points
  of one seed differ by their weights only, not by data noise), and the same dropout masks;
  members of different seeds each take their own seed's batch (seed-replicated sweeps);
* its own weights, and its own Adam state: the engine back-propagates ``Σ_i Σ_k w_ik L_ik``,
  whose gradient with respect to member i's parameters is member i's own gradient (no
  parameter is shared between members), and Adam (Kingma & Ba 2015) is elementwise, so one
  Adam over the stacked (P, …) tensors is P independent Adams.

The results equal P sequential runs up to floating-point rounding (batched matrix products
sum in a different order). Three ways to run the batched model, chosen per model:

* ``linear``: trunks of ``nn.Linear`` layers and elementwise activations (optionally after an
  ``nn.Flatten``) with linear heads — the built-in problems' MLPs. With one seed the first
  layer sees the same input batch for every member, so it is one matrix product of the batch
  with all members' first-layer weights side by side; with several seeds each member's batch
  is gathered ((P, B, D)) and the first layer is a batched product too. The later layers are
  batched products (bmm), and all heads of a member are one product.
* ``vmap``: any model: ``torch.func.functional_call`` on the stacked parameters and buffers,
  vectorized over the members with ``torch.func.vmap`` (dropout masks shared across members,
  as in sequential runs with one seed). Members of several seeds train as one population per
  seed: one vectorized pass cannot draw each seed's own dropout masks.
* ``loop``: the fallback for models that vmap cannot handle, and for models with BatchNorm's
  running statistics (which vmap updates differently): the members' forward passes one after
  the other (each with its own copy of the random-number state), one Adam step for all.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import replace

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from paretokit.errors import ParetokitError, TrainingDiverged
from paretokit.methods._fixed import FixedWeights
from paretokit.problems import MultiTaskModel, Problem, Split
from paretokit.train.epochs import EpochCallback, Members, RunConfig, RunResult, run_epochs
from paretokit.train.loop import make_adam, to_device
from paretokit.train.seeding import seed_everything
from paretokit.train.trajectory import flat_positions

PATHS = ("auto", "linear", "vmap", "loop")
CPU_DEFAULT_POPULATION = 16
CUDA_MEMORY_FRACTION = 0.8
CPU_MEMORY_FRACTION = 0.5
PROBE_STEPS = 3

# Activations that act elementwise and have no parameters: the ``linear`` path applies them to
# the stacked activations as they are. Exact types only (a subclass may override
# ``forward``).
ELEMENTWISE = (
    nn.ReLU, nn.SiLU, nn.Tanh, nn.GELU, nn.Sigmoid, nn.LeakyReLU, nn.ELU, nn.Softplus,
    nn.Mish, nn.Hardtanh, nn.ReLU6, nn.Identity,
)  # fmt: skip


def train_population(
    problem: Problem,
    weights: Sequence[Sequence[float]],
    config: RunConfig,
    on_epoch: EpochCallback | None = None,
    splits: dict[str, Split] | None = None,
    *,
    path: str = "auto",
    seeds: Sequence[int] | None = None,
) -> list[RunResult | TrainingDiverged]:
    """Train one member per weight vector at once; result i is what
    ``train_run(problem, FixedWeights(K, weights=weights[i]), config with seed seeds[i])``
    returns (see the module docstring for why, and to what precision), or the
    :class:`TrainingDiverged` it would raise. ``seeds`` (default: ``config.seed`` for every
    member) gives each member its training seed: members of one seed share the initial
    parameters and the data order; members of different seeds start from their own seed's
    initialization and each step takes their own seed's batch (the ``linear`` path gathers the
    per-seed batches and runs every layer as a batched product). Models that the ``linear``
    path cannot take train one population per seed, one after the other: their dropout draws
    belong to each seed's random stream, which one vectorized pass cannot reproduce.

    A member whose epoch-mean training loss is non-finite gets ``TrainingDiverged`` with
    train_run's message and leaves the others untouched: nothing couples the members' numbers.
    ``on_epoch(epoch, epochs)`` is called once per population epoch. ``train_seconds`` and
    ``step_ms`` of each member are amortized: the population's training wall time divided by
    P (and by the steps). ``mean_weights`` is the member's normalized weight vector (as
    train_run reports it).
    ``path`` forces a way of batching the members (``linear``, ``vmap`` or ``loop``; ``auto``
    picks ``linear`` where the model allows it, ``loop`` for BatchNorm, else ``vmap``, falling
    back to ``loop`` where vmap fails).
    Invalid weights raise :class:`~paretokit.errors.MethodError` before any training.
    """
    if path not in PATHS:
        raise ParetokitError(f"unknown population path {path!r}; known: {', '.join(PATHS)}")
    k = problem.n_tasks
    seeds = [config.seed] * len(weights) if seeds is None else [int(s) for s in seeds]
    if len(seeds) != len(weights):
        raise ParetokitError(f"{len(weights)} weight vectors but {len(seeds)} seeds")
    if len(weights) == 0:
        return []
    normalized = torch.stack([FixedWeights(k, weights=list(w)).weights_ for w in weights])
    device = config.device
    data = splits if splits is not None else to_device(problem.splits(), device)
    groups = list(dict.fromkeys(seeds))  # the distinct seeds, in order of first appearance
    if len(groups) > 1 and (path not in ("auto", "linear") or not _linear_model(problem)):
        return _per_seed(problem, weights, seeds, groups, config, on_epoch, data, path)
    orders, models = [], []
    for seed in groups:  # each seed's data order and initial model, as its train_run draws them
        orders.append(seed_everything(seed, device))
        models.append(problem.build_model_for_seed(seed).to(device))
    member_group = [groups.index(s) for s in seeds]
    population = make_population(
        problem, models[0], len(weights), path, inits=[models[g] for g in member_group]
    )
    run = _PopulationRun(population, normalized, data["train"], member_group, config.lr)
    return run_epochs(problem, run, replace(config, seed=groups[0]), data, orders, on_epoch)


def _linear_model(problem: Problem) -> bool:
    torch.manual_seed(0)
    return linear_plan(problem.build_model()) is not None


def _per_seed(
    problem: Problem,
    weights: Sequence[Sequence[float]],
    seeds: list[int],
    groups: list[int],
    config: RunConfig,
    on_epoch: EpochCallback | None,
    data: dict[str, Split],
    path: str,
) -> list[RunResult | TrainingDiverged]:
    """One population per seed, one after the other (one progress bar over all of them)."""
    results: list[RunResult | TrainingDiverged | None] = [None] * len(weights)
    for g, seed in enumerate(groups):
        members = [m for m, s in enumerate(seeds) if s == seed]
        callback = None
        if on_epoch is not None:

            def callback(epoch: int, epochs: int, g: int = g) -> None:
                on_epoch(g * epochs + epoch, len(groups) * epochs)

        trained = train_population(
            problem, [weights[m] for m in members], replace(config, seed=seed), callback, data,
            path=path,
        )  # fmt: skip
        for m, result in zip(members, trained):
            results[m] = result
    return [r for r in results if r is not None]


class _PopulationRun(Members):
    """A population trained on ``Σ_i Σ_k w_ik L_ik`` with one Adam: the driver's members."""

    def __init__(
        self,
        population: Population,
        normalized: Tensor,
        train: Split,
        member_group: list[int],
        lr: float,
    ) -> None:
        self.population, self.train_split = population, train
        self.n_members = population.n_members
        self.optimizer = make_adam(population.parameters(), lr)
        self.normalized = normalized
        self.w_train: Tensor | None = None
        self.groups = torch.tensor(member_group, device=train.x.device)
        # As train_run reports them: the float32 weights used in the loss, renormalized.
        used = normalized.float().double()
        self.reported = used / used.sum(dim=1, keepdim=True)
        self.kept: list[Tensor] | None = None
        self.kept_members: set[int] = set()

    def step(self, batches: Sequence[Tensor]) -> Tensor:
        pop, train = self.population, self.train_split
        for p in pop.parameters():
            p.grad = None
        if len(batches) == 1:
            losses = pop.losses(train.x[batches[0]], train.y[batches[0]])  # (P, K)
        else:  # each member its own seed's batch: (P, B, …)
            idx = torch.stack(list(batches))[self.groups]
            losses = pop.losses(train.x[idx], train.y[idx], per_member=True)
        if self.w_train is None or self.w_train.dtype != losses.dtype:
            self.w_train = self.normalized.to(device=losses.device, dtype=losses.dtype)
        (self.w_train * losses).sum().backward()
        self.optimizer.step()
        return losses.detach()

    def evaluate(self, split: Split) -> list[tuple[list[float], list[float]]]:
        return self.population.evaluate(split)

    @torch.no_grad()
    def keep(self, members: Sequence[int]) -> None:
        state = self.population.state()
        if self.kept is None:
            self.kept = [t.detach().clone() for t in state]
        idx = torch.tensor(list(members), device=state[0].device)
        for kept, t in zip(self.kept, state):
            kept[idx] = t[idx]
        self.kept_members.update(members)

    @torch.no_grad()
    def restore(self) -> None:
        if self.kept is None:
            return
        state = self.population.state()
        idx = torch.tensor(sorted(self.kept_members), device=state[0].device)
        for kept, t in zip(self.kept, state):
            t[idx] = kept[idx]

    def mean_weights(self, m: int) -> list[float] | None:
        return self.reported[m].tolist()

    def positions(self) -> Tensor:
        return flat_positions(self.population.parameters(), self.n_members)

    def train(self, mode: bool = True) -> None:
        self.population.train(mode)


def auto_population_size(problem: Problem, config: RunConfig, limit: int = 64) -> int:
    """The largest population (at most ``limit``) that fits the device's memory.

    CUDA: a short probe (a few training steps and one evaluation chunk) with populations of 1
    and 2 measures the peak memory ``torch.cuda.max_memory_allocated``; their difference is one
    member's cost m and the rest the fixed cost f (data, workspace). P is the largest value with
    f + P·m ≤ 80% of the memory that was free before the probe.

    CPU: the members' products already keep the cores' arithmetic units busy at a few members
    (bench/sweep.py shows how close to a large matrix product's rate they run), so a larger P
    gains little per trial; P = min(limit, 16) (issue 6's working point), further bounded so
    that P members' parameters, gradients, Adam moments and the activations of one evaluation
    chunk fit in half of the available RAM.
    """
    if limit < 1:
        raise ParetokitError(f"the population size limit must be at least 1, got {limit}")
    device = config.device
    if device.type == "cuda":
        return _cuda_population_size(problem, config, limit)
    per_member = _member_bytes_estimate(problem)
    available = _available_ram_bytes()
    fit = int(CPU_MEMORY_FRACTION * available // per_member) if available else limit
    return max(1, min(limit, CPU_DEFAULT_POPULATION, fit))


# --- the batched model ----------------------------------------------------------------------


class Population(ABC):
    """P members of one model as stacked (P, …) parameters: the training losses (P, K) on a
    shared batch, and per-member evaluation. Subclasses are the ways of batching."""

    path: str = ""

    def __init__(self, problem: Problem, model: MultiTaskModel, n_members: int) -> None:
        self.problem, self.model, self.n_members = problem, model, n_members
        self.training = True

    @abstractmethod
    def parameters(self) -> list[Tensor]: ...

    @abstractmethod
    def member_parameters(self, m: int) -> dict[str, Tensor]:
        """Member ``m``'s parameters under the model's own names (``model.named_parameters``)."""
        ...

    @abstractmethod
    def losses(self, x: Tensor, y: Tensor, per_member: bool = False) -> Tensor:
        """Per-member task losses (P, K) on the batch (x, y), shared by every member, or with
        ``per_member`` on member i's own batch (x[i], y[i]) (the ``linear`` path only)."""
        ...

    def state(self) -> list[Tensor]:
        """The stacked (P, …) tensors that make the members: parameters, then buffers."""
        return self.parameters() + list(getattr(self, "buffers", {}).values())

    @abstractmethod
    def outputs(self, x: Tensor) -> list[Tensor]:
        """Per-task outputs with the members stacked first: K tensors (P, B, …)."""
        ...

    def train(self, mode: bool = True) -> None:
        self.training = mode
        self.model.train(mode)

    def eval(self) -> None:
        self.train(False)

    @torch.no_grad()
    def evaluate(self, split: Split) -> list[tuple[list[float], list[float]]]:
        """(metrics, losses) per member on a whole split, as :func:`~paretokit.train.evaluate`
        computes them for a single model."""
        was_training = self.training
        self.eval()
        k = self.problem.n_tasks
        chunks: list[list[Tensor]] = [[] for _ in range(k)]
        # P members on 1/P of the problem's evaluation rows hold what one model on all does.
        rows = max(1, self.problem.eval_batch_size // self.n_members)
        for i in range(0, len(split), rows):
            for j, out in enumerate(self.outputs(split.x[i : i + rows])):
                chunks[j].append(out)
        outputs = [torch.cat(c, dim=1) for c in chunks]
        self.train(was_training)
        out = []
        for m in range(self.n_members):
            member = [o[m] for o in outputs]
            metrics = self.problem.metrics(member, split.y)
            losses = self.problem.losses(member, split.y).tolist()
            out.append((metrics, losses))
        return out


def make_population(
    problem: Problem,
    model: MultiTaskModel,
    n_members: int,
    path: str = "auto",
    *,
    inits: Sequence[nn.Module] | None = None,
) -> Population:
    """The population of ``n_members`` models like ``model`` batched the way ``path`` says;
    member i starts from the parameters and buffers of ``inits[i]`` (default: all of
    ``model``'s)."""
    if inits is not None and len(inits) != n_members:
        raise ParetokitError(f"{n_members} members but {len(inits)} initial models")
    if path in ("auto", "linear"):
        layers = linear_plan(model)
        if layers is not None:
            return LinearPopulation(problem, model, n_members, layers, inits)
        if path == "linear":
            raise ParetokitError(
                "population path 'linear' needs a model whose trunk is nn.Linear layers and "
                "elementwise activations with nn.Linear heads; use 'auto', 'vmap' or 'loop'"
            )
    if path == "loop" or (path == "auto" and tracks_running_stats(model)):
        return LoopPopulation(problem, model, n_members, inits=inits)
    return VmapPopulation(problem, model, n_members, inits)


def tracks_running_stats(model: nn.Module) -> bool:
    """Whether a module keeps running statistics (BatchNorm): under vmap, torch updates them
    differently from one model's update (measured), so such models take the ``loop`` path."""
    return any(
        isinstance(m, nn.modules.batchnorm._NormBase) and m.track_running_stats
        for m in model.modules()
    )


def stack_copies(t: Tensor, n: int) -> Tensor:
    """``n`` copies of ``t`` stacked on a new first dimension (a fresh tensor)."""
    return t.detach().unsqueeze(0).repeat(n, *([1] * t.dim())).contiguous()


def stack_members(tensors: Sequence[Tensor]) -> Tensor:
    """The members' tensors stacked on a new first dimension (a fresh tensor)."""
    return torch.stack([t.detach() for t in tensors]).contiguous()


def stacked_state(
    model: nn.Module, n_members: int, inits: Sequence[nn.Module] | None = None
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The parameters and buffers of ``n_members`` members by name, each stacked (P, …):
    member i's from ``inits[i]``, or copies of ``model``'s."""
    if inits is None:
        params = {
            name: stack_copies(p, n_members).requires_grad_(p.requires_grad)
            for name, p in model.named_parameters()
        }
        buffers = {name: stack_copies(b, n_members) for name, b in model.named_buffers()}
        return params, buffers
    named = [dict(m.named_parameters()) for m in inits]
    named_buffers = [dict(m.named_buffers()) for m in inits]
    params = {
        name: stack_members([n[name] for n in named]).requires_grad_(p.requires_grad)
        for name, p in model.named_parameters()
    }
    buffers = {name: stack_members([n[name] for n in named_buffers]) for name, _ in
               model.named_buffers()}  # fmt: skip
    return params, buffers


class VmapPopulation(Population):
    """Any model: ``functional_call`` on stacked parameters and buffers under ``vmap``. The
    first batch that vmap cannot handle switches to the member loop for good (before any
    update: the random state and the buffers are restored)."""

    path = "vmap"

    def __init__(
        self,
        problem: Problem,
        model: MultiTaskModel,
        n_members: int,
        inits: Sequence[nn.Module] | None = None,
    ) -> None:
        super().__init__(problem, model, n_members)
        self.params, self.buffers = stacked_state(model, n_members, inits)
        self._loop: LoopPopulation | None = None

        def member_losses(params: dict, buffers: dict, x: Tensor, y: Tensor) -> Tensor:
            return problem.losses(functional_call(model, (params, buffers), (x,)), y)

        def member_outputs(params: dict, buffers: dict, x: Tensor) -> list[Tensor]:
            return list(functional_call(model, (params, buffers), (x,)))

        self._losses = vmap(member_losses, in_dims=(0, 0, None, None), randomness="same")
        self._outputs = vmap(member_outputs, in_dims=(0, 0, None), randomness="same")

    def parameters(self) -> list[Tensor]:
        return list(self.params.values())

    def member_parameters(self, m: int) -> dict[str, Tensor]:
        return {name: p[m].detach() for name, p in self.params.items()}

    def losses(self, x: Tensor, y: Tensor, per_member: bool = False) -> Tensor:
        _shared_batches_only(self, per_member)
        if self._loop is not None:
            return self._loop.losses(x, y)
        rng = _rng_state(x.device)
        saved = {name: b.clone() for name, b in self.buffers.items()}
        try:
            return self._losses(self.params, self.buffers, x, y)
        except (RuntimeError, NotImplementedError):
            _set_rng_state(x.device, rng)
            for name, b in saved.items():
                self.buffers[name].copy_(b)
            self._loop = LoopPopulation(self.problem, self.model, self.n_members, self)
            self.path = "loop"
            return self._loop.losses(x, y)

    def outputs(self, x: Tensor) -> list[Tensor]:
        if self._loop is not None:
            return self._loop.outputs(x)
        return self._outputs(self.params, self.buffers, x)


class LoopPopulation(Population):
    """The fallback: each member's forward pass in turn on its own slices of the stacked
    parameters (one backward and one Adam step still serve all). Each member keeps its own
    copy of the global random state, so dropout draws what a sequential run would draw."""

    path = "loop"

    def __init__(
        self,
        problem: Problem,
        model: MultiTaskModel,
        n_members: int,
        stacked: VmapPopulation | None = None,
        inits: Sequence[nn.Module] | None = None,
    ) -> None:
        super().__init__(problem, model, n_members)
        if stacked is None:
            self.params, self.buffers = stacked_state(model, n_members, inits)
        else:  # take over a vmap population's tensors
            self.params, self.buffers = stacked.params, stacked.buffers
        self._rng: list[tuple[Tensor, Tensor | None]] | None = None

    def parameters(self) -> list[Tensor]:
        return list(self.params.values())

    def member_parameters(self, m: int) -> dict[str, Tensor]:
        return {name: p[m].detach() for name, p in self.params.items()}

    def _member(self, m: int) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        return (
            {name: p[m] for name, p in self.params.items()},
            {name: b[m] for name, b in self.buffers.items()},
        )

    def losses(self, x: Tensor, y: Tensor, per_member: bool = False) -> Tensor:
        _shared_batches_only(self, per_member)
        if self._rng is None:
            self._rng = [_rng_state(x.device)] * self.n_members
        rows = []
        for m in range(self.n_members):
            _set_rng_state(x.device, self._rng[m])
            outputs = functional_call(self.model, self._member(m), (x,))
            rows.append(self.problem.losses(outputs, y))
            self._rng[m] = _rng_state(x.device)
        return torch.stack(rows)

    def outputs(self, x: Tensor) -> list[Tensor]:
        per_member = [
            list(functional_call(self.model, self._member(m), (x,))) for m in range(self.n_members)
        ]
        return [torch.stack(outs) for outs in zip(*per_member)]


# A layer of the ``linear`` path: (weight name, bias name or None) or an activation module.
Layer = tuple[str, str | None] | nn.Module


def linear_plan(model: nn.Module) -> tuple[bool, list[Layer], list[nn.Linear]] | None:
    """How the ``linear`` path runs ``model``, or None when it cannot: (leading Flatten, the
    trunk's layers in order, the heads). Needs a plain :class:`MultiTaskModel` whose trunk is an
    ``nn.Sequential`` of ``nn.Linear`` and parameter-free elementwise activations (optionally
    after one ``nn.Flatten``) and whose heads are ``nn.Linear`` all with or all without bias."""
    if type(model) is not MultiTaskModel or not isinstance(model.trunk, nn.Sequential):
        return None
    if type(model.trunk) is not nn.Sequential or list(model.buffers()):
        return None
    modules = list(model.trunk.named_children())
    flatten = bool(modules) and type(modules[0][1]) is nn.Flatten
    if flatten and (modules[0][1].start_dim, modules[0][1].end_dim) != (1, -1):
        return None
    layers: list[Layer] = []
    for name, module in modules[int(flatten) :]:
        if type(module) is nn.Linear:
            bias = f"trunk.{name}.bias" if module.bias is not None else None
            layers.append((f"trunk.{name}.weight", bias))
        elif type(module) in ELEMENTWISE:
            layers.append(module)
        else:
            return None
    heads = list(model.heads)
    if not heads or any(type(h) is not nn.Linear for h in heads):
        return None
    if len({h.bias is None for h in heads}) != 1:
        return None
    if not all(p.requires_grad for p in model.parameters()):
        return None
    return flatten, layers, heads


class LinearPopulation(Population):
    """MLP trunks and linear heads as batched matrix products (see the module docstring)."""

    path = "linear"

    def __init__(
        self,
        problem: Problem,
        model: MultiTaskModel,
        n_members: int,
        plan: tuple[bool, list[Layer], list[nn.Linear]],
        inits: Sequence[nn.Module] | None = None,
    ) -> None:
        super().__init__(problem, model, n_members)
        self.flatten, self.layers, heads = plan
        members = list(inits) if inits is not None else [model] * n_members
        named = [dict(m.named_parameters()) for m in members]
        self.trunk = {name: stack_members([n[name] for n in named]).requires_grad_() for name in
                      [n for layer in self.layers if isinstance(layer, tuple) for n in layer
                       if n is not None]}  # fmt: skip
        # All heads of a member as one linear map: weights (P, Σ_k c_k, H), biases (P, Σ_k c_k).
        self.head_sizes = [h.out_features for h in heads]
        n_heads = len(heads)
        self.head_weight = stack_members(
            [torch.cat([n[f"heads.{j}.weight"] for j in range(n_heads)]) for n in named]
        ).requires_grad_()
        self.head_bias = None
        if heads[0].bias is not None:
            self.head_bias = stack_members(
                [torch.cat([n[f"heads.{j}.bias"] for j in range(n_heads)]) for n in named]
            ).requires_grad_()
        self._member_losses: dict[bool, Callable[[list[Tensor], Tensor], Tensor] | None] = {
            False: vmap(problem.losses, in_dims=(0, None)),  # one batch for every member
            True: vmap(problem.losses, in_dims=(0, 0)),  # each member its own batch
        }

    def parameters(self) -> list[Tensor]:
        heads = [self.head_weight] + ([self.head_bias] if self.head_bias is not None else [])
        return list(self.trunk.values()) + heads

    def member_parameters(self, m: int) -> dict[str, Tensor]:
        out = {name: p[m].detach() for name, p in self.trunk.items()}
        offsets = [0, *torch.tensor(self.head_sizes).cumsum(0).tolist()]
        for k in range(len(self.head_sizes)):
            rows = slice(offsets[k], offsets[k + 1])
            out[f"heads.{k}.weight"] = self.head_weight[m, rows].detach()
            if self.head_bias is not None:
                out[f"heads.{k}.bias"] = self.head_bias[m, rows].detach()
        return out

    def outputs(self, x: Tensor, per_member: bool = False) -> list[Tensor]:
        # Feature-major activations hᵀ (P, H, B): every product writes its output contiguous,
        # so no layer needs a transposed copy; only the small head outputs are transposed.
        # ``per_member``: x is (P, B, …), member i's own batch, so every layer is a bmm.
        if per_member:
            h = (x.flatten(2) if self.flatten else x).transpose(1, 2)
        else:
            h = x.flatten(1) if self.flatten else x
        shared = not per_member  # h is still the same (B, D) input for every member
        for layer in self.layers:
            if isinstance(layer, nn.Module):
                h = layer(h)
                continue
            weight = self.trunk[layer[0]]
            bias = self.trunk[layer[1]] if layer[1] is not None else None
            h = batched_linear(h, weight, bias, shared)
            shared = False
        out = batched_linear(h, self.head_weight, self.head_bias, shared)  # (P, Σ_k c_k, B)
        return [o.transpose(1, 2) for o in out.split(self.head_sizes, dim=1)]

    def losses(self, x: Tensor, y: Tensor, per_member: bool = False) -> Tensor:
        outputs = self.outputs(x, per_member)
        batched = self._member_losses[per_member]
        if batched is not None:
            try:
                return batched(outputs, y)
            except (RuntimeError, NotImplementedError):  # a user's losses vmap cannot batch
                self._member_losses[per_member] = None
        return torch.stack(
            [
                self.problem.losses([o[m] for o in outputs], y[m] if per_member else y)
                for m in range(self.n_members)
            ]
        )


def batched_linear(h: Tensor, weight: Tensor, bias: Tensor | None, shared: bool) -> Tensor:
    """P linear maps in feature-major layout: (W_i h_iᵀ + b_i) → (P, O, B) for weights
    (P, O, I) and biases (P, O).

    ``shared``: h (B, I) is the same batch for every member, so all P maps are one matrix
    product of the P weight matrices stacked, (P·O, I) × (I, B). Else h is (P, I, B) and the
    maps are one batched product (P × (O, I) × (I, B)).
    """
    p, o, i = weight.shape
    if shared:
        stacked = weight.reshape(p * o, i)
        if bias is None:
            return (stacked @ h.T).view(p, o, -1)
        return torch.addmm(bias.reshape(p * o, 1), stacked, h.T).view(p, o, -1)
    if bias is None:
        return torch.bmm(weight, h)
    return torch.baddbmm(bias.unsqueeze(2), weight, h)


# --- helpers --------------------------------------------------------------------------------


def _shared_batches_only(population: Population, per_member: bool) -> None:
    if per_member:
        raise ParetokitError(
            f"the {population.path} population path trains every member on one shared batch"
        )


def _rng_state(device: torch.device) -> tuple[Tensor, Tensor | None]:
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return torch.get_rng_state(), cuda


def _set_rng_state(device: torch.device, state: tuple[Tensor, Tensor | None]) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state(state[1], device)


def _cuda_population_size(problem: Problem, config: RunConfig, limit: int) -> int:
    device = config.device
    data = to_device(problem.splits(), device)
    torch.cuda.synchronize(device)
    torch.cuda.empty_cache()
    free, _ = torch.cuda.mem_get_info(device)
    base = torch.cuda.memory_allocated(device)
    peaks = []
    for n_members in (1, 2):
        torch.cuda.reset_peak_memory_stats(device)
        _probe(problem, config, data, n_members)
        torch.cuda.synchronize(device)
        peaks.append(torch.cuda.max_memory_allocated(device) - base)
    per_member = max(peaks[1] - peaks[0], 1)
    fixed = max(peaks[0] - per_member, 0)
    fit = int((CUDA_MEMORY_FRACTION * free - fixed) // per_member)
    return max(1, min(limit, fit))


def _probe(problem: Problem, config: RunConfig, data: dict[str, Split], n_members: int) -> None:
    """A few training steps and one evaluation chunk of a population (memory probe)."""
    torch.manual_seed(config.seed)
    model = problem.build_model().to(config.device)
    population = make_population(problem, model, n_members)
    optimizer = make_adam(population.parameters(), config.lr)
    train = data["train"]
    for step in range(PROBE_STEPS):
        rows = slice(step * config.batch_size, (step + 1) * config.batch_size)
        population.losses(train.x[rows], train.y[rows]).sum().backward()
        optimizer.step()
    with torch.no_grad():
        population.eval()
        population.outputs(data["val"].x[: problem.eval_batch_size])


def _member_bytes_estimate(problem: Problem) -> int:
    """Bytes one member needs on the CPU: parameters, gradients and Adam's two moments (4× the
    parameters) plus every module's output for one evaluation chunk (``eval_batch_size`` rows)."""
    torch.manual_seed(0)
    model = problem.build_model()
    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    activation_bytes = 0

    def count(_module: nn.Module, _inputs: object, output: object) -> None:
        nonlocal activation_bytes
        if isinstance(output, Tensor):
            activation_bytes += output.numel() * output.element_size()

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    try:
        with torch.no_grad():
            model.eval()
            model(problem.splits()["train"].x[:1])
    finally:
        for hook in hooks:
            hook.remove()
    return 4 * param_bytes + activation_bytes * problem.eval_batch_size + 1


def _available_ram_bytes() -> int:
    """MemAvailable from /proc/meminfo, else free pages from sysconf, else 0 (unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


__all__ = ["auto_population_size", "make_population", "train_population"]
