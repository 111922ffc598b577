"""Built-in benchmark problems and the registry that finds them by name.

``get_problem("qm9", tasks=3)`` builds a built-in problem; ``get_problem("pkg.mod:factory")``
imports a user's factory, called as ``factory(tasks=...)``, which must return a
:class:`~paretokit.problems.Problem`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

from paretokit.errors import ProblemError
from paretokit.problems._base import (
    MultiTaskModel,
    Problem,
    Split,
    TaskSpec,
    TrainDefaults,
    resolve_tasks,
)

# name -> "module:class", imported on demand so listing problems stays cheap
_BUILTINS: dict[str, str] = {
    "qm9": "paretokit.problems.qm9:QM9",
    "multidigits": "paretokit.problems.multidigits:MultiDigits",
    "synthetic": "paretokit.problems.synthetic:Synthetic",
}

DEFAULT_PROBLEM = "qm9"


def builtin_problems() -> list[str]:
    return list(_BUILTINS)


def _import(spec: str) -> Callable[..., Problem]:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProblemError(f"cannot import problem module {module_name!r}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ProblemError(f"module {module_name!r} has no attribute {attr!r}") from exc


def problem_class(name: str) -> type[Problem]:
    """The class of a built-in problem."""
    if name not in _BUILTINS:
        raise ProblemError(
            f"unknown problem {name!r}; known: {', '.join(_BUILTINS)} "
            "(or give your own as package.module:factory)"
        )
    return _import(_BUILTINS[name])  # type: ignore[return-value]


def get_problem(name: str, tasks: int | str | Sequence[str] | None = None) -> Problem:
    """A problem by built-in name or ``package.module:factory``, with its task selection."""
    factory = _import(name) if ":" in name else problem_class(name)
    problem = factory(tasks=tasks)
    if not isinstance(problem, Problem):
        raise ProblemError(f"{name!r} returned {type(problem).__name__}, not a paretokit Problem")
    return problem


__all__ = [
    "DEFAULT_PROBLEM",
    "MultiTaskModel",
    "Problem",
    "Split",
    "TaskSpec",
    "TrainDefaults",
    "builtin_problems",
    "get_problem",
    "problem_class",
    "resolve_tasks",
]
