"""Municipality / programme level: shares pooled over schools with school-cluster-robust variance.

Ratio estimator p = Σx_s/Σn_s with the CR1 sandwich variance

    V = G/(G−1) · Σ_s (x_s − p·n_s)² / (Σ_s n_s)²,

and a t_{G−1} interval. V equals statsmodels' default cluster-robust variance of the intercept in
OLS ``y ~ 1`` on stacked pupil 0/1 rows clustered by school (``use_correction=True``, whose factor
G/(G−1)·(N−1)/(N−K) is exactly G/(G−1) when K = 1), i.e. G/(G−1) times the uncorrected sandwich
(``use_correction=False``, = GEE independence 'robust'). With G ≤ 4 schools no interval or test is
reported (the sandwich is badly biased downward; show the school estimates instead).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats as sps

from lmp_analytics.stats._common import StatsInputError, as_float_array, check_conf, t_crit

__all__ = [
    "ClusterDiD",
    "ClusterPrevalence",
    "anova_icc",
    "cluster_did",
    "cluster_prevalence",
    "design_effect_from_icc",
]

MIN_CLUSTERS = 5


@dataclass(frozen=True, slots=True)
class ClusterPrevalence:
    """Pooled share over ``clusters`` schools with cluster-robust SE and t_{G−1} interval.

    ``design_effect`` = V / (p(1−p)/n): the variance inflation from clustering (Kish). ``se``,
    the interval and ``design_effect`` are None when ``tested`` is False (G below the minimum).
    """

    clusters: int
    x: int
    n: int
    share: float
    se: float | None
    df: int
    ci_low: float | None
    ci_high: float | None
    design_effect: float | None
    tested: bool
    conf: float


@dataclass(frozen=True, slots=True)
class ClusterDiD:
    """2×2 difference-in-differences of pupil-weighted shares, participants vs comparison schools.

    did = (p_T,post − p_T,pre) − (p_C,post − p_C,pre), every p a ratio Σx/Σn over the arm's
    schools in that round. Under parallel trends of the pupil-weighted share it estimates the
    participants' average effect at the post round (pupil-weighted, composition change included).
    With staggered starts use ``did.staggered_did`` instead. SE: school-clustered CR1 over all G
    schools (a school's pre and post rows are one cluster); t_{G−1} interval and p-value; not
    tested unless each arm has at least 5 schools.
    """

    treated_clusters: int
    comparison_clusters: int
    treated_pre: float
    treated_post: float
    comparison_pre: float
    comparison_post: float
    treated_change: float
    comparison_change: float
    did: float
    se: float | None
    df: int
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    tested: bool
    conf: float


def _counts(x_s, n_s) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(x_s, "x_s")
    n = as_float_array(n_s, "n_s")
    if x.shape != n.shape:
        raise StatsInputError(f"x_s and n_s differ in length: {x.size} vs {n.size}")
    if np.any(n < 0) or np.any(x < 0) or np.any(x > n) or np.any(np.isnan(x + n)):
        raise StatsInputError("every school needs 0 <= x_s <= n_s (no missing values)")
    return x, n


def cluster_prevalence(
    x_s, n_s, conf: float = 0.95, min_clusters: int = MIN_CLUSTERS
) -> ClusterPrevalence:
    """Ratio estimator Σx/Σn over schools with CR1 school-cluster-robust SE and t_{G−1} CI.

    Schools with n_s = 0 are not counted in G. The interval is clipped to [0, 1].
    """
    check_conf(conf)
    x, n = _counts(x_s, n_s)
    keep = n > 0
    x, n = x[keep], n[keep]
    g = int(x.size)
    total_n = float(n.sum())
    if total_n == 0:
        raise StatsInputError("no respondents in any school")
    p = float(x.sum()) / total_n
    tested = g >= max(min_clusters, 2)
    if not tested:
        return ClusterPrevalence(
            g, int(x.sum()), int(total_n), p, None, max(g - 1, 0), None, None, None, False, conf
        )
    var = g / (g - 1) * float(((x - p * n) ** 2).sum()) / total_n**2
    se = math.sqrt(var)
    half = t_crit(conf, g - 1) * se
    srs = p * (1 - p) / total_n
    deff = var / srs if srs > 0 else None
    return ClusterPrevalence(
        clusters=g,
        x=int(x.sum()),
        n=int(total_n),
        share=p,
        se=se,
        df=g - 1,
        ci_low=max(0.0, p - half),
        ci_high=min(1.0, p + half),
        design_effect=deff,
        tested=True,
        conf=conf,
    )


def anova_icc(x_s, n_s) -> float:
    """One-way ANOVA ICC on the observed 0/1 scale from per-school counts.

    ρ = (MSB − MSW)/(MSB + (m₀ − 1)MSW), m₀ = (N − Σn_s²/N)/(k − 1). Do not substitute the
    latent-scale ICC of a logistic mixed model (it is several times larger).
    """
    x, n = _counts(x_s, n_s)
    keep = n > 0
    x, n = x[keep], n[keep]
    k = x.size
    big_n = float(n.sum())
    if k < 2 or big_n <= k:
        raise StatsInputError(f"anova_icc needs >= 2 schools and more pupils than schools ({k})")
    p = float(x.sum()) / big_n
    p_s = x / n
    msb = float((n * (p_s - p) ** 2).sum()) / (k - 1)
    msw = float((x - x**2 / n).sum()) / (big_n - k)
    m0 = (big_n - float((n**2).sum()) / big_n) / (k - 1)
    denom = msb + (m0 - 1) * msw
    return (msb - msw) / denom if denom > 0 else 0.0


def design_effect_from_icc(n_s, icc: float) -> float:
    """Deff = 1 + ((1 + CV²)·m̄ − 1)·ρ for unequal cluster sizes (Eldridge, Ashby & Kerry 2006).

    m̄ and CV (population SD / mean) of the school sizes ``n_s``.
    """
    n = as_float_array(n_s, "n_s")
    n = n[n > 0]
    if n.size == 0:
        raise StatsInputError("design_effect_from_icc: no school with respondents")
    m_bar = float(n.mean())
    cv = float(n.std(ddof=0)) / m_bar
    return 1.0 + ((1.0 + cv**2) * m_bar - 1.0) * icc


def cluster_did(
    frame: pl.DataFrame,
    *,
    unit: str = "skole_orgnr",
    treated: str = "treated",
    post: str = "post",
    x: str = "x",
    n: str = "n",
    conf: float = 0.95,
    min_clusters: int = MIN_CLUSTERS,
) -> ClusterDiD:
    """DiD of two ratio estimators (participants vs comparison, pre vs post), school-clustered.

    ``frame`` has one or more rows per (school, round) with counts x of n; ``treated`` and
    ``post`` are booleans. Each school's contribution to the influence function is
    IF_s = Σ_cells ±(x_sc − p_c·n_sc)/N_c; V = G/(G−1)·Σ_s IF_s². This equals G/(G−1) times the
    uncorrected cluster sandwich of the interaction in OLS ``y ~ treated*post`` on pupil rows.
    """
    check_conf(conf)
    missing = [c for c in (unit, treated, post, x, n) if c not in frame.columns]
    if missing:
        raise StatsInputError(f"cluster_did: frame lacks column(s) {missing}; has {frame.columns}")
    f = frame.select(
        pl.col(unit).alias("unit"),
        pl.col(treated).cast(pl.Boolean).alias("treated"),
        pl.col(post).cast(pl.Boolean).alias("post"),
        pl.col(x).cast(pl.Float64).alias("x"),
        pl.col(n).cast(pl.Float64).alias("n"),
    )
    if f.null_count().sum_horizontal().item() > 0:
        raise StatsInputError("cluster_did: missing values in the key or count columns")
    if f.filter((pl.col("x") < 0) | (pl.col("x") > pl.col("n"))).height:
        raise StatsInputError(f"cluster_did: every row needs 0 <= {x} <= {n}")
    arms = f.group_by("unit").agg(pl.col("treated").n_unique().alias("k"))
    if arms.filter(pl.col("k") > 1).height:
        raise StatsInputError(
            f"cluster_did: school(s) {arms.filter(pl.col('k') > 1)['unit'].to_list()[:5]} are "
            "marked both participant and comparison"
        )
    cells = f.group_by("unit", "treated", "post").agg(pl.col("x").sum(), pl.col("n").sum())
    totals = cells.group_by("treated", "post").agg(
        pl.col("x").sum().alias("X"), pl.col("n").sum().alias("N")
    )
    share = {(r["treated"], r["post"]): (r["X"], r["N"]) for r in totals.iter_rows(named=True)}
    for key in ((True, False), (True, True), (False, False), (False, True)):
        if key not in share or share[key][1] == 0:
            arm = "participant" if key[0] else "comparison"
            rnd = "post" if key[1] else "pre"
            raise StatsInputError(f"cluster_did: no {arm} respondents in the {rnd} round")
    p = {k: v[0] / v[1] for k, v in share.items()}
    # Each cell's influence: ±(x_sc − p_c·n_sc)/N_c, + for participant-post and comparison-pre.
    weights = totals.with_columns(
        (pl.col("X") / pl.col("N")).alias("p_c"),
        pl.when(pl.col("treated") == pl.col("post")).then(1.0).otherwise(-1.0).alias("sign"),
    )
    contrib = cells.join(weights, on=["treated", "post"]).with_columns(
        (pl.col("sign") * (pl.col("x") - pl.col("p_c") * pl.col("n")) / pl.col("N")).alias("if_")
    )
    # Sorted, so the sum of squares below adds in one order: the same data always gives the
    # same last bit (a hash group_by returns its groups in any order).
    per_unit = contrib.group_by("unit", "treated").agg(pl.col("if_").sum()).sort("unit",
                                                                                "treated")
    g = per_unit.height
    g_t = per_unit.filter(pl.col("treated")).height
    g_c = g - g_t
    t_change = p[(True, True)] - p[(True, False)]
    c_change = p[(False, True)] - p[(False, False)]
    est = t_change - c_change
    tested = min(g_t, g_c) >= min_clusters
    se = lo = hi = pv = None
    if tested:
        se = math.sqrt(g / (g - 1) * float((per_unit["if_"] ** 2).sum()))
        half = t_crit(conf, g - 1) * se
        lo, hi = est - half, est + half
        pv = float(2 * sps.t.sf(abs(est / se), g - 1)) if se > 0 else 1.0
    return ClusterDiD(
        treated_clusters=g_t,
        comparison_clusters=g_c,
        treated_pre=p[(True, False)],
        treated_post=p[(True, True)],
        comparison_pre=p[(False, False)],
        comparison_post=p[(False, True)],
        treated_change=t_change,
        comparison_change=c_change,
        did=est,
        se=se,
        df=g - 1,
        ci_low=lo,
        ci_high=hi,
        p_value=pv,
        tested=tested,
        conf=conf,
    )
