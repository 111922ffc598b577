"""Benchmark sweep throughput: P trials trained as one population vs P sequential trials.

    python bench/sweep.py                                  # qm9 (3 tasks), P = 16, CPU
    python bench/sweep.py --population 32 --epochs 2 --device cuda
    python bench/sweep.py --population 8 --seeds 3        # 8 weights × 3 seeds = 24 members

Each round trains the same P weight vectors (Dirichlet(1) draws, seeded) twice: one after the
other with ``train_run`` (what a sequential sweep does per trial, evaluation included) and
all at once with ``train_population``; the two alternate within the round so that machine
noise hits both alike. It prints trials per minute for each, their ratio per round and the
median ratio, and checks that the two produced the same validation metrics (largest relative
difference). Issue 6's target: ratio ≥ 5 with P = 16 on the 2-core CPU for qm9.

With ``--seeds S`` every weight vector is trained with seeds 0 … S−1 (a seed-replicated
sweep): P·S members, sequential runs of each (weights, seed) pair against one population of
all of them (per-seed batches gathered), and a third side: one population per seed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paretokit.methods._fixed import FixedWeights  # noqa: E402
from paretokit.problems import Split, get_problem  # noqa: E402
from paretokit.train import RunConfig, RunResult, resolve_device, to_device, train_run  # noqa: E402
from paretokit.train.population import (  # noqa: E402
    linear_plan,
    make_population,
    train_population,
)


def trial_flops(model: torch.nn.Module, train_rows: int, epochs: int, eval_rows: int) -> float:
    """Arithmetic of one trial in its linear layers (2·in·out per row forward; training: the
    forward, the weight gradients and the input gradients of all but the first layer)."""
    plan = linear_plan(model)
    if plan is None:
        return float("nan")
    shapes = [p.shape for name, p in model.named_parameters() if name.endswith("weight")]
    forward = sum(2 * o * i for o, i in shapes)
    first = 2 * shapes[0][0] * shapes[0][1]
    return train_rows * epochs * (3 * forward - first) + eval_rows * forward


def matmul_gflops(device: torch.device, n: int = 1024, repeats: int = 10) -> float:
    """GFLOP/s of an n×n×n matrix product on ``device``: what its arithmetic units reach."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problem", default="qm9")
    parser.add_argument("--tasks", default=None, help="task count or names (problem default)")
    parser.add_argument("--population", type=int, default=16, help="P: trials per population")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per trial (reduced)")
    parser.add_argument("--seeds", type=int, default=1, help="S: training seeds per weight")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--path", default="auto", help="population path: auto|linear|vmap|loop")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument(
        "--train-rows", type=int, default=0, help="train on the first N rows only (0: all)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    problem = get_problem(args.problem, tasks=args.tasks)
    device = resolve_device(args.device)
    d = problem.defaults
    config = RunConfig(args.epochs, d.batch_size, d.lr, seed=0, device=device)
    splits = to_device(problem.splits(), device)
    if args.train_rows:
        train = splits["train"]
        splits["train"] = Split(train.x[: args.train_rows], train.y[: args.train_rows])
    k = problem.n_tasks
    torch.manual_seed(0)
    drawn = torch.distributions.Dirichlet(torch.ones(k)).sample((args.population,))
    members = [(w, s) for s in range(args.seeds) for w in drawn.double().tolist()]
    weights, seeds = [w for w, _ in members], [s for _, s in members]
    p = len(members)
    model = problem.build_model()
    path = make_population(problem, model, 1, args.path).path
    print(
        f"{problem.name} ({k} tasks: {', '.join(problem.task_names)}), batch {d.batch_size}, "
        f"{len(splits['train'])} training rows, {args.epochs} epoch(s) per trial, "
        f"{args.population} weights × {args.seeds} seed(s) = {p} runs, "
        f"device {device}, "
        f"{torch.get_num_threads()} threads, population path {path}"
    )

    def sequential() -> list[RunResult]:
        return [
            train_run(problem, FixedWeights(k, weights=w), replace(config, seed=s), splits=splits)
            for w, s in members
        ]

    def population() -> list:
        return train_population(
            problem, weights, config, splits=splits, path=args.path, seeds=seeds
        )

    def per_seed() -> list:
        out = []
        for s in range(args.seeds):
            own = [w for w, seed in members if seed == s]
            cfg = replace(config, seed=s)
            out += train_population(problem, own, cfg, splits=splits, path=args.path)
        return out

    ratios, cpu_ratios, seq_rates, pop_rates = [], [], [], []
    worst = 0.0
    for r in range(args.rounds):
        timings, cpu, outputs = {}, {}, {}
        order = [("sequential", sequential), ("population", population)]
        if args.seeds > 1:
            order.append(("per seed", per_seed))
        for name, fn in order if r % 2 == 0 else order[::-1]:
            start, start_cpu = time.perf_counter(), time.process_time()
            outputs[name] = fn()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            timings[name] = time.perf_counter() - start
            cpu[name] = time.process_time() - start_cpu
        seq_rate = 60.0 * p / timings["sequential"]
        pop_rate = 60.0 * p / timings["population"]
        ratio = timings["sequential"] / timings["population"]
        seq_rates.append(seq_rate)
        pop_rates.append(pop_rate)
        ratios.append(ratio)
        cpu_ratios.append(cpu["sequential"] / cpu["population"])
        if args.seeds > 1:
            print(
                f"round {r + 1}: one population per seed {timings['per seed']:.1f} s; "
                f"one population of all {p}: {timings['population']:.1f} s "
                f"(ratio {timings['per seed'] / timings['population']:.2f})"
            )
        for a, b in zip(outputs["sequential"], outputs["population"]):
            for x, y in zip(a.metrics["val"], b.metrics["val"]):
                worst = max(worst, abs(x - y) / max(abs(x), 1e-12))
        print(
            f"round {r + 1}: sequential {timings['sequential']:.1f} s ({seq_rate:.1f} trials/min)"
            f", population {timings['population']:.1f} s ({pop_rate:.1f} trials/min)"
            f", ratio {ratio:.2f} (CPU-time ratio {cpu_ratios[-1]:.2f})"
        )
    print(
        f"median: sequential {statistics.median(seq_rates):.1f} trials/min, "
        f"population {statistics.median(pop_rates):.1f} trials/min, "
        f"ratio {statistics.median(ratios):.2f} (target ≥ 5 for P = 16 on the 2-core CPU)"
    )
    print(
        f"best rounds: sequential {max(seq_rates):.1f} trials/min, population "
        f"{max(pop_rates):.1f} trials/min, ratio {max(pop_rates) / max(seq_rates):.2f} (each "
        "side's quietest round: the closest to an idle machine)"
    )
    print(
        f"median CPU-time ratio {statistics.median(cpu_ratios):.2f} (process CPU seconds, less "
        "sensitive than wall time to other processes on the machine)"
    )
    flops = trial_flops(
        model, len(splits["train"]), args.epochs, len(splits["val"]) + len(splits["test"])
    )
    if flops == flops:  # an MLP: say how close to the arithmetic limit each side runs
        seq_speed = flops * max(seq_rates) / 60 / 1e9  # quietest rounds
        pop_speed = flops * max(pop_rates) / 60 / 1e9
        peak = matmul_gflops(device, 2048 if device.type == "cuda" else 1024)
        print(
            f"arithmetic: {flops / 1e9:.1f} GFLOP per trial in the linear layers; in their "
            f"quietest rounds sequential trials run at {seq_speed:.1f} GFLOP/s, the population at {pop_speed:.1f} GFLOP/s; "
            f"a large matrix product on this device reaches {peak:.1f} GFLOP/s, so no batching "
            f"can be more than {peak / seq_speed:.1f}× faster than sequential trials here"
        )
    print(f"largest relative difference of a validation metric: {worst:.2e}")


if __name__ == "__main__":
    main()
