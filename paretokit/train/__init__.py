"""The training engine: device, seeding, per-task gradients, one epoch driver, single runs
and populations."""

from paretokit.train.device import DEVICE_CHOICES, describe_device, resolve_device, use_threads
from paretokit.train.epochs import CHECKPOINTS, check_checkpoint, checkpoint_score, run_epochs
from paretokit.train.loop import (
    RunConfig,
    RunResult,
    Trainer,
    TrainingDiverged,
    evaluate,
    to_device,
    train_run,
)
from paretokit.train.population import auto_population_size, train_population

__all__ = [
    "CHECKPOINTS",
    "DEVICE_CHOICES",
    "RunConfig",
    "RunResult",
    "TrainingDiverged",
    "auto_population_size",
    "check_checkpoint",
    "checkpoint_score",
    "describe_device",
    "Trainer",
    "evaluate",
    "resolve_device",
    "run_epochs",
    "to_device",
    "train_population",
    "train_run",
    "use_threads",
]
