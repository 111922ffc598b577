"""paretokit: adaptive multi-task optimization methods against a swept linear-scalarization
Pareto frontier, on the same models, data, seeds and budget."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("paretokit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
