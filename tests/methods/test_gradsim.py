"""GradSim: auxiliary gradients gated by their cosine with the main task's (Du et al., 2018)."""

from __future__ import annotations

import pytest
import torch

from paretokit.errors import MethodError
from paretokit.methods import get_method, method_class

from ._asserts import assert_shape_and_finite, assert_weights_give_direction
from ._matrices import FAMILIES, KS


def _cosines(G: torch.Tensor, main: int) -> torch.Tensor:
    """cos(g_main, g_k), straight from the rows of G."""
    return torch.stack([(G[main] @ g) / (G[main].norm() * g.norm()) for g in G])


@pytest.mark.parametrize("variant", ["unweighted", "weighted"])
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("k", KS)
def test_weights_follow_the_definition(k, family, variant):
    G = FAMILIES[family](k)
    main = k // 2
    m = get_method("gradsim", k, main_task=main, variant=variant)
    d, w = m.combine(G)
    assert_shape_and_finite(d, G)
    assert_weights_give_direction(w, d, G)
    cos = _cosines(G, main)
    expected = (cos > 0).double() if variant == "unweighted" else cos.clamp_min(0)
    expected[main] = 1.0
    torch.testing.assert_close(w, expected, rtol=1e-10, atol=1e-12)
    # the direction never conflicts with the main task
    assert d @ G[main] >= -1e-10 * d.norm() * G[main].norm()


def test_two_tasks_by_hand():
    G = torch.tensor([[1.0, 0.0], [1.0, 1.0], [-1.0, 1.0]], dtype=torch.float64)
    w = get_method("gradsim", 3).weights(G)
    torch.testing.assert_close(
        w, torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64), rtol=0, atol=0
    )
    w = get_method("gradsim", 3, variant="weighted").weights(G)
    torch.testing.assert_close(
        w, torch.tensor([1.0, 2**-0.5, 0.0], dtype=torch.float64), rtol=1e-15, atol=0
    )
    w = get_method("gradsim", 3, main_task=2, variant="weighted").weights(G)
    torch.testing.assert_close(
        w, torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64), rtol=0, atol=0
    )


def test_gramian_only_and_zero_gradients():
    G = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    m = get_method("gradsim", 2)
    torch.testing.assert_close(
        m.gramian_weights(G @ G.T), torch.tensor([1.0, 0.0], dtype=torch.float64), rtol=0, atol=0
    )
    G = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    w = get_method("gradsim", 2, variant="weighted").weights(G)
    torch.testing.assert_close(w, torch.tensor([1.0, 0.0], dtype=torch.float64), rtol=0, atol=0)


def test_weights_follow_dtype():
    assert get_method("gradsim", 3).weights(FAMILIES["typical"](3).float()).dtype == torch.float32


@pytest.mark.parametrize(
    "opts", [{"main_task": 3}, {"main_task": -1}, {"main_task": True}, {"variant": "soft"}]
)
def test_bad_options_raise(opts):
    with pytest.raises(MethodError, match="gradsim"):
        get_method("gradsim", 3, **opts)


def test_paper_defaults_and_citation():
    cls = method_class("gradsim")
    assert cls.option_defaults() == {"main_task": 0, "variant": "unweighted"}
    assert get_method("gradsim", 3).options() == cls.option_defaults()
    assert "arxiv.org/abs/" in cls.citation and cls.summary
