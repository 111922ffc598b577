"""Benchmark a sweep's results bookkeeping: rewriting the whole file after every batch (before)
against appending the batch as a part (after), side by side in one run.

    python bench/results_append.py                  # 2,000 trials × 3 seeds, 3 tasks
    python bench/results_append.py --trials 500

A synthetic sweep of population 1 (one trial per batch, the most batches for a budget): after
each batch the study gains one finished trial (its 3 seed records in its user attributes, as a
sweep stores them) and the results file is brought up to date from the study, as the sweep does
after every batch. No training: only the bookkeeping is timed.

- before: what ``run_sweep`` did until now after each batch: read the run ids of the whole
  file, decode every finished trial's records, and ``append_results`` (read the whole file,
  write it whole).
- after: :class:`paretokit.study.export.StudySync`: decode the records of the trials finished
  since the last batch and append them as a part (:class:`~paretokit.results_append.
  ResultsAppender`); the parts are folded into the file once at the end (timed too).

Printed: the mean time per batch around N = 100 and at the last trials, the whole sweep's total,
and the ratio before/after. Both paths write to their own file in the same temporary folder,
alternating batch by batch, so a busy machine slows both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import optuna  # noqa: E402

from paretokit.results import (  # noqa: E402
    ResultsMeta,
    RunRecord,
    TaskMeta,
    append_results,
    existing_run_ids,
    read_results,
)
from paretokit.sampling import search_space  # noqa: E402
from paretokit.study.export import StudySync  # noqa: E402
from paretokit.study.records import RECORD, encode, study_records  # noqa: E402

TASKS = ["a", "b", "c"]
META = ResultsMeta("synthetic", tuple(TaskMeta(t, "mse", False) for t in TASKS))
SEEDS = 3


def add_trial(study: optuna.Study, number: int) -> None:
    """One finished trial with its seed records, as a sweep's batch leaves it."""
    w = [0.2, 0.3, 0.5]
    records = [
        RunRecord(
            study="bench",
            problem="synthetic",
            run_id=f"sweep:bench:{number}:s{seed}",
            kind="sweep",
            method="sweep",
            seed=seed,
            task_names=TASKS,
            epochs=1,
            batch_size=32,
            lr=1e-3,
            device="cpu",
            weights=w,
            metrics={"val": [0.1 * seed, 0.2, 0.3], "test": [0.1, 0.2, 0.3 + number]},
            losses={"val": [0.1, 0.2, 0.3], "test": [0.1, 0.2, 0.3]},
            train_seconds=1.0,
            step_ms=1.0,
            trial=number,
        )
        for seed in range(SEEDS)
    ]
    study.add_trial(
        optuna.trial.create_trial(
            params={f"u{i}": 0.5 for i in range(len(TASKS))},
            distributions=search_space(len(TASKS)),
            values=[0.1, 0.2, 0.3],
            user_attrs={RECORD: encode(records)},
        )
    )


def old_sync(study: optuna.Study, out: Path) -> int:
    """The bookkeeping after a batch before this change (sweep.py's ``_sync_results``)."""
    have = existing_run_ids(out)
    rows = [
        r for rec in study_records(study, META)[0] if rec.run_id not in have for r in rec.rows()
    ]
    return append_results(out, rows, META) if rows else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(directions=["minimize"] * len(TASKS))
    before, after = [], []
    with tempfile.TemporaryDirectory() as tmp:
        old_out, new_out = Path(tmp) / "before.parquet", Path(tmp) / "after.parquet"
        sync = StudySync(study, new_out, META)
        for n in range(args.trials):
            add_trial(study, n)
            t0 = time.perf_counter()
            old_sync(study, old_out)
            t1 = time.perf_counter()
            sync()
            t2 = time.perf_counter()
            before.append(t1 - t0)
            after.append(t2 - t1)
        t0 = time.perf_counter()
        sync.close()
        fold = time.perf_counter() - t0
        a, b = read_results(old_out).frame, read_results(new_out).frame
        assert len(a) == len(b) == 2 * SEEDS * args.trials
        assert a["run_id"].tolist() == b["run_id"].tolist()
    report(before, after, fold, args.trials)


def report(before: list[float], after: list[float], fold: float, trials: int) -> None:
    def per_batch(times: list[float], n: int) -> float:
        window = times[max(0, n - 10) : n + 10]
        return 1e3 * statistics.mean(window)

    points = sorted({min(100, trials - 1), trials - 10})
    print(f"results bookkeeping of a {trials}-trial sweep ({SEEDS} seeds, {len(TASKS)} tasks,")
    print("one trial per batch), ms per batch (mean of 20 batches around N):")
    print(f"{'N':>6} {'before':>10} {'after':>10} {'before/after':>13}")
    for n in points:
        b, a = per_batch(before, n), per_batch(after, n)
        print(f"{n:>6} {b:>10.2f} {a:>10.2f} {b / a:>12.1f}x")
    total_b, total_a = sum(before), sum(after) + fold
    print(f"total  {total_b:>9.1f}s {total_a:>9.1f}s {total_b / total_a:>12.1f}x")
    print(f"(after includes folding the parts into the file once at the end: {fold:.2f} s)")


if __name__ == "__main__":
    main()
