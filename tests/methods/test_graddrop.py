"""GradDrop: per coordinate keep one sign, positive with probability P (Chen et al., NeurIPS 2020)."""

from __future__ import annotations

import pytest
import torch

from paretokit.errors import MethodError
from paretokit.methods import get_method, method_class

from ._asserts import assert_reset_reproduces, assert_shape_and_finite
from ._matrices import FAMILIES, KS


def _purity(G: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1 + G.sum(0) / G.abs().sum(0))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("k", KS)
def test_sign_purity_of_every_output_coordinate(family, k):
    """Each output coordinate is the sum of all positive or of all negative task entries."""
    G = FAMILIES[family](k)
    d, w = get_method("graddrop", k).combine(G)
    assert w is None
    assert_shape_and_finite(d, G)
    pos = G.clamp_min(0).sum(0)
    neg = G.clamp_max(0).sum(0)
    picked_pos = d == pos
    picked_neg = d == neg
    assert (picked_pos | picked_neg).all()
    assert (d[picked_pos & ~picked_neg] > 0).all() and (d[picked_neg & ~picked_pos] < 0).all()


def test_mask_matches_the_seeded_uniforms():
    """P > U keeps the positive entries, P < U the negative ones; U is the seeded float64 draw."""
    G = FAMILIES["conflicting"](3, d=200)
    d = get_method("graddrop", 3, seed=4).aggregate(G)
    u = torch.rand(200, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    P = _purity(G)
    keep = ((P > u) & (G > 0)) | ((P < u) & (G < 0))
    torch.testing.assert_close(d, (G * keep).sum(0), rtol=0, atol=0)
    assert 0 < (P > u).sum() < 200  # both signs were chosen somewhere


def test_positive_sign_is_chosen_with_probability_p():
    """g_1 = +3, g_2 = −1 in every coordinate: P = ¾; the positive sign wins ¾ of the time (±5 sd)."""
    n = 20000
    G = torch.stack([torch.full((n,), 3.0), torch.full((n,), -1.0)]).double()
    d = get_method("graddrop", 2, seed=0).aggregate(G)
    assert set(d.unique().tolist()) <= {3.0, -1.0}
    frac = (d == 3.0).double().mean().item()
    assert abs(frac - 0.75) < 5 * (0.75 * 0.25 / n) ** 0.5


def test_agreeing_gradients_are_summed_and_zero_coordinates_stay_zero():
    G = torch.rand(4, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    G[:, :5] = 0.0
    G[:, 5:10] *= -1.0  # all negative there: P = 0 < U
    d = get_method("graddrop", 4).aggregate(G)
    torch.testing.assert_close(d, G.sum(0), rtol=1e-15, atol=0)
    assert torch.equal(d[:5], torch.zeros(5, dtype=torch.float64))


def test_leak():
    G = FAMILIES["conflicting"](3)
    full = get_method("graddrop", 3, leak=1.0).aggregate(G)
    torch.testing.assert_close(full, G.sum(0), rtol=1e-14, atol=1e-14)
    d = get_method("graddrop", 3, seed=2, leak=0.3).aggregate(G)
    u = torch.rand(G.shape[1], generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    P = _purity(G)
    keep = (((P > u) & (G > 0)) | ((P < u) & (G < 0))).double()
    torch.testing.assert_close(d, ((0.3 + 0.7 * keep) * G).sum(0), rtol=1e-14, atol=1e-14)


def test_gradient_target_follows_feature_level():
    assert get_method("graddrop", 2).gradient_target == "representation"
    assert get_method("graddrop", 2, feature_level=False).gradient_target == "parameters"


def test_same_seed_and_reset_replay():
    G = FAMILIES["conflicting"](5)
    a, b, c = (get_method("graddrop", 5, seed=s) for s in (1, 1, 2))
    da, db, dc = a.aggregate(G), b.aggregate(G), c.aggregate(G)
    torch.testing.assert_close(da, db, rtol=0, atol=0)
    assert not torch.equal(da, dc)
    assert_reset_reproduces(a, lambda m: [m.aggregate(G) for _ in range(3)], seed=1)


def test_float32_keeps_dtype():
    d = get_method("graddrop", 3).aggregate(FAMILIES["typical"](3).float())
    assert d.dtype == torch.float32


@pytest.mark.parametrize(
    "opts", [{"leak": -0.1}, {"leak": 1.5}, {"leak": float("nan")}, {"feature_level": "yes"}]
)
def test_bad_options_raise(opts):
    with pytest.raises(MethodError, match="graddrop"):
        get_method("graddrop", 2, **opts)


def test_has_no_weights_and_rejects_nan():
    m = get_method("graddrop", 2)
    with pytest.raises(MethodError, match="not a fixed combination"):
        m.weights(FAMILIES["typical"](2))
    G = FAMILIES["typical"](2)
    G[0, 0] = float("nan")
    with pytest.raises(MethodError, match="NaN"):
        m.aggregate(G)


def test_paper_defaults_and_citation():
    cls = method_class("graddrop")
    assert cls.option_defaults() == {"leak": 0.0, "feature_level": True}
    assert get_method("graddrop", 3).options() == cls.option_defaults()
    assert "arxiv.org/abs/" in cls.citation and cls.summary
