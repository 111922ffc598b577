"""Population training: P sweep points of one problem trained at once as one batched model.

A weight sweep trains the same model with linear scalarization ``L_i = Σ_k w_ik L_ik`` for
many weight vectors w_i. Trained one after the other, every run pays the small-matrix and
per-operation overheads of a small model on its own; trained together, the P members' layers
become batched matrix products over P stacked copies of the parameters.

Member i is the run ``train_run(problem, FixedWeights(K, weights=w_i), config)``:

* the same initial parameters — the model is built once after seeding with ``config.seed``
  and copied P times, as P sequential runs with that seed would each build it;
* the same data batches in the same order (common random numbers: neighbouring sweep points
  differ by their weights only, not by data noise), and the same dropout masks;
* its own weights, and its own Adam state: the engine back-propagates ``Σ_i Σ_k w_ik L_ik``,
  whose gradient with respect to member i's parameters is member i's own gradient (no
  parameter is shared between members), and Adam (Kingma & Ba 2015) is elementwise, so one
  Adam over the stacked (P, …) tensors is P independent Adams.

The results equal P sequential runs up to floating-point rounding (batched matrix products
sum in a different order). Three ways to run the batched model, chosen per model:

* ``linear``: trunks of ``nn.Linear`` layers and elementwise activations (optionally after an
  ``nn.Flatten``) with linear heads — the built-in problems' MLPs. The first layer sees the
  same input batch for every member, so it is one matrix product of the batch with all
  members' first-layer weights side by side; the later layers are batched products (bmm), and
  all heads of a member are one product.
* ``vmap``: any model: ``torch.func.functional_call`` on the stacked parameters and buffers,
  vectorized over the members with ``torch.func.vmap`` (dropout masks shared across members,
  as in sequential runs with one seed).
* ``loop``: the fallback for models that vmap cannot handle, and for models with BatchNorm's
  running statistics (which vmap updates differently): the members' forward passes one after
  the other (each with its own copy of the random-number state), one Adam step for all.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from paretokit.methods._fixed import FixedWeights
from paretokit.problems import MultiTaskModel, Problem, Split
from paretokit.train.loop import (
    EVAL_BATCH,
    RunConfig,
    RunResult,
    TrainingDiverged,
    _sync,
    make_adam,
    to_device,
)
from paretokit.train.seeding import seed_everything

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
    on_epoch: Callable[[int, int], None] | None = None,
    splits: dict[str, Split] | None = None,
    *,
    path: str = "auto",
) -> list[RunResult | TrainingDiverged]:
    """Train one member per weight vector at once; result i is what
    ``train_run(problem, FixedWeights(K, weights=weights[i]), config)`` returns (see the module
    docstring for why, and to what precision), or the :class:`TrainingDiverged` it would raise.

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
        raise ValueError(f"unknown population path {path!r}; known: {PATHS}")
    k = problem.n_tasks
    if len(weights) == 0:
        return []
    normalized = torch.stack([FixedWeights(k, weights=list(w)).weights_ for w in weights])
    n_members = normalized.shape[0]
    device = config.device
    data_order = seed_everything(config.seed, device)
    model = problem.build_model().to(device)
    data = splits if splits is not None else to_device(problem.splits(), device)
    train = data["train"]
    population = make_population(problem, model, n_members, path)
    optimizer = make_adam(population.parameters(), config.lr)
    w_train: Tensor | None = None

    n = len(train)
    steps = 0
    epoch_losses: list[list[list[float]]] = [[] for _ in range(n_members)]
    diverged: dict[int, TrainingDiverged] = {}
    population.train()
    _sync(device)
    start = time.perf_counter()
    for epoch in range(config.epochs):
        order = torch.randperm(n, generator=data_order).to(device)
        loss_sum = torch.zeros(n_members, k, dtype=torch.float64, device=device)
        batches = 0
        for i in range(0, n, config.batch_size):
            idx = order[i : i + config.batch_size]
            for p in population.parameters():
                p.grad = None
            losses = population.losses(train.x[idx], train.y[idx])  # (P, K)
            if w_train is None or w_train.dtype != losses.dtype:
                w_train = normalized.to(device=device, dtype=losses.dtype)
            (w_train * losses).sum().backward()
            optimizer.step()
            loss_sum += losses.detach().double()
            batches += 1
            steps += 1
        mean_losses = (loss_sum / batches).cpu()
        for m in range(n_members):
            if m in diverged:
                continue
            finite = torch.isfinite(mean_losses[m])
            if not finite.all():
                bad = [problem.task_names[j] for j in range(k) if not finite[j]]
                diverged[m] = TrainingDiverged(
                    f"non-finite training loss for task(s) {', '.join(bad)} in epoch {epoch + 1}"
                )
            else:
                epoch_losses[m].append(mean_losses[m].tolist())
        if on_epoch is not None:
            on_epoch(epoch + 1, config.epochs)
        if len(diverged) == n_members:
            break
    _sync(device)
    train_seconds = (time.perf_counter() - start) / n_members
    # As train_run reports them: the float32 weights used in the loss, renormalized in float64.
    used = normalized.float().double()
    reported_weights = used / used.sum(dim=1, keepdim=True)

    evaluated = {split: population.evaluate(data[split]) for split in ("val", "test")}
    results: list[RunResult | TrainingDiverged] = []
    for m in range(n_members):
        if m in diverged:
            results.append(diverged[m])
            continue
        results.append(
            RunResult(
                metrics={s: evaluated[s][m][0] for s in evaluated},
                losses={s: evaluated[s][m][1] for s in evaluated},
                train_seconds=train_seconds,
                step_ms=1000.0 * train_seconds / max(steps, 1),
                steps=steps,
                mean_weights=reported_weights[m].tolist(),
                epoch_losses=epoch_losses[m],
            )
        )
    return results


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
        raise ValueError(f"limit must be at least 1, got {limit}")
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
    def losses(self, x: Tensor, y: Tensor) -> Tensor:
        """Per-member task losses (P, K) on the batch (x, y)."""
        ...

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
        # P members on EVAL_BATCH / P rows at a time hold what one model on EVAL_BATCH does.
        rows = max(1, EVAL_BATCH // self.n_members)
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
    problem: Problem, model: MultiTaskModel, n_members: int, path: str = "auto"
) -> Population:
    """The population of ``n_members`` copies of ``model`` batched the way ``path`` says."""
    if path in ("auto", "linear"):
        layers = linear_plan(model)
        if layers is not None:
            return LinearPopulation(problem, model, n_members, layers)
        if path == "linear":
            raise ValueError("the model is not a stack of nn.Linear layers and activations")
    if path == "loop" or (path == "auto" and tracks_running_stats(model)):
        return LoopPopulation(problem, model, n_members)
    return VmapPopulation(problem, model, n_members)


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


def stacked_state(model: nn.Module, n_members: int) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The model's parameters and buffers, each as ``n_members`` stacked copies, by name."""
    params = {
        name: stack_copies(p, n_members).requires_grad_(p.requires_grad)
        for name, p in model.named_parameters()
    }
    buffers = {name: stack_copies(b, n_members) for name, b in model.named_buffers()}
    return params, buffers


class VmapPopulation(Population):
    """Any model: ``functional_call`` on stacked parameters and buffers under ``vmap``. The
    first batch that vmap cannot handle switches to the member loop for good (before any
    update: the random state and the buffers are restored)."""

    path = "vmap"

    def __init__(self, problem: Problem, model: MultiTaskModel, n_members: int) -> None:
        super().__init__(problem, model, n_members)
        self.params, self.buffers = stacked_state(model, n_members)
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

    def losses(self, x: Tensor, y: Tensor) -> Tensor:
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
    ) -> None:
        super().__init__(problem, model, n_members)
        if stacked is None:
            self.params, self.buffers = stacked_state(model, n_members)
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

    def losses(self, x: Tensor, y: Tensor) -> Tensor:
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
    ) -> None:
        super().__init__(problem, model, n_members)
        self.flatten, self.layers, heads = plan
        named = dict(model.named_parameters())
        self.trunk = {name: stack_copies(named[name], n_members).requires_grad_() for name in
                      [n for layer in self.layers if isinstance(layer, tuple) for n in layer
                       if n is not None]}  # fmt: skip
        # All heads of a member as one linear map: weights (P, Σ_k c_k, H), biases (P, Σ_k c_k).
        self.head_sizes = [h.out_features for h in heads]
        self.head_weight = stack_copies(torch.cat([h.weight for h in heads]), n_members)
        self.head_weight.requires_grad_()
        self.head_bias = None
        if heads[0].bias is not None:
            self.head_bias = stack_copies(torch.cat([h.bias for h in heads]), n_members)
            self.head_bias.requires_grad_()
        self._member_losses: Callable[[list[Tensor], Tensor], Tensor] | None = vmap(
            problem.losses, in_dims=(0, None)
        )

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

    def outputs(self, x: Tensor) -> list[Tensor]:
        # Feature-major activations hᵀ (P, H, B): every product writes its output contiguous,
        # so no layer needs a transposed copy; only the small head outputs are transposed.
        h = x.flatten(1) if self.flatten else x
        shared = True  # h is still the same (B, D) input for every member
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

    def losses(self, x: Tensor, y: Tensor) -> Tensor:
        outputs = self.outputs(x)
        if self._member_losses is not None:
            try:
                return self._member_losses(outputs, y)
            except (RuntimeError, NotImplementedError):  # a user's losses vmap cannot batch
                self._member_losses = None
        return torch.stack(
            [self.problem.losses([o[m] for o in outputs], y) for m in range(self.n_members)]
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
        population.outputs(data["val"].x[:EVAL_BATCH])


def _member_bytes_estimate(problem: Problem) -> int:
    """Bytes one member needs on the CPU: parameters, gradients and Adam's two moments (4× the
    parameters) plus every module's output for one evaluation chunk of EVAL_BATCH rows."""
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
    return 4 * param_bytes + activation_bytes * EVAL_BATCH + 1


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
