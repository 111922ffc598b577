"""The training engine: device, seeding, per-task gradients, the loop and evaluation."""

from paretokit.train.device import DEVICE_CHOICES, describe_device, resolve_device
from paretokit.train.loop import (
    RunConfig,
    RunResult,
    Trainer,
    TrainingDiverged,
    evaluate,
    to_device,
    train_run,
)

__all__ = [
    "DEVICE_CHOICES",
    "RunConfig",
    "RunResult",
    "TrainingDiverged",
    "describe_device",
    "Trainer",
    "evaluate",
    "resolve_device",
    "to_device",
    "train_run",
]
