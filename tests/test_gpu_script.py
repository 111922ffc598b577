"""bench/gpu.sh: it parses, and its CPU-safe parts run (``--cpu-only``) on a machine without
a GPU; the GPU numbers themselves need a CUDA machine (README, "GPU")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "gpu.sh"


def test_gpu_script_parses_and_refuses_bad_arguments(tmp_path):
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    for args in ([], [str(tmp_path), "--gpu-please"]):
        done = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True)
        assert done.returncode == 2 and done.stderr.startswith("usage: bench/gpu.sh LOGDIR")


@pytest.mark.slow
def test_gpu_script_cpu_only_runs_every_cpu_safe_step(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        ["bash", str(SCRIPT), str(tmp_path), "--cpu-only"], capture_output=True, text=True, env=env
    )
    summary = (tmp_path / "summary.txt").read_text()
    assert done.returncode == 0, summary + done.stdout + done.stderr
    steps = [line.split()[0] for line in summary.splitlines()]
    assert steps == ["env", "tests", "sweep", "methods", "gnn", "gpu"]
    assert "skipped (--cpu-only" in summary
    assert "ratio" in (tmp_path / "sweep.log").read_text()
    assert "ratio to LS" in (tmp_path / "methods.log").read_text()
