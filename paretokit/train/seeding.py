"""Seeding: same seed and device ⇒ identical numbers."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, device: torch.device) -> torch.Generator:
    """Seed Python, NumPy and torch, make CUDA kernels deterministic, and return the
    generator that orders the training data (on the CPU, so the order is device-independent).
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)
    return torch.Generator().manual_seed(seed)
