"""Scale indicators against scipy / statsmodels and direct formulas."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.weightstats import DescrStatsW

from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.scales import (
    cronbach_alpha,
    mean_t_interval,
    paired_scale_change,
    unpaired_scale_change,
)


def _likert_pairs(seed: int, n: int = 40):
    """Linked 1–5 scale scores (means of 5 items, so many ties and some zero differences)."""
    rng = np.random.default_rng(seed)
    items_pre = rng.integers(1, 6, size=(n, 5))
    shift = rng.choice([0, 0, 1], size=(n, 5))
    items_post = np.clip(items_pre + shift - rng.choice([0, 1], size=(n, 5), p=[0.8, 0.2]), 1, 5)
    return items_pre.mean(axis=1), items_post.mean(axis=1), items_pre


@pytest.mark.parametrize("seed", range(5))
def test_mean_t_interval(seed):
    """Reference: scipy.stats.t.interval and statsmodels DescrStatsW.tconfint_mean."""
    x = _likert_pairs(seed)[0]
    res = mean_t_interval(x)
    ref = sps.t.interval(0.95, x.size - 1, loc=x.mean(), scale=sps.sem(x))
    assert (res.ci_low, res.ci_high) == pytest.approx(ref, abs=1e-9)
    assert (res.ci_low, res.ci_high) == pytest.approx(DescrStatsW(x).tconfint_mean(), abs=1e-9)
    assert mean_t_interval(np.append(x, np.nan)).n == x.size


@pytest.mark.parametrize("seed", range(8))
def test_wilcoxon_signed_rank(seed):
    """Reference: scipy.stats.wilcoxon(zero_method='wilcox', correction=False, method='approx')
    (= R wilcox.test(paired, exact=FALSE, correct=FALSE)); T⁺ from alternative='greater';
    d_z from scipy ttest_rel (t/√n)."""
    pre, post, _ = _likert_pairs(seed)
    res = paired_scale_change(pre, post)
    d = post - pre
    ref = sps.wilcoxon(d, zero_method="wilcox", correction=False, method="approx")
    assert res.p_value == pytest.approx(ref.pvalue, abs=1e-9)
    assert min(res.t_plus, res.t_minus) == pytest.approx(ref.statistic, abs=1e-9)
    greater = sps.wilcoxon(d, zero_method="wilcox", alternative="greater", method="approx")
    assert res.t_plus == pytest.approx(greater.statistic, abs=1e-9)
    nz = int((d != 0).sum())
    assert res.rank_biserial == pytest.approx((2 * res.t_plus / (nz * (nz + 1) / 2)) - 1, abs=1e-12)
    t_rel = sps.ttest_rel(post, pre).statistic
    assert res.d_z == pytest.approx(t_rel / np.sqrt(d.size), abs=1e-12)
    assert res.g_z == pytest.approx(res.d_z * (1 - 3 / (4 * (d.size - 1) - 1)), abs=1e-15)


def test_wilcoxon_all_zero_differences():
    res = paired_scale_change([3, 4, 2], [3, 4, 2])
    assert res.n_nonzero == 0 and res.p_value == 1.0 and res.rank_biserial == 0.0
    assert res.d_z is None


@pytest.mark.parametrize("seed", range(8))
def test_mann_whitney(seed):
    """Reference: scipy.stats.mannwhitneyu(method='asymptotic', use_continuity=True) (= R
    wilcox.test default); Cliff's δ by brute force over all pairs; Cohen's d from scipy's
    pooled-variance ttest_ind (d = t·√(1/n₁ + 1/n₂))."""
    rng = np.random.default_rng(100 + seed)
    pre = rng.integers(1, 6, size=(37, 3)).mean(axis=1)
    post = np.clip(rng.integers(1, 6, size=(44, 3)).mean(axis=1) + 0.3, 1, 5)
    res = unpaired_scale_change(pre, post)
    ref = sps.mannwhitneyu(post, pre, alternative="two-sided", method="asymptotic")
    assert res.u_post == pytest.approx(ref.statistic, abs=1e-9)
    assert res.p_value == pytest.approx(ref.pvalue, abs=1e-9)
    delta = np.sign(post[:, None] - pre[None, :]).mean()
    assert res.rank_biserial == pytest.approx(delta, abs=1e-12)
    t_ind = sps.ttest_ind(post, pre, equal_var=True).statistic
    assert res.cohens_d == pytest.approx(t_ind * np.sqrt(1 / 37 + 1 / 44), abs=1e-12)
    assert res.hedges_g == pytest.approx(res.cohens_d * (1 - 3 / (4 * 81 - 9)), abs=1e-15)


def _alpha_direct(items: np.ndarray) -> float:
    """α = k/(k−1)·(1 − tr(C)/1'C1) from the item covariance matrix."""
    cov = np.cov(items, rowvar=False)
    k = items.shape[1]
    return k / (k - 1) * (1 - np.trace(cov) / cov.sum())


@pytest.mark.parametrize("seed", range(4))
def test_cronbach_alpha_and_feldt(seed):
    """Reference: α from the covariance matrix (numpy); Feldt (1965) limits from scipy F
    quantiles: 1 − (1−α)·F_{0.975}(n−1, (n−1)(k−1)) and 1 − (1−α)·F_{0.025}(…)."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(60, 1))
    items = np.clip(np.round(3 + latent + rng.normal(scale=1.0, size=(60, 5))), 1, 5)
    items[3, 2] = np.nan  # dropped as an incomplete case
    res = cronbach_alpha(items)
    complete = items[~np.isnan(items).any(axis=1)]
    a = _alpha_direct(complete)
    assert res.n == 59 and res.k == 5
    assert res.alpha == pytest.approx(a, abs=1e-12)
    df1, df2 = 58, 58 * 4
    assert res.ci_low == pytest.approx(1 - (1 - a) * sps.f.ppf(0.975, df1, df2), abs=1e-12)
    assert res.ci_high == pytest.approx(1 - (1 - a) * sps.f.ppf(0.025, df1, df2), abs=1e-12)
    assert res.ci_low < res.alpha < res.ci_high


def test_scale_inputs_are_checked():
    with pytest.raises(StatsInputError):
        mean_t_interval([3.0])
    with pytest.raises(StatsInputError):
        paired_scale_change([1, 2, 3], [1, 2])
    with pytest.raises(StatsInputError):
        cronbach_alpha(np.ones((10, 1)))


@settings(max_examples=100, deadline=None)
@given(
    pre=st.lists(st.integers(1, 5), min_size=3, max_size=40),
    post=st.lists(st.integers(1, 5), min_size=3, max_size=40),
)
def test_effect_sizes_are_bounded(pre, post):
    res = unpaired_scale_change(pre, post)
    assert -1.0 <= res.rank_biserial <= 1.0
    assert 0.0 <= res.cles <= 1.0
    assert 0.0 <= res.p_value <= 1.0
    n = min(len(pre), len(post))
    paired = paired_scale_change(pre[:n], post[:n])
    assert -1.0 <= paired.rank_biserial <= 1.0
    assert 0.0 <= paired.p_value <= 1.0
