"""Single-proportion intervals against statsmodels, scipy and the methods note's golden table."""

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint

from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.proportions import (
    clopper_pearson_bounds,
    clopper_pearson_interval,
    wilson_bounds,
    wilson_exprs,
    wilson_interval,
)

GRID = [
    (x, n)
    for n in (1, 2, 5, 10, 12, 20, 40, 180, 263, 1000)
    for x in sorted({0, 1, 2, n // 3, n - 1, n})
    if x <= n
]


@pytest.mark.parametrize(("x", "n"), GRID)
@pytest.mark.parametrize("conf", [0.95, 0.90])
def test_wilson_matches_statsmodels_and_scipy(x, n, conf):
    """Reference: statsmodels proportion_confint(method='wilson'), scipy binomtest.proportion_ci."""
    ci = wilson_interval(x, n, conf)
    sm_low, sm_high = proportion_confint(x, n, alpha=1 - conf, method="wilson")
    sp = binomtest(x, n).proportion_ci(confidence_level=conf, method="wilson")
    assert ci.ci_low == pytest.approx(sm_low, abs=1e-9)
    assert ci.ci_high == pytest.approx(sm_high, abs=1e-9)
    assert ci.ci_low == pytest.approx(sp.low, abs=1e-9)
    assert ci.ci_high == pytest.approx(sp.high, abs=1e-9)


@pytest.mark.parametrize(("x", "n"), GRID)
def test_clopper_pearson_matches_statsmodels_and_scipy(x, n):
    """Reference: statsmodels proportion_confint(method='beta'), scipy proportion_ci('exact')."""
    ci = clopper_pearson_interval(x, n)
    sm_low, sm_high = proportion_confint(x, n, alpha=0.05, method="beta")
    sp = binomtest(x, n).proportion_ci(method="exact")
    assert ci.ci_low == pytest.approx(sm_low, abs=1e-9)
    assert ci.ci_high == pytest.approx(sm_high, abs=1e-9)
    assert ci.ci_low == pytest.approx(sp.low, abs=1e-9)
    assert ci.ci_high == pytest.approx(sp.high, abs=1e-9)


@pytest.mark.parametrize(
    ("x", "n", "wilson", "cp"),
    [
        (0, 12, (0, 0.2425), (0, 0.2646)),
        (1, 12, (0.0149, 0.3539), (0.0021, 0.3848)),
        (0, 20, (0, 0.1611), (0, 0.1684)),
        (3, 40, (0.0258, 0.1986), (0.0157, 0.2039)),
        (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    ],
)
def test_golden_table(x, n, wilson, cp):
    """Reference: methods note §2.1 single-proportion table (4 dp; R prop.test / binom.test)."""
    w = wilson_interval(x, n)
    c = clopper_pearson_interval(x, n)
    assert (w.ci_low, w.ci_high) == pytest.approx(wilson, abs=5e-5)
    assert (c.ci_low, c.ci_high) == pytest.approx(cp, abs=5e-5)


def test_wilson_at_zero_is_closed_form():
    """Reference: at x = 0 the Wilson interval is [0, z²/(n+z²)] (methods note §1a)."""
    z2 = 1.959963984540054**2
    ci = wilson_interval(0, 20)
    assert ci.ci_low == 0.0
    assert ci.ci_high == pytest.approx(z2 / (20 + z2), abs=1e-12)
    assert wilson_interval(20, 20).ci_high == 1.0


def test_vectorised_forms_equal_scalar_and_handle_empty_cells():
    """The numpy and polars forms give the scalar values; n = 0 gives NaN / null."""
    x = np.array([0, 3, 81, 5, 0])
    n = np.array([12, 40, 263, 5, 0])
    low, high = wilson_bounds(x, n)
    cp_low, cp_high = clopper_pearson_bounds(x, n)
    for i in range(4):
        assert low[i] == pytest.approx(wilson_interval(int(x[i]), int(n[i])).ci_low, abs=1e-15)
        assert high[i] == pytest.approx(wilson_interval(int(x[i]), int(n[i])).ci_high, abs=1e-15)
        assert cp_low[i] == pytest.approx(clopper_pearson_interval(int(x[i]), int(n[i])).ci_low)
        assert cp_high[i] == pytest.approx(clopper_pearson_interval(int(x[i]), int(n[i])).ci_high)
    assert np.isnan(low[4]) and np.isnan(high[4]) and np.isnan(cp_low[4])
    frame = pl.DataFrame({"x": x, "n": n}).lazy().with_columns(*wilson_exprs("x", "n")).collect()
    np.testing.assert_allclose(frame["ci_low"].to_numpy()[:4], low[:4], atol=1e-15)
    np.testing.assert_allclose(frame["ci_high"].to_numpy()[:4], high[:4], atol=1e-15)
    assert frame["ci_low"][4] is None


def test_rejects_impossible_counts():
    with pytest.raises(StatsInputError):
        wilson_interval(5, 4)
    with pytest.raises(StatsInputError):
        wilson_interval(0, 0)
    with pytest.raises(StatsInputError):
        wilson_bounds(np.array([-1]), np.array([3]))


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), data=st.data())
def test_intervals_contain_share_and_stay_in_unit_interval(n, data):
    x = data.draw(st.integers(0, n))
    for ci in (wilson_interval(x, n), clopper_pearson_interval(x, n)):
        assert 0.0 <= ci.ci_low <= ci.share <= ci.ci_high <= 1.0
