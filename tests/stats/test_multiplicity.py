"""Benjamini–Hochberg against statsmodels, scipy and the step-up formula."""

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control
from statsmodels.stats.multitest import multipletests

from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.multiplicity import adjusted_p_values, benjamini_hochberg


def _step_up(p: np.ndarray) -> np.ndarray:
    """p̃_(i) = min_{j≥i} min(1, m·p_(j)/j) (Benjamini & Hochberg 1995)."""
    m = p.size
    order = np.argsort(p)
    scaled = np.minimum(1.0, m * p[order] / np.arange(1, m + 1))
    adj_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = adj_sorted
    return out


@settings(max_examples=150, deadline=None)
@given(p=st.lists(st.floats(0, 1), min_size=1, max_size=60))
def test_bh_matches_statsmodels_scipy_and_formula(p):
    """Reference: statsmodels multipletests('fdr_bh'), scipy false_discovery_control, formula."""
    arr = np.array(p)
    res = benjamini_hochberg(arr, q=0.05)
    got = np.array(res.p_adjusted, dtype=float)
    rej, sm_adj, _, _ = multipletests(arr, alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(got, sm_adj, atol=1e-12)
    np.testing.assert_allclose(got, false_discovery_control(arr, method="bh"), atol=1e-12)
    np.testing.assert_allclose(got, _step_up(arr), atol=1e-12)
    assert list(res.reject) == list(rej)
    assert res.m == arr.size


def test_untested_cells_are_not_counted():
    """None (n-only suppression) is left out of m and returned as None."""
    p = [0.01, None, 0.04, float("nan"), 0.03]
    res = benjamini_hochberg(p)
    assert res.m == 3
    assert res.p_adjusted[1] is None and res.reject[3] is None
    _, ref, _, _ = multipletests([0.01, 0.04, 0.03], method="fdr_bh")
    assert [res.p_adjusted[i] for i in (0, 2, 4)] == pytest.approx(list(ref), abs=1e-12)
    series = benjamini_hochberg(pl.Series([0.01, None, 0.04, None, 0.03]))
    assert series.p_adjusted == res.p_adjusted


def test_by_matches_statsmodels_and_empty_family():
    p = np.array([0.001, 0.02, 0.03, 0.2, 0.5])
    res = benjamini_hochberg(p, q=0.1, method="fdr_by")
    _, ref, _, _ = multipletests(p, alpha=0.1, method="fdr_by")
    np.testing.assert_allclose(np.array(res.p_adjusted, dtype=float), ref, atol=1e-12)
    np.testing.assert_allclose(
        np.array(res.p_adjusted, dtype=float), false_discovery_control(p, method="by"), atol=1e-12
    )
    assert benjamini_hochberg([None, None]).m == 0
    with pytest.raises(StatsInputError):
        benjamini_hochberg([1.2])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1, allow_nan=False)), min_size=0, max_size=40))
def test_array_form_equals_the_scalar_form_and_scipy(raw):
    arr = np.array([np.nan if v is None else v for v in raw], dtype=float)
    adjusted = adjusted_p_values(arr)
    expected = benjamini_hochberg(raw).p_adjusted
    assert [None if np.isnan(v) else float(v) for v in adjusted] == list(expected)
    tested = ~np.isnan(arr)
    if tested.any():
        np.testing.assert_allclose(adjusted[tested], false_discovery_control(arr[tested]),
                                   rtol=1e-12)


def test_array_form_rejects_impossible_p_values():
    with pytest.raises(StatsInputError):
        adjusted_p_values(np.array([0.2, 1.5]))
