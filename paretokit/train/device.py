"""Choosing the torch device for a run, and its CPU threads."""

from __future__ import annotations

import os

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


THREADS_ENV = "OMP_NUM_THREADS"


def use_threads(threads: int | None = None) -> int:
    """Set torch's intra-op CPU threads for this process and return how many it uses.

    ``None``: ``$OMP_NUM_THREADS`` when set, else 1. The models of the built-in problems are
    small (a step is a few milliseconds): a second thread gains little on an idle machine, and
    costs several times over when other processes share the cores (the threads spin waiting
    for each other); ``bench/threads.py`` measures both.
    """
    if threads is None:
        raw = os.environ.get(THREADS_ENV, "").strip()
        if not raw:
            threads = 1
        else:
            try:
                threads = int(raw)
            except ValueError:
                threads = 0
            if threads < 1:
                raise ParetokitError(f"{THREADS_ENV}={raw!r} is not a thread count ≥ 1")
    if threads < 1:
        raise ParetokitError(f"--threads must be at least 1, not {threads}")
    torch.set_num_threads(threads)
    return torch.get_num_threads()
