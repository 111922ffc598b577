"""Built-in benchmark problems and the registry that finds them by name.

``get_problem("qm9", tasks=3)`` builds a built-in problem; ``get_problem("pkg.mod:factory")``
imports a user's factory, called as ``factory(tasks=...)``, which must return a
:class:`~paretokit.problems.Problem`.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Sequence

from paretokit.errors import ProblemError
from paretokit.problems._base import (
    MultiTaskModel,
    Problem,
    Split,
    TaskSpec,
    TrainDefaults,
    resolve_model,
    resolve_tasks,
)
from paretokit.validation import problem_spec

# name -> "module:class", imported on demand so listing problems stays cheap
_BUILTINS: dict[str, str] = {
    "qm9": "paretokit.problems.qm9:QM9",
    "multifashion": "paretokit.problems.multifashion:MultiFashion",
    "multidigits": "paretokit.problems.multidigits:MultiDigits",
    "synthetic": "paretokit.problems.synthetic:Synthetic",
    "toy": "paretokit.problems.toy:Toy",
}

DEFAULT_PROBLEM = "qm9"


def builtin_problems() -> list[str]:
    return list(_BUILTINS)


_SPEC = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*$")


def _import(spec: str) -> Callable[..., Problem]:
    if not _SPEC.match(spec):
        raise ProblemError(
            f"{spec!r} is not a problem: name a built-in one or a factory as package.module:name"
        )
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


def get_problem(
    name: str, tasks: int | str | Sequence[str] | None = None, model: str | None = None
) -> Problem:
    """A problem by built-in name or ``package.module:factory``, with its task selection and
    model (``None``: the problem's default; a factory is called with ``model=`` only when one
    is asked for).

    A built-in name may carry the problem's options: ``toy(scale=1)`` builds
    ``Toy(tasks=..., scale=1)`` (:func:`paretokit.validation.problem_spec`)."""
    if ":" not in name:
        base, options = problem_spec(name)
        cls = problem_class(base)
        if model is not None and resolve_model(model, cls.models, base) != cls.models[0]:
            options = {**options, "model": model}
        try:
            inspect.signature(cls).bind(tasks=tasks, **options)
        except TypeError:
            accepted = [p for p in inspect.signature(cls).parameters if p != "tasks"]
            raise ProblemError(
                f"problem {base!r} takes the options {', '.join(accepted) or '(none)'}, "
                f"not {', '.join(sorted(options))}"
            ) from None
        return cls(tasks=tasks, **options)
    factory = _import(name)
    kwargs: dict[str, object] = (
        {"tasks": tasks} if model is None else {"tasks": tasks, "model": model}
    )
    call = "f(tasks=...)" if model is None else "f(tasks=..., model=...)"
    what = f"{name!r} ({type(factory).__name__})"
    if not callable(factory):
        raise ProblemError(f"{what} is not a problem factory: it must be a callable f(tasks=...)")
    if isinstance(factory, type) and inspect.isabstract(factory):
        raise ProblemError(f"{what} is abstract: name a concrete Problem subclass or a factory")
    try:
        signature = inspect.signature(factory)
        signature.bind(**kwargs)
    except (TypeError, ValueError):  # no signature (a builtin), or no `tasks`/`model` keyword
        takes = "the task selection" if model is None else "the task selection and a model"
        raise ProblemError(f"{what} cannot be called as {call}: it must take {takes}") from None
    problem = factory(**kwargs)
    if not isinstance(problem, Problem):
        raise ProblemError(f"{name!r} returned {type(problem).__name__}, not a paretokit Problem")
    if model is not None and problem.model != model:
        raise ProblemError(f"{name!r} was asked for model {model!r} and built {problem.model!r}")
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
    "resolve_model",
    "resolve_tasks",
]
