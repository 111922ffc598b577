"""Benchmark every method: aggregation time, and training-step time as a ratio to LS.

    python bench/methods.py                      # qm9, K = 3 and 10, CPU
    python bench/methods.py --problem synthetic --ks 3,10 --device cuda

Part 1 times each method's per-step computation on inputs that change like consecutive
training steps (a random walk): aggregations that work from the Gramian A = GGᵀ (K, K) alone
(`gramian_weights`), the others from G (K, D) with D the problem's shared-parameter count
(`combine`), loss weightings from the losses (`weights`).
Nash-MTL's CCP option (the paper's cvxpy procedure) is timed beside the exact Newton solver.

Part 2 times full training steps (`Trainer.step`: forward, task gradients, method, Adam) on
real batches of the problem, interleaved one step at a time (every method takes batch i
before any takes batch i+1) so that machine noise hits all methods alike, and prints the
median step time and its ratio to LS's measured in the same run. Nothing here is a pass/fail test: it prints what it measured.

Part 3 (``--torchjd``, needs ``pip install torchjd``, an optional import: never a dependency)
puts paretokit's step beside TorchJD's ``mtl_backward`` + ``jac_to_grad`` on the same model,
batches and Adam: for each K the per-task gradient pass alone (paretokit: a mean of the rows
through the engine; TorchJD: its ``Mean`` aggregator), then UPGrad, MGDA and Nash-MTL in both,
and every paretokit Gramian method on parameter and on feature gradients. All of them run
round-robin in one process; ratios are to the plain LS step of the same round and to the
step's own gradient pass (its library's mean of the task gradients, on the same gradients).

    python bench/methods.py --skip-aggregation --skip-steps --torchjd --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paretokit.methods import (  # noqa: E402
    REGISTRY,
    GradientAggregation,
    GramianWeighting,
    LossWeighting,
    get_method,
    method_names,
)
from paretokit.problems import get_problem  # noqa: E402
from paretokit.train import Trainer, resolve_device, to_device  # noqa: E402
from paretokit.train.loop import make_adam  # noqa: E402
from paretokit.train.seeding import seed_everything  # noqa: E402

EXTRA_VARIANTS = {
    "nashmtl(ccp)": ("nashmtl", {"solver": "ccp"}),
    "nashmtl(update_every=5)": ("nashmtl", {"update_every": 5}),
    "nashmtl(update_every=25)": ("nashmtl", {"update_every": 25}),
}


def variants() -> dict[str, tuple[str, dict]]:
    """Every registered method (STL excluded: it is LS at a vertex) plus timed variants."""
    out = {n: (n, {}) for n in method_names() if n != "stl"}
    for label, (name, opts) in EXTRA_VARIANTS.items():
        if name in out:
            out[label] = (name, opts)
    return out


def timeit(fn: Callable[[], object], min_seconds: float = 0.2, repeats: int = 5) -> float:
    """Median seconds per call over ``repeats`` rounds of at least ``min_seconds`` each."""
    fn()
    n, t = 1, 0.0
    while True:  # calibrate the calls per round
        start = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - start
        if t >= min_seconds / repeats or n >= 1 << 16:
            break
        n *= 4
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n)
    return statistics.median(rounds)


def overrides_gramian(cls: type) -> bool:
    return cls.gramian_weights is not GradientAggregation.gramian_weights


def gradient_walk(k: int, d: int, steps: int = 16, seed: int = 0) -> list[torch.Tensor]:
    """``steps`` task-gradient matrices (K, D) along a random walk, like consecutive training
    steps: norms spread over 0.1…10, each step moving every row by 5% of its norm. Timing
    cycles through them, so warm starts see a changing input, never the same one twice."""
    g = torch.Generator().manual_seed(seed)
    G = torch.randn(k, d, generator=g) * torch.logspace(-1, 1, k)[:, None]
    out = [G]
    for _ in range(steps - 1):
        step = torch.randn(k, d, generator=g)
        step *= 0.05 * out[-1].norm(dim=1, keepdim=True) / step.norm(dim=1, keepdim=True)
        out.append(out[-1] + step)
    return out


def cycling(fn: Callable[[int], object], n: int) -> Callable[[], object]:
    """A no-argument call that passes 0, 1, …, n−1, 0, … to ``fn`` on successive calls."""
    counter = iter(range(1 << 62))
    return lambda: fn(next(counter) % n)


def aggregation_times(k: int, d: int, seed: int = 0) -> list[tuple[str, str, float]]:
    """(label, what was timed, seconds per call) for every method at K tasks and D coordinates,
    cycling through a random walk of inputs (:func:`gradient_walk`)."""
    Gs = gradient_walk(k, d, seed=seed)
    As = [G.double() @ G.double().T for G in Gs]
    g = torch.Generator().manual_seed(seed)
    losses = [torch.rand(k, generator=g) + 0.5 for _ in Gs]
    n = len(Gs)
    rows = []
    for label, (name, opts) in variants().items():
        m = get_method(name, k, **opts)
        if isinstance(m, LossWeighting):
            m.loss(losses[0].clone().requires_grad_())  # some weightings need a first step
            fn = cycling(lambda i, m=m: m.weights(losses[i]), n)
            rows.append((label, "weights(losses)", timeit(fn)))
        elif overrides_gramian(type(m)):
            fn = cycling(lambda i, m=m: m.gramian_weights(As[i], losses[i]), n)
            rows.append((label, "gramian_weights(A)", timeit(fn)))
        else:
            fn = cycling(lambda i, m=m: m.combine(Gs[i], losses[i]), n)
            rows.append((label, f"combine(G), D={d}", timeit(fn)))
    return rows


def step_times(
    problem_name: str,
    k: int,
    device: torch.device,
    steps: int,
    repeats: int,
    batch_size: int | None,
    labels: dict[str, tuple[str, dict]] | None = None,
    torchjd: bool = False,
) -> dict[str, list[float]]:
    """Seconds per training step of every method on the problem's real batches: one sample
    per step (``repeats`` × ``steps`` of them, aligned across methods)."""
    problem = get_problem(problem_name, tasks=k)
    train = to_device(problem.splits(), device)["train"]
    bs = batch_size or problem.defaults.batch_size
    order = seed_everything(0, device)
    batches = [torch.randperm(len(train), generator=order)[:bs].to(device) for _ in range(steps)]
    trainers: dict[str, object] = {}
    for label, (name, opts) in (labels or variants()).items():
        seed_everything(0, device)
        method = MeanOfRows(k, **opts) if name == "mean" else get_method(name, k, **opts)
        model = problem.build_model().to(device)
        trainers[label] = Trainer(problem, model, method, problem.defaults.lr)
    if torchjd:
        for label, make in torchjd_aggregators(k).items():
            seed_everything(0, device)
            model = problem.build_model().to(device)
            trainers[label] = TorchJDStep(problem, model, make(), problem.defaults.lr)
    for t in trainers.values():  # warm-up: first-call allocations, DWA/GradNorm initial state
        for idx in batches[:3]:
            t.step(train.x[idx], train.y[idx])
    # Interleaved one step at a time (every method takes batch i before any takes batch i+1):
    # a change in the machine's load hits all methods within milliseconds of each other, so
    # the per-step ratios between methods hold even on a busy machine.
    samples: dict[str, list[float]] = {label: [] for label in trainers}
    for _ in range(repeats):
        for idx in batches:
            for label, t in trainers.items():
                _sync(device)
                start = time.perf_counter()
                t.step(train.x[idx], train.y[idx])
                _sync(device)
                samples[label].append(time.perf_counter() - start)
    return samples


class MeanOfRows(GramianWeighting):
    """The per-task gradient pass alone: weights 1/K (TorchJD's ``Mean``), no solver."""

    name = "mean"
    summary = "mean of the task gradients (benchmark reference)"
    citation = "-"

    def _array_weights(self, A, losses):
        return torch.full((A.shape[0],), 1.0 / A.shape[0], dtype=torch.float64).numpy()

    def _combine(self, G, losses):
        w = torch.full((G.shape[0],), 1.0 / G.shape[0], dtype=G.dtype, device=G.device)
        return w @ G, w

    def combine_blocks(self, blocks, losses=None):
        k = blocks[0].shape[0]
        self.step_count += 1
        return [b.mean(dim=0) for b in blocks], torch.full((k,), 1.0 / k)


def torchjd_aggregators(k: int) -> dict[str, Callable[[], object]]:
    """TorchJD's aggregators at their defaults (its optional extras: quadprog for UPGrad,
    ecos for NashMTL)."""
    from torchjd.aggregation import MGDA, Mean, NashMTL, UPGrad

    return {
        "torchjd Mean": Mean,
        "torchjd UPGrad": UPGrad,
        "torchjd MGDA": MGDA,
        "torchjd NashMTL": lambda: NashMTL(n_tasks=k),
    }


class TorchJDStep:
    """One training step the TorchJD way: ``mtl_backward`` (task heads get ∇L_k, the shared
    parameters' ``.jac`` the K rows, batched through the features) then ``jac_to_grad`` with
    the aggregator, then the same fused Adam as paretokit's :class:`Trainer`."""

    def __init__(self, problem, model, aggregator, lr: float) -> None:
        self.problem, self.model, self.aggregator = problem, model, aggregator
        self.params = list(model.parameters())
        self.optimizer = make_adam(self.params, lr)
        self.shared = model.shared_parameters()
        self.heads = [model.head_parameters(j) for j in range(problem.n_tasks)]

    def step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        from torchjd.autojac import jac_to_grad, mtl_backward

        for p in self.params:
            p.grad = None
        z = self.model.representation(x)
        losses = self.problem.losses(self.model.heads_forward(z), y)
        # the K losses are rows of one stacked tensor: keep the graph for the K task passes
        mtl_backward(
            list(losses),
            features=z,
            tasks_params=self.heads,
            shared_params=self.shared,
            retain_graph=True,
        )
        jac_to_grad(self.shared, self.aggregator)
        self.optimizer.step()


def torchjd_labels() -> dict[str, tuple[str, dict]]:
    """paretokit's side of part 3: the gradient pass, and every Gramian method on parameter
    and feature gradients."""
    out: dict[str, tuple[str, dict]] = {"ls": ("ls", {}), "gradient pass (mean)": ("mean", {})}
    out["gradient pass (mean), features"] = ("mean", {"feature_level": True})
    for name, cls in REGISTRY.items():
        if issubclass(cls, GramianWeighting):
            out[name] = (name, {"feature_level": False})
            out[f"{name}, features"] = (name, {"feature_level": True})
    return out


def pass_of(label: str) -> str:
    """The per-task gradient pass a step is measured against: TorchJD's ``Mean`` for TorchJD's
    aggregators, paretokit's mean of the rows for its own (on features for feature steps)."""
    if label.startswith("torchjd"):
        return "torchjd Mean"
    if label.endswith(", features"):
        return "gradient pass (mean), features"
    return "gradient pass (mean)"


def ratio(values: list[float], reference: list[float]) -> str:
    """Median [quartiles] of the per-step ratios (step i of both on the same batch, taken
    within milliseconds of each other: the same machine load)."""
    q1, med, q3 = statistics.quantiles([a / b for a, b in zip(values, reference, strict=True)])
    return f"{med:.3f} [{q1:.2f}–{q3:.2f}]"


def spread(values: list[float]) -> str:
    """Median [quartiles] of the step times, in ms."""
    q1, med, q3 = statistics.quantiles(values)
    return f"{med * 1e3:>8.2f} [{q1 * 1e3:.2f}–{q3 * 1e3:.2f}]"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problem", default="qm9")
    ap.add_argument("--ks", default="3,10", help="task counts, comma-separated")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=20, help="steps per timed round")
    ap.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="passes over the batches (steps interleaved across methods)",
    )
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    ap.add_argument("--skip-steps", action="store_true", help="skip part 2")
    ap.add_argument("--skip-aggregation", action="store_true", help="skip part 1")
    ap.add_argument("--torchjd", action="store_true", help="part 3: beside TorchJD (optional)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    ks = [int(k) for k in args.ks.split(",")]
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads")
    for k in ks if not args.skip_aggregation else []:
        problem = get_problem(args.problem, tasks=k)
        d = sum(p.numel() for p in problem.build_model().shared_parameters())
        print(f"\n== aggregation time per call, K={k} (problem {args.problem}: D={d}) ==")
        print(f"{'method':<26} {'timed':<28} {'µs/call':>10}")
        for label, what, sec in aggregation_times(k, d):
            print(f"{label:<26} {what:<28} {sec * 1e6:>10.1f}")
    if not args.skip_steps:
        for k in ks:
            samples = step_times(args.problem, k, device, args.steps, args.repeats, args.batch_size)
            ls = statistics.median(samples["ls"])
            print(
                f"\n== training step, {args.problem} K={k}, median of {args.repeats} × "
                f"{args.steps} steps, interleaved =="
            )
            print(f"{'method':<26} {'ms/step':>9} {'ratio to LS':>12}")
            for label, v in sorted(samples.items(), key=lambda kv: statistics.median(kv[1])):
                print(
                    f"{label:<26} {statistics.median(v) * 1e3:>9.2f} {statistics.median(v) / ls:>12.2f}"
                )
    if args.torchjd:
        from importlib.metadata import version

        tjd = version("torchjd")
        for k in ks:
            samples = step_times(
                args.problem,
                k,
                device,
                args.steps,
                args.repeats,
                args.batch_size,
                labels=torchjd_labels(),
                torchjd=True,
            )
            print(
                f"\n== paretokit beside TorchJD {tjd}, {args.problem} K={k}, "
                f"{args.repeats} × {args.steps} steps, interleaved =="
            )
            print(
                f"{'step':<34} {'ms/step median [IQR]':>26} {'ratio to LS, per step':>24}"
                f" {'ratio to its pass':>22}"
            )
            for label, v in sorted(samples.items(), key=lambda kv: statistics.median(kv[1])):
                print(
                    f"{label:<34} {spread(v):>26} {ratio(v, samples['ls']):>24}"
                    f" {ratio(v, samples[pass_of(label)]):>22}"
                )


if __name__ == "__main__":
    main()
