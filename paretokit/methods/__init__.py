"""Adaptive multi-task optimization methods, one module each, found by name.

>>> from paretokit.methods import get_method
>>> m = get_method("nashmtl", n_tasks=3)       # options as keyword arguments
>>> d = m.aggregate(G)                         # G: (K, D) task gradients -> (D,) direction
>>> w = m.weights(G)                           # (K,) weights, for methods whose direction is wᵀG

Every module ``paretokit/methods/_<name>.py`` that defines a :class:`Method` subclass with a
``name`` is registered automatically; shared helpers live in modules listed in ``_NOT_METHODS``.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from paretokit.errors import MethodError
from paretokit.methods._base import GradientAggregation, LossWeighting, Method

_NOT_METHODS = {"_base", "_solvers", "_simplex"}
_REGISTRY: dict[str, type[Method]] = {}


def _discover() -> dict[str, type[Method]]:
    if not _REGISTRY:
        found: dict[str, type[Method]] = {}
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            if not info.name.startswith("_") or info.name in _NOT_METHODS:
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            for obj in vars(module).values():
                if (
                    isinstance(obj, type)
                    and issubclass(obj, Method)
                    and obj.__module__ == module.__name__
                    and "name" in vars(obj)
                ):
                    if obj.name in found:
                        raise RuntimeError(f"method name {obj.name!r} registered twice")
                    found[obj.name] = obj
        _REGISTRY.update(found)
    return _REGISTRY


# Listing order: the seed papers' methods as Nash-MTL's experiments list them, then the newer.
_ORDER = (
    "stl ls si rlw dwa uw gradnorm mgda pcgrad graddrop cagrad imtl nashmtl gradsim "
    "metabalance famo alignedmtl upgrad fairgrad dbmtl"
).split()


def method_names() -> list[str]:
    """Registered method names, in listing order (`paretokit methods`)."""
    names = list(_discover())
    return sorted(names, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))


def method_class(name: str) -> type[Method]:
    registry = _discover()
    if name not in registry:
        raise MethodError(f"unknown method {name!r}; known: {', '.join(method_names())}")
    return registry[name]


def get_method(name: str, n_tasks: int, seed: int = 0, **options: Any) -> Method:
    """A fresh method instance; options not accepted by the method are an error."""
    cls = method_class(name)
    valid = cls.option_defaults()
    unknown = sorted(set(options) - set(valid))
    if unknown:
        accepted = ", ".join(valid) if valid else "none"
        raise MethodError(
            f"option(s) {', '.join(unknown)} do not apply to method {name!r}; "
            f"its options: {accepted}"
        )
    return cls(n_tasks, seed=seed, **options)


__all__ = [
    "GradientAggregation",
    "LossWeighting",
    "Method",
    "get_method",
    "method_class",
    "method_names",
]
