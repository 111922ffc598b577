"""The training engine: device, seeding, per-task gradients, the loop and evaluation."""

from paretokit.train.device import DEVICE_CHOICES, describe_device, resolve_device, use_threads
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
    "DEVICE_CHOICES",
    "RunConfig",
    "RunResult",
    "TrainingDiverged",
    "auto_population_size",
    "describe_device",
    "Trainer",
    "evaluate",
    "resolve_device",
    "to_device",
    "train_population",
    "train_run",
    "use_threads",
]
