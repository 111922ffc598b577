"""What a sweep is asked to do, the hooks a front end gives it, and what it returns.

Plain dataclasses that import neither torch nor optuna, so a front end (the CLI, a study file)
can build a :class:`SweepConfig` before deciding to train anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from paretokit.validation import DEFAULT_SEEDS  # noqa: F401 (re-exported: paretokit.study)

if TYPE_CHECKING:
    import pandas as pd

    from paretokit.results import Results, RunRecord
    from paretokit.study.workers import TrialCounts


STORAGE_FILE = "paretokit-studies.db"  # the default SQLite storage, next to the results file


@dataclass
class SweepConfig:
    """What ``paretokit sweep`` runs; None means the problem's default."""

    problem: str = "qm9"
    tasks: str | int | Sequence[str] | None = None
    trials: int = 16  # the study's total budget, across all workers
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int = 0  # the sampler's seed and the first training seed (see run_sweep)
    # training seeds per trial: seed, seed + 1, …, seed + seeds − 1 (None: the problem's, 3 but
    # for toy: 5)
    seeds: int | None = None
    checkpoint: str = "last"  # evaluate each run at its last or its best epoch (train.epochs)
    model: str | None = None  # the problem's model (None: its default; qm9: mlp or gnn)
    storage: str | None = None
    study_name: str | None = None
    out: Path = Path("results.parquet")
    device: str = "auto"
    sampler: str = "dirichlet"  # one of paretokit.sampling.SAMPLERS
    grid_resolution: int | None = None  # grid sampler: lattice resolution (default: fits trials)
    population: int | str = 1  # trials trained at once as one batched model, or "auto"
    count_failed: bool = False  # whether failed trials (e.g. NaN loss) use up budget
    heartbeat_interval: int = 60  # seconds between a running trial's heartbeats
    grace_period: int = 180  # seconds without a heartbeat before a trial is failed and retried
    threads: int | None = None  # torch CPU threads (None: $OMP_NUM_THREADS, else 1)


@dataclass
class SweepCallbacks:
    """Progress hooks for a front end; all optional. Counts are the study's, across workers."""

    on_start: Callable[[str, TrialCounts, int], None] | None = None  # study, counts, budget
    on_batch_start: Callable[[list[int], list[list[float]]], None] | None = None  # numbers, w
    on_epoch: Callable[[int, int], None] | None = None  # epoch, epochs
    on_trial_end: Callable[[int, str, str], None] | None = None  # number, status, error
    on_progress: Callable[[TrialCounts], None] | None = None  # after each batch, while waiting
    on_wait: Callable[[TrialCounts], None] | None = None  # no free slot: others' trials run
    on_record: Callable[[RunRecord], None] | None = None  # a finished trial, as stored
    on_ask: Callable[[int, int], None] | None = None  # trials asked so far, of how many


@dataclass
class SweepOutcome:
    """What a sweep did and where its results are."""

    study_name: str
    storage: str
    out: Path
    finished: int  # trials that count against the budget
    new_trials: int  # trials this worker finished (complete or failed)
    failed: int  # trials of the study that failed with a reason
    frontier: pd.DataFrame
    results: Results | None
    problem: str
    tasks: list[str] = field(default_factory=list)
    complete: int = 0
    population: int = 1
