"""Unlinked change: Newcombe (1998a) Table II, statsmodels, scipy χ² and Boschloo."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import boschloo_exact, chi2_contingency, fisher_exact
from statsmodels.stats import proportion as sm_prop

from lmp_analytics.stats.unlinked import (
    boschloo_test,
    needs_exact_test,
    newcombe_hybrid_ci,
    score_z_test,
    unlinked_test,
)

# (x1, n1, x2, n2) for p1 − p2, published interval: Newcombe (1998a) Stat Med 17:873, Table II.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0)),
    ((10, 10, 0, 10), (0.6075, 1.0)),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE_II)
def test_newcombe_table_ii(counts, published):
    """Reference: Newcombe (1998a) Table II, method 10 (4 dp) and statsmodels 'newcomb'."""
    x1, n1, x2, n2 = counts
    ci = newcombe_hybrid_ci(x_pre=x2, n_pre=n2, x_post=x1, n_post=n1)
    assert ci.diff == pytest.approx(x1 / n1 - x2 / n2)
    assert (ci.ci_low, ci.ci_high) == pytest.approx(published, abs=1e-4)
    sm = sm_prop.confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    assert (ci.ci_low, ci.ci_high) == pytest.approx(sm, abs=1e-9)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # statsmodels ratio/odds at p2 = 0
@settings(max_examples=150, deadline=None)
@given(n1=st.integers(2, 400), n2=st.integers(2, 400), data=st.data())
def test_score_test_matches_statsmodels_and_uncorrected_chi2(n1, n2, data):
    """Reference: statsmodels test_proportions_2indep(method='score', correction=False) and
    scipy chi2_contingency(correction=False)."""
    x1 = data.draw(st.integers(0, n1))
    x2 = data.draw(st.integers(0, n2))
    res = score_z_test(x_pre=x2, n_pre=n2, x_post=x1, n_post=n1)
    if x1 + x2 in (0, n1 + n2):
        assert res.p_value == 1.0  # statsmodels gives NaN here
        return
    sm = sm_prop.test_proportions_2indep(x1, n1, x2, n2, method="score", correction=False)
    assert res.statistic == pytest.approx(sm.statistic, abs=1e-9)
    assert res.p_value == pytest.approx(sm.pvalue, abs=1e-9)
    chi2 = chi2_contingency(np.array([[x1, n1 - x1], [x2, n2 - x2]]), correction=False)
    assert res.p_value == pytest.approx(chi2.pvalue, abs=1e-9)


def test_small_counts_use_boschloo():
    """Reference: scipy boschloo_exact (two-sided), scipy fisher_exact, statsmodels score test.

    The methods note quotes, for 6/7 vs 2/7, Fisher 0.103, Boschloo 0.057 and score 0.037.
    Fisher matches. scipy's two-sided Boschloo is 0.0404 (twice the one-sided 0.0202); 0.057 is
    not reproduced by any scipy variant (Boschloo, Barnard pooled/unpooled, Fisher mid-p 0.054).
    0.037 is statsmodels' *default* score test with the Miettinen–Nurminen factor N/(N−1); the
    note's own formula (uncorrected, = Pearson χ²) gives 0.0308, which is what we implement.
    """
    assert needs_exact_test(2, 7, 6, 7)
    res = unlinked_test(x_pre=2, n_pre=7, x_post=6, n_post=7)
    assert res.test == "boschloo"
    table = [[6, 1], [2, 5]]
    assert res.p_value == pytest.approx(
        boschloo_exact(table, alternative="two-sided").pvalue, abs=1e-12
    )
    assert res.p_value == pytest.approx(0.0404, abs=5e-5)
    fisher = fisher_exact(table).pvalue
    assert fisher == pytest.approx(0.103, abs=5e-4)
    assert res.p_value < fisher  # Boschloo is uniformly more powerful than Fisher
    assert score_z_test(2, 7, 6, 7).p_value == pytest.approx(
        chi2_contingency(np.array(table), correction=False).pvalue, abs=1e-12
    )
    mn = sm_prop.test_proportions_2indep(6, 7, 2, 7, method="score", correction=True)
    assert mn.pvalue == pytest.approx(0.037, abs=5e-4)


def test_large_counts_use_score_test_and_degenerate_tables_give_p_one():
    assert unlinked_test(20, 180, 12, 170).test == "score_z"
    assert score_z_test(0, 50, 0, 60).p_value == 1.0
    assert score_z_test(50, 50, 60, 60).p_value == 1.0
    assert boschloo_test(0, 5, 0, 8).p_value == 1.0


@settings(max_examples=200, deadline=None)
@given(n1=st.integers(1, 300), n2=st.integers(1, 300), data=st.data())
def test_interval_contains_difference_and_stays_in_bounds(n1, n2, data):
    x1 = data.draw(st.integers(0, n1))
    x2 = data.draw(st.integers(0, n2))
    ci = newcombe_hybrid_ci(x2, n2, x1, n1)
    assert -1.0 <= ci.ci_low <= ci.diff <= ci.ci_high <= 1.0
