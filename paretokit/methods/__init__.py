"""Adaptive multi-task optimization methods: one private module each, the classes exported.

>>> from paretokit.methods import NashMTL, get_method
>>> m = NashMTL(3)                             # or get_method("nashmtl", n_tasks=3)
>>> d = m.aggregate(G)                         # G: (K, D) task gradients -> (D,) direction
>>> w = m.weights(G)                           # (K,) weights with d = wᵀG (``has_weights``)

:data:`REGISTRY` maps each method's name to its class, in listing order (the seed papers'
methods as Nash-MTL's experiments list them, then the newer ones). Adding a method means
adding its module and one line here.
"""

from __future__ import annotations

from typing import Any

from paretokit.errors import MethodError
from paretokit.methods._alignedmtl import AlignedMTL
from paretokit.methods._base import GradientAggregation, GramianWeighting, LossWeighting, Method
from paretokit.methods._cagrad import CAGrad
from paretokit.methods._dbmtl import DualBalancing
from paretokit.methods._dwa import DynamicWeightAverage
from paretokit.methods._fairgrad import FairGrad
from paretokit.methods._famo import FAMO
from paretokit.methods._fixed import FixedWeights, LinearScalarization, SingleTask
from paretokit.methods._graddrop import GradDrop
from paretokit.methods._gradnorm import GradNorm
from paretokit.methods._gradsim import GradientSimilarity
from paretokit.methods._imtl import IMTLG
from paretokit.methods._metabalance import MetaBalance
from paretokit.methods._mgda import MGDA
from paretokit.methods._nashmtl import NashMTL
from paretokit.methods._pcgrad import PCGrad
from paretokit.methods._rlw import RandomLossWeighting
from paretokit.methods._si import ScaleInvariant
from paretokit.methods._upgrad import UPGrad
from paretokit.methods._uw import UncertaintyWeighting

_CLASSES: tuple[type[Method], ...] = (
    SingleTask,
    LinearScalarization,
    ScaleInvariant,
    RandomLossWeighting,
    DynamicWeightAverage,
    UncertaintyWeighting,
    GradNorm,
    MGDA,
    PCGrad,
    GradDrop,
    CAGrad,
    IMTLG,
    NashMTL,
    GradientSimilarity,
    MetaBalance,
    FAMO,
    AlignedMTL,
    UPGrad,
    FairGrad,
    DualBalancing,
)
REGISTRY: dict[str, type[Method]] = {cls.name: cls for cls in _CLASSES}
assert len(REGISTRY) == len(_CLASSES), "two methods share a name"


def method_names() -> list[str]:
    """Registered method names, in listing order (`paretokit methods`)."""
    return list(REGISTRY)


def method_class(name: str) -> type[Method]:
    """The class registered as ``name``; an unknown name lists the known ones."""
    if name not in REGISTRY:
        raise MethodError(f"unknown method {name!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def get_method(name: str, n_tasks: int, seed: int = 0, **options: Any) -> Method:
    """A fresh method instance. Options are checked against the method's declared defaults:
    unknown names and values of the wrong type (``c="abc"``, ``c=nan``, an int option given
    1.5, a bool option given "maybe") raise :class:`~paretokit.errors.MethodError`."""
    return method_class(name)(n_tasks, seed=seed, **options)


__all__ = [
    "FAMO",
    "IMTLG",
    "MGDA",
    "REGISTRY",
    "AlignedMTL",
    "CAGrad",
    "DualBalancing",
    "DynamicWeightAverage",
    "FairGrad",
    "FixedWeights",
    "GradDrop",
    "GradNorm",
    "GradientAggregation",
    "GradientSimilarity",
    "GramianWeighting",
    "LinearScalarization",
    "LossWeighting",
    "MetaBalance",
    "Method",
    "NashMTL",
    "PCGrad",
    "RandomLossWeighting",
    "ScaleInvariant",
    "SingleTask",
    "UPGrad",
    "UncertaintyWeighting",
    "get_method",
    "method_class",
    "method_names",
]
