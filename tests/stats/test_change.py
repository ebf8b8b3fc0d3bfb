"""Headline change (all pupils, linked ones as correlation): worked example, OLS/GEE, reductions."""

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st

from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.change import (
    change_from_rounds,
    linked_change,
    mover_ci,
    overlap_counts,
    overlap_score_test,
    overlap_wald_se,
    risk_difference_change,
)
from lmp_analytics.stats.paired import newcombe_paired_ci
from lmp_analytics.stats.unlinked import newcombe_hybrid_ci

WORKED = ((6, 9, 3, 132), (5, 40), (2, 35))


def _stacked_rows(linked, pre_unlinked, post_unlinked) -> pd.DataFrame:
    """One row per pupil and round: linked pupils appear twice with the same id."""
    a, b, c, d = linked
    pairs = [(1, 1)] * a + [(1, 0)] * b + [(0, 1)] * c + [(0, 0)] * d
    rows = []
    for pid, (y0, y1) in enumerate(pairs):
        rows += [(pid, 0, y0), (pid, 1, y1)]
    pid = len(pairs)
    for post, (x, n) in ((0, pre_unlinked), (1, post_unlinked)):
        for k in range(n):
            rows.append((pid, post, int(k < x)))
            pid += 1
    return pd.DataFrame(rows, columns=["pupil", "post", "y"])


def test_worked_example():
    """Reference: methods note §1a worked example: D = −0.0458, MOVER (−0.0950, 0.0004),
    r = 0.344, overlap score p = 0.044, analytic / OLS-cluster / GEE SE 0.0225.

    The p-value shown with the change is not that score test's 0.044 (it would read as
    significant beside an interval that contains 0) but the interval's own: 0.0519."""
    res = risk_difference_change(*WORKED)
    assert (res.pre_n, res.post_n, res.linked_n) == (190, 185, 150)
    assert res.pre_share == pytest.approx(20 / 190)
    assert res.post_share == pytest.approx(11 / 185)
    assert res.diff == pytest.approx(-0.0458, abs=5e-5)
    assert (res.ci_low, res.ci_high) == pytest.approx((-0.0950, 0.0004), abs=5e-5)
    assert res.correlation == pytest.approx(0.344, abs=5e-4)
    assert overlap_score_test(*WORKED).p_value == pytest.approx(0.044, abs=5e-4)
    assert res.p_value == pytest.approx(0.0519, abs=5e-5)
    assert res.test == "mover_inversion" and res.tested
    edge, _ = mover_ci(*WORKED, conf=1 - res.p_value)  # at that level the interval touches 0
    assert edge.ci_high == pytest.approx(0.0, abs=1e-7)
    assert overlap_wald_se(*WORKED) == pytest.approx(0.0225, abs=5e-5)


def test_wald_se_equals_pupil_clustered_ols_and_gee():
    """Reference: smf.ols('y ~ post').fit(cov_type='cluster', groups=pupil, use_correction=False)
    and smf.gee(..., Independence) robust SE, on stacked pupil-rows (methods note §1a)."""
    df = _stacked_rows(*WORKED)
    ols = smf.ols("y ~ post", df).fit(
        cov_type="cluster", cov_kwds={"groups": df["pupil"], "use_correction": False}
    )
    gee = smf.gee(
        "y ~ post",
        "pupil",
        df,
        family=sm.families.Gaussian(),
        cov_struct=sm.cov_struct.Independence(),
    ).fit()
    res = risk_difference_change(*WORKED)
    assert ols.params["post"] == pytest.approx(res.diff, abs=1e-12)
    assert overlap_wald_se(*WORKED) == pytest.approx(ols.bse["post"], abs=1e-9)
    assert overlap_wald_se(*WORKED) == pytest.approx(gee.bse["post"], abs=1e-9)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # statsmodels: intercept var ≈ −1e-18
@settings(max_examples=60, deadline=None)
@given(
    linked=st.lists(st.integers(0, 15), min_size=4, max_size=4),
    nu0=st.integers(0, 30),
    nu1=st.integers(0, 30),
    data=st.data(),
)
def test_wald_se_equals_ols_cluster_for_random_tables(linked, nu0, nu1, data):
    """Reference: statsmodels OLS cluster-robust (use_correction=False) on stacked rows."""
    xu0 = data.draw(st.integers(0, nu0))
    xu1 = data.draw(st.integers(0, nu1))
    if sum(linked) + nu0 == 0 or sum(linked) + nu1 == 0:
        return
    df = _stacked_rows(linked, (xu0, nu0), (xu1, nu1))
    if df["y"].nunique() < 2:
        return
    ols = smf.ols("y ~ post", df).fit(
        cov_type="cluster", cov_kwds={"groups": df["pupil"], "use_correction": False}
    )
    assert overlap_wald_se(linked, (xu0, nu0), (xu1, nu1)) == pytest.approx(
        ols.bse["post"], abs=1e-9
    )


@settings(max_examples=200, deadline=None)
@given(n0=st.integers(1, 300), n1=st.integers(1, 300), data=st.data())
def test_no_linked_pupils_reduces_to_newcombe_unlinked(n0, n1, data):
    """Reference: Newcombe (1998a) hybrid interval, exactly; the p-value inverts it."""
    x0 = data.draw(st.integers(0, n0))
    x1 = data.draw(st.integers(0, n1))
    res = risk_difference_change((0, 0, 0, 0), (x0, n0), (x1, n1), min_n=1)
    ref = newcombe_hybrid_ci(x0, n0, x1, n1)
    assert (res.diff, res.ci_low, res.ci_high) == (ref.diff, ref.ci_low, ref.ci_high)
    assert res.correlation == 0.0
    assert res.test == "mover_inversion"
    if 1e-6 < res.p_value < 1.0:  # below, 1 − p loses the digits the level needs
        edge = newcombe_hybrid_ci(x0, n0, x1, n1, conf=1 - res.p_value)
        assert min(abs(edge.ci_low), abs(edge.ci_high)) == pytest.approx(0.0, abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(st.integers(0, 80), min_size=4, max_size=4).filter(lambda v: sum(v) > 0))
def test_all_linked_reduces_to_newcombe_paired_and_mcnemar(cells):
    """Reference: Newcombe (1998b) paired interval (r = φ*); the p-value inverts it."""
    res = risk_difference_change(cells, min_n=1)
    ref = newcombe_paired_ci(*cells)
    assert res.diff == pytest.approx(ref.diff, abs=1e-15)
    assert res.ci_low == pytest.approx(ref.ci_low, abs=1e-12)
    assert res.ci_high == pytest.approx(ref.ci_high, abs=1e-12)
    assert res.test == "mover_inversion"
    if 1e-6 < res.p_value < 1.0:  # below, 1 − p loses the digits the level needs
        edge = newcombe_paired_ci(*cells, conf=1 - res.p_value)
        assert min(abs(edge.ci_low), abs(edge.ci_high)) == pytest.approx(0.0, abs=1e-7)
    same = linked_change(*cells, min_n=1)
    assert (same.ci_low, same.ci_high) == pytest.approx((res.ci_low, res.ci_high), abs=1e-12)
    assert same.p_value == pytest.approx(res.p_value, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(
    linked=st.lists(st.integers(0, 60), min_size=4, max_size=4),
    nu0=st.integers(0, 60),
    nu1=st.integers(0, 60),
    data=st.data(),
)
def test_interval_contains_estimate_and_p_is_a_probability(linked, nu0, nu1, data):
    xu0 = data.draw(st.integers(0, nu0))
    xu1 = data.draw(st.integers(0, nu1))
    if sum(linked) + nu0 == 0 or sum(linked) + nu1 == 0:
        return
    res = risk_difference_change(linked, (xu0, nu0), (xu1, nu1), min_n=1)
    assert -1.0 <= res.ci_low <= res.diff <= res.ci_high <= 1.0
    assert 0.0 <= res.p_value <= 1.0
    assert -1.0 <= res.correlation <= 1.0


def test_overlap_score_reduces_to_pooled_score_without_pairs():
    """With N = 0 the overlap z is the pooled score z (statsmodels score, correction=False)."""
    from statsmodels.stats import proportion as sm_prop

    z = overlap_score_test((0, 0, 0, 0), (20, 180), (12, 170))
    ref = sm_prop.test_proportions_2indep(12, 170, 20, 180, method="score", correction=False)
    assert z.statistic == pytest.approx(ref.statistic, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(
    linked=st.lists(st.integers(0, 60), min_size=4, max_size=4),
    nu0=st.integers(0, 60),
    nu1=st.integers(0, 60),
    conf=st.sampled_from([0.9, 0.95, 0.99]),
    data=st.data(),
)
def test_p_below_alpha_exactly_when_the_interval_excludes_zero(linked, nu0, nu1, conf, data):
    """The p-value shown and the interval (hence the verdict) never disagree, at any level."""
    xu0 = data.draw(st.integers(0, nu0))
    xu1 = data.draw(st.integers(0, nu1))
    if sum(linked) + nu0 == 0 or sum(linked) + nu1 == 0:
        return
    p = risk_difference_change(linked, (xu0, nu0), (xu1, nu1), min_n=1).p_value
    res = risk_difference_change(linked, (xu0, nu0), (xu1, nu1), min_n=1, conf=conf)
    if abs(p - (1 - conf)) < 1e-9:
        return  # on the edge itself
    assert (p < 1 - conf) == (res.ci_low > 0 or res.ci_high < 0), (p, res)
    if sum(linked):
        same = linked_change(*linked, min_n=1, conf=conf)
        if abs(same.p_value - (1 - conf)) > 1e-9:
            assert (same.p_value < 1 - conf) == (same.ci_low > 0 or same.ci_high < 0)


def test_small_rounds_are_not_tested():
    """n-only rule: fewer than 10 respondents in a round (or 10 linked pupils) → no p-value."""
    res = risk_difference_change((1, 1, 1, 5), (0, 0), (0, 3))
    assert res.pre_n == 8 and not res.tested and res.p_value is None
    assert res.ci_low is not None  # the interval is still computed; suppression hides the cell
    same = linked_change(1, 2, 3, 3)
    assert not same.tested and same.p_value is None and same.test == "mover_inversion"
    empty = risk_difference_change((0, 0, 0, 0), (0, 0), (3, 12))
    assert empty.diff is None and empty.pre_share is None and empty.post_share == 0.25


def test_change_from_rounds_links_on_pseudonym():
    """The paired table and the unlinked counts are read off the pseudonym overlap."""
    pre = pl.DataFrame(
        {
            "pupil": ["p1", "p2", "p3", "p4", "p5", None, "p7"],
            "y": [1, 1, 0, 0, 1, 0, None],
        }
    )
    post = pl.DataFrame(
        {
            "pupil": ["p1", "p2", "p3", "p4", "p8", None, "p7"],
            "y": [True, False, True, False, True, True, False],
        }
    )
    counts = overlap_counts(pre, post)
    assert tuple(counts.linked) == (1, 1, 1, 1)  # p1 (1,1), p2 (1,0), p3 (0,1), p4 (0,0)
    assert counts.pre_unlinked == (1, 2)  # p5 and the pupil without pseudonym; p7 did not answer
    assert counts.post_unlinked == (2, 3)  # p8 (1), no pseudonym (1), p7 (0; pre unanswered)
    res = change_from_rounds(pre, post, min_n=1)
    direct = risk_difference_change((1, 1, 1, 1), (1, 2), (2, 3), min_n=1)
    assert res == direct


def test_change_from_rounds_rejects_bad_input():
    ok = pl.DataFrame({"pupil": ["a", "b"], "y": [0, 1]})
    with pytest.raises(StatsInputError, match="more than once"):
        change_from_rounds(pl.DataFrame({"pupil": ["a", "a"], "y": [0, 1]}), ok)
    with pytest.raises(StatsInputError, match="0/1"):
        change_from_rounds(pl.DataFrame({"pupil": ["a", "b"], "y": [0, 3]}), ok)
    with pytest.raises(StatsInputError, match="lacks column"):
        change_from_rounds(pl.DataFrame({"elev": ["a"], "y": [0]}), ok)


def test_mover_correlation_formula():
    """r = φ*·N/√(n_pre·n_post) (methods note §1a)."""
    _, r = mover_ci(*WORKED)
    assert r == pytest.approx(690 / np.sqrt(15 * 135 * 9 * 141) * 150 / np.sqrt(190 * 185))
