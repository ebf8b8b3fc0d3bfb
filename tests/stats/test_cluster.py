"""Cluster-robust pooled shares and the 2×2 DiD of ratio estimators against statsmodels."""

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats as sps
from statsmodels.stats.anova import anova_lm

from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.cluster import (
    anova_icc,
    cluster_did,
    cluster_prevalence,
    design_effect_from_icc,
)


def _schools(seed: int, g: int):
    rng = np.random.default_rng(seed)
    n = rng.integers(20, 200, g)
    p = np.clip(rng.normal(0.09, 0.03, g), 0.005, 0.5)
    x = rng.binomial(n, p)
    return x, n


def _pupil_rows(x, n) -> pd.DataFrame:
    school = np.repeat(np.arange(len(n)), n)
    y = np.concatenate([np.r_[np.ones(xi), np.zeros(ni - xi)] for xi, ni in zip(x, n, strict=True)])
    return pd.DataFrame({"school": school, "y": y})


@pytest.mark.parametrize(("seed", "g"), [(1, 5), (2, 12), (3, 40)])
def test_ratio_estimator_matches_statsmodels_ols_and_gee(seed, g):
    """Reference: OLS y ~ 1 clustered by school on pupil 0/1 rows. Exact relation:
    V = G/(G−1)·V(use_correction=False) = V(use_correction=True, since (N−1)/(N−K) = 1 at K = 1);
    GEE independence robust = the uncorrected sandwich. CI: statsmodels t_{G−1} interval."""
    x, n = _schools(seed, g)
    res = cluster_prevalence(x, n)
    df = _pupil_rows(x, n)
    raw = smf.ols("y ~ 1", df).fit(
        cov_type="cluster", cov_kwds={"groups": df["school"], "use_correction": False}
    )
    cr1 = smf.ols("y ~ 1", df).fit(
        cov_type="cluster", cov_kwds={"groups": df["school"]}, use_t=True
    )
    gee = smf.gee(
        "y ~ 1",
        "school",
        df,
        family=sm.families.Gaussian(),
        cov_struct=sm.cov_struct.Independence(),
    ).fit()
    assert res.share == pytest.approx(cr1.params["Intercept"], abs=1e-12)
    assert res.se == pytest.approx(np.sqrt(g / (g - 1)) * raw.bse["Intercept"], abs=1e-9)
    assert res.se == pytest.approx(cr1.bse["Intercept"], abs=1e-9)
    assert res.se == pytest.approx(np.sqrt(g / (g - 1)) * gee.bse["Intercept"], abs=1e-9)
    low, high = cr1.conf_int().loc["Intercept"]
    assert (res.ci_low, res.ci_high) == pytest.approx((max(0, low), high), abs=1e-9)
    assert res.df == g - 1
    srs = res.share * (1 - res.share) / n.sum()
    assert res.design_effect == pytest.approx(res.se**2 / srs)


def test_few_schools_give_no_interval():
    """Methods note §1c: with G <= 4 no municipality-level inference is reported."""
    res = cluster_prevalence([3, 5, 2, 7], [50, 60, 40, 80])
    assert not res.tested and res.se is None and res.ci_low is None
    assert res.share == pytest.approx(17 / 230)
    assert cluster_prevalence([3, 5, 2, 7, 1], [50, 60, 40, 80, 30]).tested


def test_anova_icc_matches_statsmodels_anova_table():
    """Reference: one-way ANOVA mean squares from statsmodels anova_lm on pupil rows."""
    x, n = _schools(7, 25)
    df = _pupil_rows(x, n)
    table = anova_lm(smf.ols("y ~ C(school)", df).fit())
    msb, msw = table["mean_sq"].iloc[0], table["mean_sq"].iloc[1]
    big_n, k = n.sum(), n.size
    m0 = (big_n - (n**2).sum() / big_n) / (k - 1)
    assert anova_icc(x, n) == pytest.approx((msb - msw) / (msb + (m0 - 1) * msw), abs=1e-12)


def test_design_effect_formula():
    """Methods note §1c: m̄ = 165, CV = 0.34, ρ = 0.0088 → Deff ≈ 2.6 (Eldridge et al. 2006)."""
    n = np.array([165 * (1 - 0.34), 165 * (1 + 0.34)])  # mean 165, population CV 0.34
    assert design_effect_from_icc(n, 0.0088) == pytest.approx(2.6, abs=0.05)
    assert design_effect_from_icc(n, 0.0) == 1.0


def _did_frame(seed: int, g_t: int, g_c: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(g_t + g_c):
        treated = s < g_t
        base = rng.normal(0.10, 0.03)
        for post in (False, True):
            n = int(rng.integers(30, 150))
            p = np.clip(base - (0.03 if treated and post else 0.0) - 0.01 * post, 0.01, 0.6)
            rows.append((f"97{s:07d}", treated, post, int(rng.binomial(n, p)), n))
    return pl.DataFrame(rows, schema=["skole_orgnr", "treated", "post", "x", "n"], orient="row")


@pytest.mark.parametrize("seed", [1, 2])
def test_cluster_did_matches_ols_interaction(seed):
    """Reference: OLS y ~ treated*post on pupil rows clustered by school: the interaction equals
    the DiD of ratio estimators; V = G/(G−1)·V(use_correction=False)."""
    frame = _did_frame(seed, 8, 11)
    res = cluster_did(frame)
    parts = []
    for r in frame.iter_rows(named=True):
        parts.append(
            pd.DataFrame(
                {
                    "school": r["skole_orgnr"],
                    "treated": float(r["treated"]),
                    "post": float(r["post"]),
                    "y": np.r_[np.ones(r["x"]), np.zeros(r["n"] - r["x"])],
                }
            )
        )
    df = pd.concat(parts, ignore_index=True)
    fit = smf.ols("y ~ treated * post", df).fit(
        cov_type="cluster",
        cov_kwds={"groups": pd.factorize(df["school"])[0], "use_correction": False},
    )
    g = 19
    assert res.did == pytest.approx(fit.params["treated:post"], abs=1e-12)
    assert res.se == pytest.approx(np.sqrt(g / (g - 1)) * fit.bse["treated:post"], abs=1e-9)
    assert res.p_value == pytest.approx(2 * sps.t.sf(abs(res.did / res.se), g - 1), abs=1e-12)
    assert res.treated_clusters == 8 and res.comparison_clusters == 11 and res.tested


def test_cluster_did_needs_five_schools_per_arm_and_valid_input():
    res = cluster_did(_did_frame(3, 4, 10))
    assert not res.tested and res.p_value is None and res.did is not None
    bad = _did_frame(3, 6, 6).with_columns(pl.lit(5).alias("n"), pl.lit(6).alias("x"))
    with pytest.raises(StatsInputError):
        cluster_did(bad)
    with pytest.raises(StatsInputError, match="lacks column"):
        cluster_did(_did_frame(3, 6, 6).drop("post"))
