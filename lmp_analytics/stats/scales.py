"""Scale indicators (1–5 Likert means): mean with t interval, linked and unlinked change, alpha.

- Mean: x̄ ± t_{n−1} s/√n (Student). Multiply the SE by √Deff (see ``cluster``) when pooling
  schools.
- Linked change, d = post − pre: Wilcoxon signed-rank, normal approximation with tie correction,
  zeros dropped (``zero_method='wilcox'``, no continuity correction; equals R
  ``wilcox.test(paired=TRUE, exact=FALSE, correct=FALSE)``); matched-pairs rank-biserial
  r = (T⁺ − T⁻)/(T⁺ + T⁻) (Kerby 2014); standardised mean change d_z = mean(d)/sd(d) and
  g_z = d_z·(1 − 3/(4(n−1) − 1)).
- Unlinked change: Mann–Whitney U with continuity correction (R ``wilcox.test`` default, scipy
  ``mannwhitneyu`` default); rank-biserial r = 2U/(n₁n₂) − 1 = Cliff's δ; Cohen's d with the
  pooled SD (the d of independent groups, not d_z or Glass's Δ) and
  Hedges' g = d·(1 − 3/(4(n₁+n₂)−9)).
- Cronbach's α on complete cases with the Feldt (1965) interval.
Positive effect sizes mean the post round is higher (on these scales, higher is better).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from lmp_analytics.stats._common import (
    StatsInputError,
    as_float_array,
    check_conf,
    t_crit,
    two_sided_normal_p,
)

__all__ = [
    "CronbachAlpha",
    "MeanInterval",
    "PairedScaleChange",
    "UnpairedScaleChange",
    "cronbach_alpha",
    "mean_t_interval",
    "paired_scale_change",
    "unpaired_scale_change",
]


@dataclass(frozen=True, slots=True)
class MeanInterval:
    """Mean of a scale with its Student-t interval (NaN values dropped)."""

    n: int
    mean: float
    sd: float
    se: float
    ci_low: float
    ci_high: float
    conf: float


@dataclass(frozen=True, slots=True)
class PairedScaleChange:
    """Linked change d = post − pre: Wilcoxon signed-rank test and effect sizes.

    ``n_pairs`` counts complete pairs, ``n_nonzero`` the pairs with d ≠ 0 used by the test;
    ``t_plus``/``t_minus`` are the rank sums of positive/negative d; ``z`` is signed (+ = up).
    """

    n_pairs: int
    n_nonzero: int
    mean_diff: float
    t_plus: float
    t_minus: float
    z: float | None
    p_value: float
    rank_biserial: float
    d_z: float | None
    g_z: float | None


@dataclass(frozen=True, slots=True)
class UnpairedScaleChange:
    """Unlinked change (post vs pre): Mann–Whitney test and effect sizes.

    ``u_post`` is U of the post round (R's W with post first); ``cles`` = U/(n_pre n_post) =
    P(post > pre) + ½P(tie); ``cohens_d``/``hedges_g`` use the pooled SD; ``se_d`` is the
    large-sample SE of d.
    """

    n_pre: int
    n_post: int
    mean_diff: float
    u_post: float
    z: float | None
    p_value: float
    rank_biserial: float
    cles: float
    cohens_d: float | None
    hedges_g: float | None
    se_d: float | None


@dataclass(frozen=True, slots=True)
class CronbachAlpha:
    """Cronbach's α on ``n`` complete cases of ``k`` items, with the Feldt interval."""

    n: int
    k: int
    alpha: float
    ci_low: float
    ci_high: float
    conf: float


def mean_t_interval(values, conf: float = 0.95) -> MeanInterval:
    """Mean ± t_{n−1, 1−α/2}·s/√n over non-missing values (needs n >= 2)."""
    check_conf(conf)
    x = as_float_array(values, "values")
    x = x[~np.isnan(x)]
    n = x.size
    if n < 2:
        raise StatsInputError(f"mean_t_interval needs at least 2 values, got {n}")
    mean = float(x.mean())
    sd = float(x.std(ddof=1))
    se = sd / math.sqrt(n)
    half = t_crit(conf, n - 1) * se
    return MeanInterval(n, mean, sd, se, mean - half, mean + half, conf)


def paired_scale_change(pre, post) -> PairedScaleChange:
    """Wilcoxon signed-rank (Wilcoxon 1945; normal approximation) with rank-biserial, d_z, g_z.

    ``pre`` and ``post`` are aligned per pupil; pairs with a missing value are dropped.
    z = (T⁺ − n(n+1)/4) / sqrt(n(n+1)(2n+1)/24 − Σ(t³ − t)/48) over the n non-zero differences.
    """
    a = as_float_array(pre, "pre")
    b = as_float_array(post, "post")
    if a.shape != b.shape:
        raise StatsInputError(f"pre and post must align pupil by pupil: {a.size} vs {b.size}")
    keep = ~(np.isnan(a) | np.isnan(b))
    d = b[keep] - a[keep]
    n_pairs = d.size
    if n_pairs < 2:
        raise StatsInputError(f"paired_scale_change needs at least 2 complete pairs, got {n_pairs}")
    nz = d[d != 0]
    n = nz.size
    ranks = sps.rankdata(np.abs(nz))
    t_plus = float(ranks[nz > 0].sum())
    t_minus = float(ranks[nz < 0].sum())
    if n == 0:
        z, p, rb = None, 1.0, 0.0
    else:
        _, tie_counts = np.unique(np.abs(nz), return_counts=True)
        var = n * (n + 1) * (2 * n + 1) / 24 - float((tie_counts**3 - tie_counts).sum()) / 48
        z = (t_plus - n * (n + 1) / 4) / math.sqrt(var) if var > 0 else None
        p = 1.0 if z is None else two_sided_normal_p(z)
        rb = (t_plus - t_minus) / (t_plus + t_minus)
    sd = float(d.std(ddof=1))
    d_z = float(d.mean()) / sd if sd > 0 else None
    g_z = None if d_z is None else d_z * (1 - 3 / (4 * (n_pairs - 1) - 1))
    return PairedScaleChange(
        n_pairs=n_pairs,
        n_nonzero=n,
        mean_diff=float(d.mean()),
        t_plus=t_plus,
        t_minus=t_minus,
        z=z,
        p_value=p,
        rank_biserial=rb,
        d_z=d_z,
        g_z=g_z,
    )


def unpaired_scale_change(pre, post) -> UnpairedScaleChange:
    """Mann–Whitney U (normal approximation, tie and continuity corrected), Cliff's δ, Hedges' g.

    U_post = R_post − n_post(n_post+1)/2; rank-biserial r = 2U/(n₁n₂) − 1 (= Cliff's δ);
    d = (x̄_post − x̄_pre)/s_p with the pooled SD, g = d·(1 − 3/(4(n₁+n₂) − 9)) (Hedges 1981),
    SE(d) ≈ sqrt((n₁+n₂)/(n₁n₂) + d²/(2(n₁+n₂))).
    """
    x0 = as_float_array(pre, "pre")
    x1 = as_float_array(post, "post")
    x0 = x0[~np.isnan(x0)]
    x1 = x1[~np.isnan(x1)]
    n0, n1 = x0.size, x1.size
    if n0 < 2 or n1 < 2:
        raise StatsInputError(f"unpaired_scale_change needs >= 2 values per round, got {n0}, {n1}")
    pooled = np.concatenate([x1, x0])
    ranks = sps.rankdata(pooled)
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2)
    mu = n0 * n1 / 2
    _, tie_counts = np.unique(pooled, return_counts=True)
    big_n = n0 + n1
    var = (
        n0
        * n1
        / 12
        * ((big_n + 1) - float((tie_counts**3 - tie_counts).sum()) / (big_n * (big_n - 1)))
    )
    if var > 0:
        dev = u1 - mu
        z = math.copysign(max(abs(dev) - 0.5, 0.0), dev) / math.sqrt(var)
        p = min(1.0, two_sided_normal_p(z))
    else:
        z, p = None, 1.0
    s_p = math.sqrt(((n1 - 1) * x1.var(ddof=1) + (n0 - 1) * x0.var(ddof=1)) / (big_n - 2))
    mean_diff = float(x1.mean() - x0.mean())
    d = mean_diff / s_p if s_p > 0 else None
    g = None if d is None else d * (1 - 3 / (4 * big_n - 9))
    se_d = None if d is None else math.sqrt(big_n / (n0 * n1) + d**2 / (2 * big_n))
    return UnpairedScaleChange(
        n_pre=n0,
        n_post=n1,
        mean_diff=mean_diff,
        u_post=u1,
        z=z,
        p_value=p,
        rank_biserial=2 * u1 / (n0 * n1) - 1,
        cles=u1 / (n0 * n1),
        cohens_d=d,
        hedges_g=g,
        se_d=se_d,
    )


def cronbach_alpha(items, conf: float = 0.95) -> CronbachAlpha:
    """Cronbach's α = k/(k−1)·(1 − Σs_i²/s_total²) on complete rows, with the Feldt (1965) CI.

    ``items`` is an (n pupils × k items) array or a polars/pandas frame of item columns.
    Feldt: [1 − (1−α)·F_{1−α/2}(n−1, (n−1)(k−1)), 1 − (1−α)·F_{α/2}(n−1, (n−1)(k−1))].
    """
    check_conf(conf)
    arr = np.asarray(items.to_numpy() if hasattr(items, "to_numpy") else items, dtype=float)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise StatsInputError(f"cronbach_alpha needs an n × k array with k >= 2, got {arr.shape}")
    arr = arr[~np.isnan(arr).any(axis=1)]
    n, k = arr.shape
    if n < 3:
        raise StatsInputError(f"cronbach_alpha needs at least 3 complete rows, got {n}")
    item_var = arr.var(axis=0, ddof=1).sum()
    total_var = arr.sum(axis=1).var(ddof=1)
    if total_var == 0:
        raise StatsInputError("cronbach_alpha: every pupil has the same total score")
    alpha = k / (k - 1) * (1 - item_var / total_var)
    tail = (1 - conf) / 2
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1 - (1 - alpha) * sps.f.ppf(1 - tail, df1, df2)
    high = 1 - (1 - alpha) * sps.f.ppf(tail, df1, df2)
    return CronbachAlpha(n, k, float(alpha), float(low), float(high), conf)
