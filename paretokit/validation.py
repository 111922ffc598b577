"""Checks of user input that every command shares, run once before any work.

``None`` means "the default" and nothing else does: ``epochs=0`` is an error, never the
problem's default. Integers are whole numbers (a bool is not one), the learning rate is a
finite positive number, and seeds lie in the range every generator the engine seeds can honour
(NumPy's legacy generator takes 0 … 2³² − 1; a larger seed would silently wrap around to the
numbers of a smaller one).
"""

from __future__ import annotations

import math
import re
from typing import Any

from paretokit.errors import ParetokitError

SEED_MAX = 2**32 - 1  # NumPy's legacy seeding takes 32 bits; beyond, seeds would alias
# training seeds per method and per sweep trial when neither the user nor the problem says:
# a verdict never rests on one seed (a problem may set its own, e.g. toy: its five starts)
DEFAULT_SEEDS = 3


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int ≥ 1, or a :class:`ParetokitError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParetokitError(f"{name} must be a whole number ≥ 1, got {value!r}")
    return int(value)


def positive_float(value: Any, name: str) -> float:
    """``value`` as a finite float > 0, or a :class:`ParetokitError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParetokitError(f"{name} must be a finite number > 0, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ParetokitError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def seed(value: Any, name: str = "seed") -> int:
    """A seed in 0 … :data:`SEED_MAX`; anything else is refused (it could not be honoured)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise ParetokitError(f"{name} must be a whole number from 0 to {SEED_MAX}, got {value!r}")
    return int(value)


def training_budget(defaults: Any, epochs: Any, batch_size: Any, lr: Any) -> tuple[int, int, float]:
    """(epochs, batch size, learning rate): each given value checked, each ``None`` replaced
    by the problem's default (``defaults`` has ``epochs``, ``batch_size`` and ``lr``)."""
    return (
        positive_int(defaults.epochs if epochs is None else epochs, "epochs"),
        positive_int(defaults.batch_size if batch_size is None else batch_size, "batch size"),
        positive_float(defaults.lr if lr is None else lr, "learning rate"),
    )


def seed_count(defaults: Any, seeds: Any) -> int:
    """The number of training seeds S (seeds 0 … S−1, or from a first seed on): ``seeds``
    checked, or ``None`` → the problem's default (``defaults.seeds``; :data:`DEFAULT_SEEDS`
    for a problem whose defaults do not say)."""
    if seeds is None:
        seeds = getattr(defaults, "seeds", DEFAULT_SEEDS)
    return positive_int(seeds, "the number of seeds")


def optional_filter(epochs: Any, batch_size: Any, lr: Any) -> None:
    """The same checks for the options that pick a training setting out of a results file
    (``None``: any)."""
    if epochs is not None:
        positive_int(epochs, "epochs")
    if batch_size is not None:
        positive_int(batch_size, "batch size")
    if lr is not None:
        positive_float(lr, "learning rate")


_PROBLEM_OPTIONS = re.compile(r"^([A-Za-z_]\w*)\((.*)\)$", re.DOTALL)


def problem_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """A built-in problem's name and options: ``toy(scale=1)`` → ("toy", {"scale": 1}).

    Options are ``key=value`` pairs separated by commas; a value is read as an int, else a
    float, else ``true``/``false``, else kept as text. A name without parentheses has no
    options. Anything else in parentheses is a :class:`ParetokitError`.
    """
    match = _PROBLEM_OPTIONS.match(spec.strip())
    if match is None:
        return spec, {}
    name, body = match.groups()
    options: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in body.split(","))):
        key, eq, text = (s.strip() for s in part.partition("="))
        if not eq or not key.isidentifier() or not text:
            raise ParetokitError(
                f"problem {spec!r}: options are key=value pairs separated by commas, not {part!r}"
            )
        if key in options:
            raise ParetokitError(f"problem {spec!r}: option {key!r} is given twice")
        options[key] = _option_value(text)
    return name, options


def _option_value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)
