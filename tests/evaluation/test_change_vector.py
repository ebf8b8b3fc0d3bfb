"""The array statistics of the change table against the scalar reference-checked functions
(shares) and scipy (scales), on many random tables and samples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from lmp_analytics.evaluation import change_vector as vec
from lmp_analytics.stats.change import mover_ci, mover_p_values, risk_difference_change
from lmp_analytics.stats.paired import newcombe_paired_ci, phi_star

RNG = np.random.default_rng(20261126)


def _tables(k: int = 3000):
    """Random paired tables and unlinked counts, small and large, with empty cells and
    all-linked rounds."""
    size = RNG.choice([3, 8, 20, 60, 200], size=k)
    cells = np.stack([RNG.binomial(size, p) for p in (0.1, 0.05, 0.05, 0.5)], axis=1)
    cells[RNG.random(k) < 0.1, 1:3] = 0          # no discordant pairs
    cells[RNG.random(k) < 0.05, 0] = 0
    n0u = RNG.binomial(size, 0.3) * (RNG.random(k) > 0.1)   # some rounds fully linked
    n1u = RNG.binomial(size, 0.3) * (RNG.random(k) > 0.1)
    x0u = RNG.binomial(n0u, RNG.uniform(0, 0.4, k))
    x1u = RNG.binomial(n1u, RNG.uniform(0, 0.4, k))
    keep = (cells.sum(axis=1) + n0u > 0) & (cells.sum(axis=1) + n1u > 0)
    a, b, c, d = cells[keep].T
    return a, b, c, d, x0u[keep], n0u[keep], x1u[keep], n1u[keep]


def test_share_arrays_equal_the_scalar_functions_on_random_tables():
    a, b, c, d, x0u, n0u, x1u, n1u = _tables()
    big_n = a + b + c + d
    x0, n0, x1, n1 = a + b + x0u, big_n + n0u, a + c + x1u, big_n + n1u
    diff, lo, hi = vec.mover_interval(a, b, c, d, x0, n0, x1, n1)
    p = mover_p_values(a, b, c, d, x0, n0, x1, n1)
    phi = vec.phi_star(a, b, c, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        ldiff, llo, lhi = vec.newcombe_paired_interval(a, b, c, d)
    for i in range(len(a)):
        t = (int(a[i]), int(b[i]), int(c[i]), int(d[i]))
        pre, post = (int(x0u[i]), int(n0u[i])), (int(x1u[i]), int(n1u[i]))
        ref, _ = mover_ci(t, pre, post)
        assert (diff[i], lo[i], hi[i]) == pytest.approx(
            (ref.diff, ref.ci_low, ref.ci_high), rel=1e-12, abs=1e-14)
        if i % 20 == 0:  # the scalar path calls the same array function: spot checks
            assert p[i] == pytest.approx(
                risk_difference_change(t, pre, post, min_n=0).p_value, rel=1e-12, abs=1e-300)
        assert phi[i] == pytest.approx(phi_star(*t), rel=1e-12, abs=1e-15)
        if big_n[i] > 0:
            same = newcombe_paired_ci(*t)
            assert (ldiff[i], llo[i], lhi[i]) == pytest.approx(
                (same.diff, same.ci_low, same.ci_high), rel=1e-12, abs=1e-14)
    rejects = p < 0.05
    assert rejects.any() and (~rejects).any()
    assert np.array_equal(rejects, (lo > 0) | (hi < 0))  # p and interval agree on every row


def _sample(n: int, ties: bool) -> np.ndarray:
    if ties:  # scale means of 1-4 items on 1-5: many ties, as in the data
        return RNG.integers(4, 21, size=n) / 4.0
    return RNG.normal(3.5, 0.8, size=n)


@pytest.mark.parametrize("ties", [True, False])
def test_scale_arrays_equal_scipy_on_random_samples(ties):
    for _ in range(300):
        n0, n1 = RNG.integers(2, 120, size=2)
        x0, x1 = _sample(n0, ties), _sample(n1, ties)
        lo, hi = vec.welch_interval(x0.mean(), x0.var(ddof=1), n0, x1.mean(), x1.var(ddof=1), n1)
        ci = sps.ttest_ind(x1, x0, equal_var=False).confidence_interval(0.95)
        assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-10, abs=1e-12)

        m = int(RNG.integers(2, 120))
        pre = _sample(m, ties)
        post = pre + (_sample(m, ties) - 3.0) * (RNG.random(m) < 0.7)  # some d = 0
        d = post - pre
        plo, phi = vec.paired_interval(d.mean(), d.var(ddof=1), m)
        pci = sps.ttest_rel(post, pre).confidence_interval(0.95)
        assert (plo, phi) == pytest.approx((pci.low, pci.high), rel=1e-10, abs=1e-12)
        wp = vec.welch_p(x0.mean(), x0.var(ddof=1), n0, x1.mean(), x1.var(ddof=1), n1)
        assert wp == pytest.approx(sps.ttest_ind(x1, x0, equal_var=False).pvalue,
                                   rel=1e-10, abs=1e-300)
        assert (wp < 0.05) == (lo > 0 or hi < 0)
        if d.var() > 0:
            pp = vec.paired_p(d.mean(), d.var(ddof=1), m)
            assert pp == pytest.approx(sps.ttest_rel(post, pre).pvalue, rel=1e-10, abs=1e-300)
            assert (pp < 0.05) == (plo > 0 or phi < 0)


def test_paired_interval_of_constant_differences_is_the_point_as_in_scipy():
    pre = RNG.integers(1, 6, size=30).astype(float)
    for shift in (0.0, 0.5):
        post = pre + shift
        d = post - pre
        ci = sps.ttest_rel(post, pre).confidence_interval(0.95)
        assert vec.paired_interval(d.mean(), d.var(ddof=1), 30) == pytest.approx(
            (ci.low, ci.high))
