"""Linked pupils: McNemar exact / mid-p and Newcombe's paired interval against published tables."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from statsmodels.stats.contingency_tables import mcnemar

from lmp_analytics.stats.paired import mcnemar_test, newcombe_paired_ci, phi_star

# (a, b, c, d); R contingencytables Newcombe_square_and_add_CI_paired_2x2 (pre − post), exact p,
# mid-p, asymptotic p without continuity correction. Methods note §2.1 (Fagerland et al. 2013).
PAIRED_TABLES = [
    ((1, 1, 7, 12), (-0.5069, -0.0256), 0.07031, 0.03906, 0.03389),
    ((59, 6, 16, 80), (-0.1186, -0.0046), 0.05248, 0.03469, 0.03301),
    ((2, 3, 9, 86), (-0.1376, 0.0124), 0.14600, 0.09229, 0.08326),
    ((0, 1, 4, 15), (-0.3745, 0.0823), 0.37500, 0.21875, 0.17971),
    ((3, 8, 2, 47), (-0.0086, 0.2138), 0.10938, 0.06543, 0.05778),
]


@pytest.mark.parametrize(("table", "ci_pre_minus_post", "exact", "mid", "asym"), PAIRED_TABLES)
def test_paired_tables(table, ci_pre_minus_post, exact, mid, asym):
    """Reference: R contingencytables 3.0.1 values in the methods note (sign flipped: we
    report post − pre), statsmodels mcnemar(exact=True / exact=False, correction=False),
    scipy binomtest."""
    a, b, c, d = table
    ci = newcombe_paired_ci(a, b, c, d)
    assert ci.diff == pytest.approx((c - b) / (a + b + c + d))
    assert (-ci.ci_high, -ci.ci_low) == pytest.approx(ci_pre_minus_post, abs=5e-5)
    res = mcnemar_test(b, c)
    assert res.exact_p == pytest.approx(exact, abs=5e-6 + 1e-12)
    assert res.mid_p == pytest.approx(mid, abs=5e-6 + 1e-12)
    assert res.asymptotic_p == pytest.approx(asym, abs=5e-6 + 1e-12)
    tab = np.array([[a, b], [c, d]])
    assert res.exact_p == pytest.approx(mcnemar(tab, exact=True).pvalue, abs=1e-12)
    assert res.exact_p == pytest.approx(binomtest(b, b + c, 0.5).pvalue, abs=1e-12)
    sm_asym = mcnemar(tab, exact=False, correction=False).pvalue
    assert res.asymptotic_p == pytest.approx(sm_asym, abs=1e-12)


def test_phi_star_worked_example():
    """Reference: Newcombe (1998b) φ* by hand for (6, 9, 3, 132): (765 − 75)/√(15·135·9·141)."""
    assert phi_star(6, 9, 3, 132) == pytest.approx(690 / math.sqrt(15 * 135 * 9 * 141), abs=1e-15)
    assert phi_star(1, 5, 5, 1) == pytest.approx(-24 / 36)  # B < 0: no adjustment
    assert phi_star(2, 2, 2, 2) == 0.0  # 0 <= B <= N/2
    assert phi_star(0, 0, 3, 4) == 0.0  # zero margin


@settings(max_examples=200, deadline=None)
@given(b=st.integers(0, 200), c=st.integers(0, 200))
def test_mid_p_is_exact_p_minus_point_probability(b, c):
    """Reference: mid-p = exact p − P(b'=k) for Bin(b+c, ½) when b ≠ c (scipy binomtest)."""
    res = mcnemar_test(b, c)
    assert res.mid_p <= res.exact_p
    if b != c:
        point = binomtest(min(b, c), b + c).pvalue - res.mid_p
        from scipy.stats import binom

        assert point == pytest.approx(binom.pmf(min(b, c), b + c, 0.5), abs=1e-12)
    else:
        assert res.mid_p == pytest.approx(1.0)


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(st.integers(0, 60), min_size=4, max_size=4).filter(lambda v: sum(v) > 0))
def test_paired_interval_contains_difference_and_stays_in_bounds(cells):
    ci = newcombe_paired_ci(*cells)
    assert -1.0 <= ci.ci_low <= ci.diff <= ci.ci_high <= 1.0
