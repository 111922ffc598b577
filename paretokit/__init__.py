"""paretokit: adaptive multi-task optimization methods against a swept linear-scalarization
Pareto frontier, on the same models, data, seeds and budget.

The public API, importable from here::

    from paretokit import get_method, get_problem, read_results, build_reports, ParetokitError

The names are resolved lazily (module ``__getattr__``, PEP 562): ``import paretokit`` itself
imports neither torch nor optuna nor cvxpy, so the commands that need none of them stay fast.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from paretokit._lazy import lazy_names
from paretokit.errors import (
    MethodError,
    ParetokitError,
    ProblemError,
    ResultsFileError,
    StorageError,
    TrainingDiverged,
)

try:
    __version__ = version("paretokit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

# public name -> module that defines it (imported on first access)
_LAZY = {
    "get_method": "paretokit.methods",
    "method_names": "paretokit.methods",
    "get_problem": "paretokit.problems",
    "read_results": "paretokit.results",
    "build_reports": "paretokit.report",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)

__all__ = [
    "MethodError",
    "ParetokitError",
    "ProblemError",
    "ResultsFileError",
    "StorageError",
    "TrainingDiverged",
    "__version__",
    "build_reports",
    "get_method",
    "get_problem",
    "method_names",
    "read_results",
]
