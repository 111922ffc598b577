"""Methods as library objects: exported classes, the explicit registry, the d = wᵀG invariant
of every method with weights, and typed options."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch

import paretokit.methods as methods
from paretokit.errors import MethodError, TrainingDiverged
from paretokit.methods import REGISTRY, GradientAggregation, get_method, method_names
from tests.methods._matrices import FAMILIES

WITH_WEIGHTS = [
    n for n, cls in REGISTRY.items() if issubclass(cls, GradientAggregation) and cls.has_weights
]


def test_every_registered_class_is_exported_under_its_class_name():
    for name, cls in REGISTRY.items():
        assert getattr(methods, cls.__name__) is cls, name
        assert cls.__name__ in methods.__all__
    assert method_names()[:3] == ["stl", "ls", "si"]
    assert set(method_names()) == set(REGISTRY)


def test_classes_and_get_method_are_the_same_thing():
    from paretokit.methods import NashMTL, UPGrad

    assert isinstance(get_method("upgrad", 3), UPGrad)
    G = FAMILIES["typical"](3)
    torch.testing.assert_close(NashMTL(3).aggregate(G), get_method("nashmtl", 3).aggregate(G))


def test_unknown_method_lists_the_known_ones():
    with pytest.raises(MethodError, match="known: stl, ls"):
        get_method("nash", 3)


@pytest.mark.parametrize("name", WITH_WEIGHTS)
@pytest.mark.parametrize("fam", list(FAMILIES))
@pytest.mark.parametrize("k", [2, 3, 10])
def test_aggregate_equals_weights_times_g(name, fam, k):
    """has_weights ⇒ aggregate(G) == weights(G) @ G (fresh instances with the same seed)."""
    G = FAMILIES[fam](k)
    losses = torch.linspace(0.5, 2.0, k, dtype=G.dtype)
    d = get_method(name, k, seed=3).aggregate(G, losses)
    w = get_method(name, k, seed=3).weights(G, losses)
    assert torch.isfinite(d).all() and torch.isfinite(w).all()
    torch.testing.assert_close(d, w @ G, rtol=1e-10, atol=1e-10 * float(G.abs().max()))


AGGREGATIONS = [n for n, cls in REGISTRY.items() if issubclass(cls, GradientAggregation)]


@pytest.mark.parametrize("name", AGGREGATIONS)
@pytest.mark.parametrize("fam", ["typical", "badly_scaled", "rank_deficient"])
def test_combine_blocks_is_combine_on_the_concatenated_blocks(name, fam):
    """The engine's per-parameter path: same direction (cut into the blocks' shapes), same
    weights and the same step count as ``combine`` on G = [B_1 | B_2 | B_3] (float64: the
    Gramian summed by blocks differs from GGᵀ by rounding only, which an ill-conditioned
    Gramian amplifies to ~1e-8 in the weights, hence rtol 1e-6)."""
    k = 5
    G = FAMILIES[fam](k, d=60)
    blocks = [G[:, :24].reshape(k, 4, 6), G[:, 24:30], G[:, 30:].reshape(k, 3, 2, 5)]
    losses = torch.linspace(0.5, 2.0, k, dtype=G.dtype)
    whole, by_blocks = get_method(name, k, seed=3), get_method(name, k, seed=3)
    for _ in range(3):  # stateful methods (warm starts, moving averages) stay in step
        d, w = whole.combine(G, losses)
        parts, wb = by_blocks.combine_blocks(blocks, losses)
        assert [p.shape for p in parts] == [b.shape[1:] for b in blocks]
        flat = torch.cat([p.reshape(-1) for p in parts])
        torch.testing.assert_close(flat, d, rtol=1e-6, atol=1e-9 * float(G.abs().max()))
        assert (w is None) == (wb is None)
        if w is not None:
            torch.testing.assert_close(wb, w, rtol=1e-6, atol=1e-9)
    assert by_blocks.step_count == whole.step_count == 3


def test_every_method_counts_its_steps():
    for name in method_names():
        m = get_method(name, 3)
        G = FAMILIES["typical"](3)
        losses = torch.tensor([1.0, 2.0, 0.5], dtype=G.dtype)
        for _ in range(2):
            if isinstance(m, GradientAggregation):
                m.combine(G, losses)
            else:
                m.loss(losses.clone().requires_grad_())
                if m.needs_post_step_losses:
                    m.after_step(losses * 0.9)
        assert m.step_count == 2, name
        m.reset()
        assert m.step_count == 0


@pytest.mark.parametrize(
    "name, options, match",
    [
        ("cagrad", {"c": "abc"}, "cagrad: option c must be a finite number, got 'abc'"),
        ("cagrad", {"c": math.nan}, "cagrad: option c must be a finite number, got nan"),
        ("cagrad", {"c": math.inf}, "option c must be a finite number, got inf"),
        ("cagrad", {"c": float("1e400")}, "option c must be a finite number"),
        ("cagrad", {"c": True}, "option c must be a finite number"),
        ("mgda", {"feature_level": "maybe"}, "mgda: option feature_level must be true or false"),
        ("mgda", {"feature_level": 1}, "option feature_level must be true or false"),
        ("nashmtl", {"update_every": 1.5}, "nashmtl: option update_every must be an integer"),
        ("nashmtl", {"update_every": True}, "option update_every must be an integer"),
        ("mgda", {"normalization": 3}, "option normalization must be a string"),
        ("famo", {"min_losses": "0"}, "option min_losses must be a list of finite numbers"),
        ("famo", {"min_losses": [0.0, math.nan, 0]}, "min_losses must be a list of finite"),
        ("cagrad", {"cc": 0.1}, "do not apply to method 'cagrad'; its options: c, rescale"),
    ],
)
def test_options_are_typed_from_their_defaults(name, options, match):
    with pytest.raises(MethodError, match=match.replace("(", r"\(")):
        get_method(name, 3, **options)
    cls = REGISTRY[name]
    with pytest.raises(MethodError, match="option"):
        cls(3, **options)  # constructing the class directly checks the same way


def test_options_accept_their_types_and_ints_for_floats():
    m = get_method("cagrad", 3, c=1, rescale=2)
    assert m.c == 1.0 and isinstance(m.c, float) and m.rescale == 2
    assert get_method("famo", 3, min_losses=[0, 0.5, 1]).min_losses == (0.0, 0.5, 1.0)
    assert get_method("mgda", 3, feature_level=True).feature_level is True


def test_training_diverged_lives_in_errors_and_train_reexports_it():
    from paretokit.train import TrainingDiverged as from_train

    assert from_train is TrainingDiverged


def test_top_level_api_is_lazy():
    """``import paretokit`` (and its errors) loads no torch, optuna or cvxpy; the API names
    resolve on first use."""
    code = (
        "import sys, paretokit; "
        "from paretokit import ParetokitError, TrainingDiverged; "
        "heavy = [m for m in ('torch', 'optuna', 'cvxpy') if m in sys.modules]; "
        "assert not heavy, heavy; "
        "from paretokit import get_method, get_problem, read_results, build_reports; "
        "assert callable(get_method) and callable(build_reports); print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
