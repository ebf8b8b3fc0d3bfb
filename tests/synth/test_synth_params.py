"""Parameters, calibration and the answer model against independent references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit

from lmp_analytics.synth import Params
from lmp_analytics.synth.responses import (
    calibrate_national,
    draw_ordinal,
    logistic_normal_mean,
    population_composite,
    total_bully_sd,
)


def test_presets_have_the_documented_size() -> None:
    demo, kommune, national = (Params.for_scale(s) for s in ("demo", "kommune", "national"))
    assert demo.n_kommuner == 3 and 30 <= demo.n_schools <= 40
    assert kommune.n_kommuner == 1 and kommune.n_schools > demo.n_schools
    assert national.n_schools == 2_700
    # Mean of triangular(100, 290, 300) is 230 pupils: 2,700 schools ≈ 620,000 pupils.
    assert national.n_schools * sum(national.school_size) / 3 == pytest.approx(620_000, rel=0.01)
    with pytest.raises(ValueError, match="scale"):
        Params.for_scale("county")


def test_latent_school_icc_is_about_five_percent() -> None:
    p = Params()
    assert p.latent_school_icc == pytest.approx(0.29 / 5.74, abs=0.002)  # METHODS §3.1


def test_planted_odds_ratios_by_completed_phases() -> None:
    p = Params()
    assert [round(math.exp(p.bully_log_or(k)), 6) for k in range(6)] == [
        1,
        0.85,
        0.7,
        0.7,
        0.7,
        0.7,
    ]
    assert math.exp(p.relation_log_or(1)) == pytest.approx(1.0)
    assert math.exp(p.relation_log_or(2)) == pytest.approx(1.15)


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="hyppighet_cuts"):
        Params(hyppighet_cuts=(2.0, 0.5, -1.0, -2.0))
    with pytest.raises(ValueError, match="sum to 1"):
        Params(school_type_shares=(0.5, 0.2, 0.2))


def test_quadrature_matches_monte_carlo() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=400_000)
    for mu, sd in ((-3.0, 1.6), (-1.0, 0.5), (0.5, 2.0)):
        mc = expit(mu + sd * z)
        assert logistic_normal_mean(mu, sd) == pytest.approx(mc.mean(), abs=4 * mc.std() / 632)


def test_calibration_reproduces_the_national_series_by_simulation() -> None:
    """Simulate pupils from the calibrated model; the composite share must equal the series."""
    p = Params()
    betas = calibrate_national(p)
    rng = np.random.default_rng(7)
    n = 400_000
    for year, percent in p.national_series[:3]:
        assert population_composite(betas[year], p, p.eus_trinn) == pytest.approx(percent / 100)
        trinn = rng.choice(p.eus_trinn, n)
        eta = betas[year] + p.grade_slope * (trinn - 7) + total_bully_sd(p) * rng.normal(size=n)
        bullied = np.zeros(n, dtype=bool)
        for offset in (0.0, p.offset_digital, p.offset_voksen):
            bullied |= draw_ordinal(rng, eta + offset, p.hyppighet_cuts) >= 3
        se = math.sqrt(percent / 100 * (1 - percent / 100) / n)
        assert abs(bullied.mean() - percent / 100) < 4 * se
    assert list(betas) == [y for y, _ in p.national_series]


def test_ordinal_draws_follow_the_cumulative_logits() -> None:
    rng = np.random.default_rng(3)
    eta = np.full(200_000, -1.2)
    cuts = Params().hyppighet_cuts
    codes = draw_ordinal(rng, eta, cuts)
    for k, cut in enumerate(cuts, start=2):
        expected = expit(-1.2 + cut)
        se = math.sqrt(expected * (1 - expected) / eta.size)
        assert abs((codes >= k).mean() - expected) < 4 * se


def test_national_series_is_the_7th_and_10th_grade_series() -> None:
    """The synthetic 7th/10th grade is calibrated to the 7th/10th series, not all grades."""
    params = Params()
    series = dict(params.national_series)
    for year, p7, p10 in params.national_series_by_trinn:
        assert series[year] == pytest.approx((p7 + p10) / 2)
    all_grades = {2021: 5.9, 2022: 7.3, 2023: 10.0}  # reference/national_bullying.csv, 5-13
    assert all(series[y] > v for y, v in all_grades.items())
