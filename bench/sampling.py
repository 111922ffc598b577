"""Benchmark the simplex samplers: trials to reach 95% / 99% of a dense grid's hypervolume.

    python bench/sampling.py                       # K = 2, 3, 5; 3 seeds; every sampler
    python bench/sampling.py --ks 2 --seeds 5 --samplers adaptive dirichlet

The problem is ``synthetic`` (Ma et al.'s generator, correlation 0.5, equal scales) made small
so that a trial trains in about a twentieth of a second: 1,000 samples, 8 epochs of batch 200,
lr 5e-3, CPU, one thread. A trial trains ``FixedWeights(K, w)`` with ``train_run`` exactly as
a sweep trial does; its objectives are the K per-task training losses of the last epoch (the
losses the weights scalarize; validation metrics add generalization noise that no sampler can
aim at). Each bench seed s is its own problem instance: the data are generated with seed s
and trained with run seed s (initialization and batch order), so the fronts differ between
seeds (a task may be harder than the others, the front may be noisy) and no sampler is scored
on one lucky function. Training is deterministic, so results are cached by weights; every
sampler of one seed sees the same function w ↦ losses.

Reference, per seed: the simplex lattice of resolution 100 (K = 2), 24 (K = 3) or 10 (K = 5;
1,001 points, 126 of them train every task), every point trained; its non-dominated points
are the reference front. All hypervolumes of one seed use one normalization — the reference
front's ideal ↦ 0 and nadir ↦ 1 per loss (``analysis.Normalization``) — and the reference
point 1.1 in every normalized coordinate (``analysis.reference_point``, margin 0.1);
``analysis.hypervolume`` is exact. A sampler's score after n trials is HV(first n trials) /
HV(reference front); it can pass 100% where a sampler finds points the lattice missed.

Each sampler drives its own Optuna study through ask/tell (``suggest_weights``, train,
``tell``) for up to a budget of trials per K (``--budget``), with sampler seed s on instance
s, for s = 0 … ``--seeds`` − 1. The table prints, per sampler and K, the mean over seeds of
the trials needed to reach 95% and 99% (">N (r/S)": reached within the budget N by only r of
S seeds; the mean is then over those r), and the ratio adaptive / dirichlet of the means
(over the seeds where both reached the target when both missed the same seeds; "< x" where
only dirichlet missed, counting its misses as the budget; "n/a" where adaptive missed a seed
that dirichlet reached).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paretokit import analysis  # noqa: E402
from paretokit.methods._fixed import FixedWeights  # noqa: E402
from paretokit.problems.synthetic import Synthetic  # noqa: E402
from paretokit.sampling import (  # noqa: E402
    SAMPLERS,
    lattice,
    make_sampler,
    suggest_weights,
)
from paretokit.train import RunConfig, to_device, train_run  # noqa: E402

REFERENCE_RESOLUTION = {2: 100, 3: 24, 4: 12, 5: 10}
DEFAULT_BUDGET = {2: 60, 3: 120, 4: 160, 5: 200}
TARGETS = (0.95, 0.99)
CORRELATION = 0.5


class Objective:
    """w ↦ the K per-task training losses of the last epoch, cached by weights. ``seed`` sets
    the problem instance: the generated data and the training run (initialization and batch
    order)."""

    def __init__(self, k: int, seed: int = 0, correlation: float = CORRELATION) -> None:
        self.problem = Synthetic(tasks=k, n_samples=1000, correlation=correlation, seed=seed)
        device = torch.device("cpu")
        self.config = RunConfig(epochs=8, batch_size=200, lr=5e-3, seed=seed, device=device)
        self.data = to_device(self.problem.splits(), device)
        self.k = k
        self.cache: dict[tuple[float, ...], np.ndarray] = {}
        self.trained = 0

    def __call__(self, w: np.ndarray) -> np.ndarray:
        key = tuple(np.round(np.asarray(w, dtype=float), 12))
        if key not in self.cache:
            method = FixedWeights(self.k, weights=list(key))
            result = train_run(self.problem, method, self.config, splits=self.data)
            self.cache[key] = np.array(result.epoch_losses[-1])
            self.trained += 1
        return self.cache[key]


class Reference:
    """The reference front of one K, its normalization, reference point and hypervolume."""

    def __init__(self, objective: Objective, resolution: int) -> None:
        k = objective.k
        points = lattice(k, resolution) / resolution
        values = np.array([objective(w) for w in points])
        minimize = [False] * k
        self.front = values[analysis.non_dominated(values, minimize)]
        self.norm = analysis.Normalization.from_points(self.front, minimize)
        self.point = analysis.reference_point(self.norm)
        self.hv = self.score_raw(self.front)
        self.size = len(points)

    def score_raw(self, values: np.ndarray) -> float:
        return analysis.hypervolume(self.norm(values), self.point, [False] * values.shape[1])


def trials_to_targets(
    sampler: str, seed: int, budget: int, objective: Objective, ref: Reference
) -> list[int | None]:
    """Trials a sampler needs to reach each target fraction of the reference hypervolume.

    The hypervolume of the first n trials only grows with n, so it is computed at checkpoints
    (every 10% more trials) and the crossing is found by bisection between two of them."""
    k = objective.k
    study = optuna.create_study(
        directions=["minimize"] * k, sampler=make_sampler(sampler, seed, k, trials=budget)
    )
    values: list[np.ndarray] = []

    def fraction(n: int) -> float:
        return ref.score_raw(np.array(values[:n])) / ref.hv

    reached: list[int | None] = [None] * len(TARGETS)
    last = 0
    for n in range(1, budget + 1):
        trial = study.ask()
        y = objective(np.array(suggest_weights(trial, k)))
        study.tell(trial, list(map(float, y)))
        values.append(y)
        if n < max(last + 1, int(last * 1.1)) and n < budget:
            continue
        now = fraction(n)
        for i, target in enumerate(TARGETS):
            if reached[i] is None and now >= target:
                lo, hi = last, n  # fraction(lo) < target <= fraction(hi)
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (lo, mid) if fraction(mid) >= target else (mid, hi)
                reached[i] = hi
        last = n
        if all(r is not None for r in reached):
            break
    return reached


def summarize(runs: list[int | None], budget: int) -> tuple[str, float | None]:
    hit = [r for r in runs if r is not None]
    if not hit:
        return f">{budget} (0/{len(runs)})", None
    mean = float(np.mean(hit))
    if len(hit) < len(runs):
        return f"{mean:.1f}, >{budget} ({len(hit)}/{len(runs)})", None
    return f"{mean:.1f}", mean


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ks", type=int, nargs="+", default=[2, 3, 5])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=SAMPLERS)
    ap.add_argument(
        "--budget", type=int, nargs="+", help="trials per K (default 60, 120, 200 for 2, 3, 5)"
    )
    ap.add_argument("--correlation", type=float, default=CORRELATION)
    ap.add_argument("--reference", type=int, nargs="+", help="lattice resolution per K")
    args = ap.parse_args()
    resolution = dict(zip(args.ks, args.reference)) if args.reference else REFERENCE_RESOLUTION
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    budgets = dict(zip(args.ks, args.budget)) if args.budget else DEFAULT_BUDGET

    table: dict[tuple[str, int], list[list[int | None]]] = {}
    for k in args.ks:
        seconds = dict.fromkeys(["reference", *args.samplers], 0.0)
        for seed in range(args.seeds):
            start = time.perf_counter()
            objective = Objective(k, seed, args.correlation)
            ref = Reference(objective, resolution[k])
            seconds["reference"] += time.perf_counter() - start
            print(
                f"K={k} seed {seed}: reference lattice n={resolution[k]} ({ref.size} points, "
                f"{len(ref.front)} on the front, HV of the centre alone "
                f"{ref.score_raw(objective(np.full(k, 1.0 / k))[None]) / ref.hv:.0%})",
                flush=True,
            )
            for name in args.samplers:
                start = time.perf_counter()
                runs = table.setdefault((name, k), [])
                runs.append(trials_to_targets(name, seed, budgets[k], objective, ref))
                seconds[name] += time.perf_counter() - start
        for name in args.samplers:
            runs = table[(name, k)]
            print(f"  {name:9s} {[r[0] for r in runs]} / {[r[1] for r in runs]}")
        print("  seconds: " + ", ".join(f"{n} {t:.0f}" for n, t in seconds.items()), flush=True)
    _print_table(table, args.ks, args.samplers, budgets, args.seeds)


def _print_table(
    table: dict[tuple[str, int], list[list[int | None]]],
    ks: list[int],
    samplers: list[str],
    budgets: dict[int, int],
    seeds: int,
) -> None:
    print(f"\nTrials to reach 95% / 99% of the reference hypervolume (mean over {seeds} seeds)")
    header = "| sampler | " + " | ".join(f"K={k} 95% | K={k} 99%" for k in ks) + " |"
    print(header)
    print("|" + "---|" * (1 + 2 * len(ks)))
    means: dict[tuple[str, int, int], float | None] = {}
    for name in samplers:
        cells = []
        for k in ks:
            for i in range(len(TARGETS)):
                text, mean = summarize([r[i] for r in table[(name, k)]], budgets[k])
                means[(name, k, i)] = mean
                cells.append(text)
        print(f"| {name} | " + " | ".join(cells) + " |")
    if "adaptive" in samplers and "dirichlet" in samplers:
        cells = []
        for k in ks:
            for i in range(len(TARGETS)):
                cells.append(_ratio(table, means, k, i, budgets[k]))
        print("| adaptive / dirichlet | " + " | ".join(cells) + " |")


def _ratio(
    table: dict[tuple[str, int], list[list[int | None]]],
    means: dict[tuple[str, int, int], float | None],
    k: int,
    i: int,
    budget: int,
) -> str:
    a, d = means[("adaptive", k, i)], means[("dirichlet", k, i)]
    if a is not None and d is not None:
        return f"{a / d:.2f}"
    if a is not None:  # dirichlet missed the target on some seeds: its mean is > what we saw
        seen = [r[i] if r[i] is not None else budget for r in table[("dirichlet", k)]]
        return f"< {a / float(np.mean(seen)):.2f}"
    pairs = list(zip(table[("adaptive", k)], table[("dirichlet", k)]))
    if any((ra[i] is None) != (rd[i] is None) for ra, rd in pairs):
        return "n/a"  # adaptive missed a seed that dirichlet reached
    both = [(ra[i], rd[i]) for ra, rd in pairs if ra[i] is not None]
    if not both:
        return "n/a"
    ratio = np.mean([x for x, _ in both]) / np.mean([y for _, y in both])
    return f"{ratio:.2f} ({len(both)}/{len(table[('adaptive', k)])} seeds both reached)"


if __name__ == "__main__":
    main()
