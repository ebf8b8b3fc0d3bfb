"""Planted-effect acceptance test: 30 replications of the full-size DGP (40 schools, 10 terms).

Methods note §3: the CS event-time-0 estimate must be unbiased for the replication sample truth
(mean over cells of mean_i(p1 − p0)), and the all-pupil before→after risk difference unbiased for
mean π_post − mean π_pre. About 5 s on one core; the nightly coverage run is
``benchmarks/coverage.py``.
"""

import numpy as np
import polars as pl
import pytest

from lmp_analytics.stats.simulation import SimulationConfig, replicate, school_panel, simulate

REPS = 30


@pytest.fixture(scope="module")
def replications():
    return [replicate(seed) for seed in range(REPS)]


def test_cs_event_time_zero_is_unbiased(replications):
    est = np.array([r.cs_e0 for r in replications])
    truth = np.array([r.truth_e0 for r in replications])
    mc_se = est.std(ddof=1) / np.sqrt(REPS)
    assert abs(est.mean() - truth.mean()) < 3 * mc_se
    assert -0.035 < truth.mean() < -0.015  # planted OR 0.70 at prevalence ≈ 8 %: about −2.3 pp


def test_all_pupil_risk_difference_is_unbiased(replications):
    contrasts = pl.concat([r.contrasts for r in replications])
    bias = (contrasts["rd"] - contrasts["rd_truth"]).mean()
    assert abs(bias) < 0.002


def test_design_matches_the_recipe():
    """Sizes and linkage of the methods note §3.1: ~160 respondents per school-round, ~6,300 per
    round, ~72 % of a round's respondents linked across the summer."""
    sim = simulate(123)
    per_round = sim.group_by("t").len()["len"]
    assert 5500 < per_round.mean() < 7000
    panel = school_panel(sim)
    assert 130 < panel["n"].mean() < 190
    autumn = sim.filter(pl.col("t") == 4).select("school", "sid")
    spring = sim.filter(pl.col("t") == 3).select("school", "sid")
    linked = autumn.join(spring, on=["school", "sid"], how="semi").height / autumn.height
    assert 0.65 < linked < 0.78
    null = simulate(123, SimulationConfig().null())
    assert (null["p1"] == null["p0"]).all()
