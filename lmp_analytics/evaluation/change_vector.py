"""Array versions of the per-pair change statistics, for many pairs of rounds at once.

Each function applies, element by element, the same formula as the scalar reference-checked
function it names (same operations in the same order), so the results equal the scalar ones to
rounding; the tests check them against the scalar functions and scipy on many random tables.
Where a scalar function takes a special branch that is not reproduced here, the caller sends
the row to the scalar function instead (``needs_scalar``).
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from lmp_analytics.stats.paired import phi_star_arrays
from lmp_analytics.stats.proportions import wilson_bounds

Z95 = 0.95


def _half(conf: float) -> float:
    return 1.0 - (1.0 - conf) / 2.0


# --- shares ---------------------------------------------------------------------------------

phi_star = phi_star_arrays  # ``stats.paired.phi_star`` on arrays of paired tables


def mover_interval(a, b, c, d, x_pre, n_pre, x_post, n_post, conf: float = Z95):
    """``stats.change.mover_ci`` on arrays (round totals x, n of every respondent); returns
    (diff, low, high). Needs n_pre, n_post > 0."""
    p_pre, p_post = x_pre / n_pre, x_post / n_post
    l_pre, u_pre = wilson_bounds(x_pre, n_pre, conf)
    l_post, u_post = wilson_bounds(x_post, n_post, conf)
    big_n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(big_n == 0, 0.0,
                     phi_star(a, b, c, d) * big_n / np.sqrt((n_pre * n_post).astype(float)))
    diff = p_post - p_pre
    down = ((p_post - l_post) ** 2 + (u_pre - p_pre) ** 2
            - 2 * r * (p_post - l_post) * (u_pre - p_pre))
    up = (u_post - p_post) ** 2 + (p_pre - l_pre) ** 2 - 2 * r * (u_post - p_post) * (p_pre - l_pre)
    low = np.maximum(-1.0, diff - np.sqrt(np.maximum(down, 0.0)))
    high = np.minimum(1.0, diff + np.sqrt(np.maximum(up, 0.0)))
    return diff, low, high


def newcombe_paired_interval(a, b, c, d, conf: float = Z95):
    """``stats.paired.newcombe_paired_ci`` on arrays (N > 0); returns (diff, low, high)."""
    big_n = a + b + c + d
    phi = phi_star(a, b, c, d)
    p0, p1 = (a + b) / big_n, (a + c) / big_n
    l0, u0 = wilson_bounds(a + b, big_n, conf)
    l1, u1 = wilson_bounds(a + c, big_n, conf)
    diff = p1 - p0
    down = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u0 - p0) + (u0 - p0) ** 2
    up = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p0 - l0) + (p0 - l0) ** 2
    low = diff - np.sqrt(np.maximum(down, 0.0))
    high = diff + np.sqrt(np.maximum(up, 0.0))
    return diff, np.maximum(-1.0, low), np.minimum(1.0, high)


# --- scales ---------------------------------------------------------------------------------

def welch_interval(m0, v0, n0, m1, v1, n1, conf: float = Z95):
    """Welch interval of mean1 − mean0 from means, sample variances and sizes;
    ``scipy.stats.ttest_ind(x1, x0, equal_var=False).confidence_interval(conf)``."""
    a, b = v1 / n1, v0 / n0
    se = np.sqrt(a + b)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n0 - 1))
    half = sps.t.ppf(_half(conf), df) * se
    diff = m1 - m0
    return diff - half, diff + half


def paired_interval(d_mean, d_var, n, conf: float = Z95):
    """Paired-t interval of the mean difference;
    ``scipy.stats.ttest_rel(post, pre).confidence_interval(conf)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        half = sps.t.ppf(_half(conf), n - 1) * np.sqrt(d_var / n)
    return d_mean - half, d_mean + half


def welch_p(m0, v0, n0, m1, v1, n1):
    """Two-sided Welch t-test p of mean1 − mean0, the dual of :func:`welch_interval`;
    ``scipy.stats.ttest_ind(x1, x0, equal_var=False).pvalue``."""
    a, b = v1 / n1, v0 / n0
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n0 - 1))
        t = (m1 - m0) / np.sqrt(a + b)
        return 2.0 * sps.t.sf(np.abs(t), df)


def paired_p(d_mean, d_var, n):
    """Two-sided paired t-test p, the dual of :func:`paired_interval`;
    ``scipy.stats.ttest_rel(post, pre).pvalue``. With no variance in the differences: 1 when
    they are all 0, else 0 (the interval is then the single point ``d_mean``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = d_mean / np.sqrt(d_var / n)
        p = 2.0 * sps.t.sf(np.abs(t), n - 1)
    return np.where(d_var == 0, np.where(d_mean == 0, 1.0, 0.0), p)
