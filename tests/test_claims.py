"""The claim paragraphs of a study's report, on the hand-built results file of test_report
(every number there is worked out by hand): the words follow the outcomes and intervals."""

from __future__ import annotations

import pytest

from paretokit.report import build_reports
from paretokit.report.claims import claim_paragraph, seed_delta_m
from paretokit.results import append_results, read_results
from tests.test_report import META, METHODS, _record, write_file

# test_report's methods under seed-method names: m1 within noise, m2 dominated, m3 beyond
NAMES = {"m1": "nashmtl", "m2": "si", "m3": "ls"}


def renamed_report(tmp_path):
    path = tmp_path / "r.parquet"
    write_file(path, methods=False)
    for label, by_seed in METHODS.items():
        for seed, m in by_seed.items():
            record = _record(f"{label}:{seed}", "method", NAMES[label], m, seed, 30.0)
            append_results(path, record.rows(), META)
    (report,) = build_reports(read_results(path), split="test")
    return report


def test_beyond_paragraph_names_each_outcome_with_its_interval(tmp_path):
    (report,) = build_reports(write_file(tmp_path / "r.parquet"), split="test")
    text = claim_paragraph("beyond", report)
    assert text.startswith("**Claim (Xin et al. 2022: no MTO method beats a tuned sweep).**")
    assert "a sweep of 3 trials × 2 seeds (2 chosen on val, resolution δ = +0.000)" in text
    assert "with 2 paired seeds" in text
    assert "1 of 3 beyond the front: m3 (ε +0.400 [+0.400, +0.400])" in text
    assert "1 of 3 within noise: m1 (ε +0.075 [" in text
    assert "1 of 3 dominated: m2 (ε -0.400 [-0.400, -0.400])" in text
    assert text.endswith(
        "At this budget the claim does not hold for m3: its interval lies above the sweep's resolution."
    )


def test_beyond_paragraph_without_a_sweep_says_it_is_not_tested(tmp_path):
    (report,) = build_reports(write_file(tmp_path / "r.parquet", sweep=False), split="test")
    assert claim_paragraph("beyond", report).endswith("Not tested: no sweep in this setting.")


def test_seed_delta_m_by_hand(tmp_path):
    dm = seed_delta_m(renamed_report(tmp_path)).set_index("method")
    # STL (a 1.0 ↓, b 0.9 ↑); nashmtl's seeds (1.5, 0.7), (1.6, 0.65)
    seed0 = 50 * (0.5 + 0.2 / 0.9)
    seed1 = 50 * (0.6 + 0.25 / 0.9)
    assert dm.loc["nashmtl", "mean"] == pytest.approx((seed0 + seed1) / 2)
    half = 12.706204736174698 * abs(seed0 - seed1) / 2  # t · sd / √2, sd = |Δ| / √2
    assert dm.loc["nashmtl", "high"] - dm.loc["nashmtl", "mean"] == pytest.approx(half)
    assert dm.loc["si", "seeds"] == 3  # every seed of a method, paired or not
    assert dm.loc["si", "mean"] == pytest.approx((2 * 50 * (7 + 0.7 / 0.9) + 50 * 10) / 3)
    assert dm.loc["ls", "mean"] == pytest.approx(50 * (-1 - 0.1 / 0.9))


def test_ranking_paragraph_orders_and_places_nashmtl_and_si(tmp_path):
    text = claim_paragraph("ranking", renamed_report(tmp_path))
    assert text.startswith("**Claim (Navon et al. 2022, Table 2")
    assert "over 2/3 seeds" in text
    order = [text.index(f"{m} ") for m in ("ls -55.6", "nashmtl +40.0", "si +425.9")]
    assert order == sorted(order)
    assert "Among the 2 MTO methods, Nash-MTL is 1 of 2 by Δm%" in text
    assert "SI is 2 of 2 of the MTO methods by Δm% (not better than LS: +425.9 vs -55.6)" in text
    # the sweep's chosen trials 0 (2, 0.6) and 1 (6, 0.9): trial 0 at 50 · (1 + 0.3 / 0.9)
    assert "best chosen trial, trial 0, at Δm% +66.7" in text
    assert "-55.6 for the best method (ls)" in text
    assert "1 dominated, 1 beyond, 1 within_noise" in text
