"""Choosing the torch device for a run."""

from __future__ import annotations

import torch

from paretokit.errors import ParetokitError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda``/``cuda:N`` must exist."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ParetokitError(f"unknown device {device!r}; use auto, cpu or cuda[:N]") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParetokitError("--device cuda asked for, but torch sees no CUDA device")
    if dev.type not in ("cpu", "cuda"):
        raise ParetokitError(f"unsupported device {device!r}; use auto, cpu or cuda[:N]")
    return dev


def describe_device(dev: torch.device) -> str:
    """A human-readable device name recorded with every result row."""
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"cpu ({torch.get_num_threads()} threads)"
