"""Dominance, frontier, Δm% and mean rank against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from paretokit import analysis as A
from paretokit.plot import staircase


def test_non_dominated_minimization():
    pts = np.array([[1, 5], [2, 3], [3, 4], [4, 1], [2, 3], [5, 5]], float)
    mask = A.non_dominated_mask(pts, [False, False])
    # (3,4) is dominated by (2,3); (5,5) by everything; the duplicate (2,3) stays
    assert mask.tolist() == [True, True, False, True, True, False]


def test_non_dominated_mixed_directions_and_nan():
    pts = np.array([[0.1, 0.90], [0.2, 0.95], [0.2, 0.80], [np.nan, 0.99]])
    mask = A.non_dominated_mask(pts, [False, True])  # MAE lower, accuracy higher
    assert mask.tolist() == [True, True, False, False]


def test_dominates_and_dominated_by_any():
    assert A.dominates(np.array([1, 1]), np.array([1, 2]), [False, False])
    assert not A.dominates(np.array([1, 2]), np.array([1, 2]), [False, False])
    assert A.dominates(np.array([1, 0.9]), np.array([1, 0.8]), [False, True])
    others = np.array([[0.5, 0.5], [2, 0], [1, 1]])
    assert A.dominated_by_any(np.array([1, 1]), others, [False, False]).tolist() == [0]


def test_delta_m_by_hand():
    # task 1 MAE 10% worse than STL, task 2 accuracy 5% better: Δm = 100/2 (0.10 − 0.05) = 2.5
    assert A.delta_m(np.array([1.1, 0.84]), np.array([1.0, 0.8]), [False, True]) == pytest.approx(
        2.5
    )
    rows = np.array([[1.0, 0.8], [0.9, 0.8]])
    np.testing.assert_allclose(A.delta_m(rows, np.array([1.0, 0.8]), [False, True]), [0.0, -5.0])


def test_mean_rank_with_ties():
    table = np.array([[1.0, 0.9], [2.0, 0.9], [3.0, 0.5]])  # MAE ↓, accuracy ↑
    # MAE ranks 1,2,3; accuracy ranks 1.5,1.5,3
    np.testing.assert_allclose(A.mean_rank(table, [False, True]), [1.25, 1.75, 3.0])


def test_staircase_vertices():
    front = np.array([[3.0, 1.0], [1.0, 3.0], [2.0, 2.0]])
    v = staircase(front, (False, False))
    expected = [[1, 3], [2, 3], [2, 2], [3, 2], [3, 1]]
    np.testing.assert_allclose(v, expected)
