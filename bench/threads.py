"""Training-step time against torch's intra-op thread count, alone and beside busy processes.

    python bench/threads.py                         # qm9 K = 3, LS and Nash-MTL, 1 vs 2 threads
    python bench/threads.py --threads 1,2,4 --busy 0,1,2

For each number of busy competitor processes this script starts (pure-Python spin loops, like
another training job on the same cores), it times training steps (`Trainer.step`: forward,
task gradients, method, Adam) on the problem's real batches with each thread count in turn,
round-robin, so that whatever else runs on the machine hits every setting alike. It prints
the median step time and the ratio to one thread measured in the same rounds. Nothing here
is a pass/fail test: it prints what it measured (and the load average it started under).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paretokit.methods import get_method  # noqa: E402
from paretokit.problems import get_problem  # noqa: E402
from paretokit.train import Trainer, to_device  # noqa: E402
from paretokit.train.seeding import seed_everything  # noqa: E402

SPIN = "while True: pass"


def step_times(
    problem_name: str, k: int, methods: list[str], threads: list[int], steps: int, repeats: int
) -> dict[tuple[str, int], float]:
    """Median seconds per step for every (method, thread count), timed round-robin."""
    device = torch.device("cpu")
    problem = get_problem(problem_name, tasks=k)
    train = to_device(problem.splits(), device)["train"]
    bs = problem.defaults.batch_size
    order = seed_everything(0, device)
    batches = [torch.randperm(len(train), generator=order)[:bs] for _ in range(steps)]
    trainers = {}
    for name in methods:
        seed_everything(0, device)
        model = problem.build_model()
        trainers[name] = Trainer(problem, model, get_method(name, k), problem.defaults.lr)
        for idx in batches[:3]:  # warm-up
            trainers[name].step(train.x[idx], train.y[idx])
    samples: dict[tuple[str, int], list[float]] = {(m, n): [] for m in methods for n in threads}
    for _ in range(repeats):
        for n in threads:
            torch.set_num_threads(n)
            for name, t in trainers.items():
                start = time.perf_counter()
                for idx in batches:
                    t.step(train.x[idx], train.y[idx])
                samples[(name, n)].append((time.perf_counter() - start) / len(batches))
    return {key: statistics.median(v) for key, v in samples.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problem", default="qm9")
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--methods", default="ls,nashmtl")
    ap.add_argument("--threads", default=f"1,{os.cpu_count() or 1}")
    ap.add_argument("--busy", default="0,1", help="busy competitor processes, comma-separated")
    ap.add_argument("--steps", type=int, default=20, help="steps per timed round")
    ap.add_argument("--repeats", type=int, default=7, help="rounds per setting")
    args = ap.parse_args()
    threads = [int(n) for n in args.threads.split(",")]
    methods = args.methods.split(",")
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average at start "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.problem} K = {args.k}"
    )
    print(f"{'busy':>4} {'method':>10} " + " ".join(f"{f'{n} thr ms':>10}" for n in threads)
          + " " + " ".join(f"{f'{n}/1':>6}" for n in threads[1:]))  # fmt: skip
    for busy in [int(b) for b in args.busy.split(",")]:
        spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(busy)]
        try:
            times = step_times(args.problem, args.k, methods, threads, args.steps, args.repeats)
        finally:
            for p in spinners:
                p.kill()
                p.wait()
        for m in methods:
            ms = [times[(m, n)] * 1e3 for n in threads]
            ratios = " ".join(f"{x / ms[0]:6.2f}" for x in ms[1:])
            print(f"{busy:>4} {m:>10} " + " ".join(f"{x:10.2f}" for x in ms) + " " + ratios)


if __name__ == "__main__":
    main()
