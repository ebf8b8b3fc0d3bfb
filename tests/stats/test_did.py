"""Staggered DiD: the golden panel (R did 2.1.1 = differences 0.3.0), pre-trend test, TWFE."""

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.formula.api as smf
from scipy import stats as sps

from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.did import staggered_did, twfe_contrast


def golden_panel() -> pl.DataFrame:
    """16 schools, cohorts g = 3, 4, 5, 6 (4 schools each), terms 1..8 (methods note §2.4)."""
    rows = []
    for s in range(16):
        g = 3 + s // 4
        for t in range(1, 9):
            e = t - g
            eff = -0.02 * (1 + min(e, 2)) if e >= 0 else 0.0
            y = 0.12 + 0.01 * (s % 5) - 0.004 * t + eff + ((17 * s + 31 * t) % 11 - 5) / 400
            rows.append((s, t, g, round(y, 6)))
    return pl.DataFrame(rows, schema=["skole_orgnr", "t", "g", "y"], orient="row")


# R did 2.1.1 att_gt(control_group='notyettreated', est_method='reg', base_period='varying'),
# printed to 6 dp in the methods note: (g, t): (ATT, SE). (5, 5) has SE 0 in Python, NA in R.
GOLDEN_ATT_GT = {
    (3, 2): (-0.006875, 0.003438),
    (3, 3): (-0.024583, 0.002959),
    (3, 4): (-0.040000, 0.008420),
    (3, 5): (-0.060000, 0.009723),
    (4, 2): (0.011458, 0.007217),
    (4, 3): (-0.006875, 0.004210),
    (4, 4): (-0.026875, 0.004210),
    (4, 5): (-0.040000, 0.009723),
    (5, 2): (-0.006875, 0.003438),
    (5, 3): (0.013750, 0.006875),
    (5, 4): (-0.013750, 0.006875),
    (5, 5): (-0.020000, 0.0),
}
GOLDEN_EVENT = {
    -3: (-0.006875, 0.003438),
    -2: (0.012604, 0.005011),
    -1: (-0.009167, 0.002687),
    0: (-0.023819, 0.001603),
    1: (-0.040000, 0.007292),
    2: (-0.060000, 0.009723),
}
# 6-dp rounding of the published values: allow half a unit in the 6th decimal.
TOL = 5e-7 + 1e-12


@pytest.fixture(scope="module")
def golden():
    return staggered_did(golden_panel())


def test_golden_att_gt(golden):
    """Reference: R did 2.1.1 / differences 0.3.0 ATT(g,t) and SE (methods note §2.4)."""
    got = {(r["g"], r["t"]): (r["att"], r["se"]) for r in golden.att_gt.iter_rows(named=True)}
    assert set(got) == set(GOLDEN_ATT_GT)
    for key, (att, se) in GOLDEN_ATT_GT.items():
        assert got[key][0] == pytest.approx(att, abs=TOL), key
        assert got[key][1] == pytest.approx(se, abs=TOL), key


def test_golden_aggregates(golden):
    """Reference: simple ATT −0.035243 [0.004865] and the event study (methods note §2.4)."""
    assert golden.simple.att == pytest.approx(-0.035243, abs=TOL)
    assert golden.simple.se == pytest.approx(0.004865, abs=TOL)
    ev = {r["e"]: (r["att"], r["se"]) for r in golden.event_study.iter_rows(named=True)}
    assert set(ev) == set(GOLDEN_EVENT)
    for e, (att, se) in GOLDEN_EVENT.items():
        assert ev[e][0] == pytest.approx(att, abs=TOL), e
        assert ev[e][1] == pytest.approx(se, abs=TOL), e


def test_intervals_use_t_with_treated_schools_minus_one(golden):
    """G = 12 treated schools (pulje 6 is control only): crit = t_{0.975, 11}."""
    assert golden.treated_units == 12 and golden.df == 11 and golden.units == 16
    crit = sps.t.ppf(0.975, 11)
    assert golden.crit == pytest.approx(crit, abs=1e-12)
    assert golden.simple.ci_low == pytest.approx(golden.simple.att - crit * golden.simple.se)
    row = golden.event_study.filter(pl.col("e") == 0).row(0, named=True)
    assert row["ci_high"] == pytest.approx(row["att"] + crit * row["se"], abs=1e-15)


def test_warnings_name_small_puljer_and_the_missing_never_treated(golden):
    text = " ".join(golden.warnings)
    assert "Pulje g=3 has only 4 school(s)" in text
    assert "No never-treated schools" in text
    assert "(5, 5)" in text  # the SE-0 cell


@pytest.mark.filterwarnings("ignore")  # differences' own pandas / never-treated warnings
def test_pre_trend_wald_matches_differences_internal_test(golden):
    """Reference: differences' own wald_pre_test on the same ATT(g,t) (its property wrapper
    raises TypeError in 0.3.0, the function itself works); F = (G−k)/(k(G−1))·W ~ F(k, G−k)."""
    from differences import ATTgt
    from differences.models.attgt.utility_ntl import wald_pre_test

    data = golden_panel().to_pandas().set_index(["skole_orgnr", "t"])
    model = ATTgt(data, "g")
    model.fit("y", est_method="reg", control_group="not_yet_treated", progress_bar=False)
    with pytest.raises(TypeError):
        _ = model.wald_pre_test
    ref = wald_pre_test(model.results(to_dataframe=False)["full_sample"])
    pre = golden.pre_trend
    assert pre.k == 6 and pre.clusters == 16
    assert pre.wald == pytest.approx(ref["W"], abs=1e-6)
    assert pre.chi2_p_value == pytest.approx(ref["p_value"], abs=1e-6)
    f_stat = (16 - 6) / (6 * 15) * pre.wald
    assert pre.f_stat == pytest.approx(f_stat, abs=1e-12)
    assert pre.p_value == pytest.approx(sps.f.sf(f_stat, 6, 10), abs=1e-12)
    assert pre.p_value > pre.chi2_p_value  # the finite-sample correction is less eager to reject


def test_never_treated_controls_match_the_2x2_formula():
    """Reference: ATT(g,t) = [Ȳ_g,t − Ȳ_g,g−1] − [Ȳ_C,t − Ȳ_C,g−1] with C = never treated,
    computed directly with polars means (Callaway & Sant'Anna 2021, no covariates)."""
    panel = golden_panel().with_columns(
        pl.when(pl.col("g") == 6).then(None).otherwise(pl.col("g")).alias("g")
    )
    res = staggered_did(panel, control_group="never_treated")
    means = panel.with_columns(pl.col("g").fill_null(0)).group_by("g", "t").agg(pl.col("y").mean())
    m = {(r["g"], r["t"]): r["y"] for r in means.iter_rows(named=True)}
    for g, t in [(3, 3), (3, 7), (4, 6), (5, 8)]:
        expected = (m[(g, t)] - m[(g, g - 1)]) - (m[(0, t)] - m[(0, g - 1)])
        got = res.att_gt.filter((pl.col("g") == g) & (pl.col("t") == t))["att"].item()
        assert got == pytest.approx(expected, abs=1e-12)
    assert res.treated_units == 12
    assert not any("No never-treated" in w for w in res.warnings)
    with pytest.raises(StatsInputError, match="never_treated"):
        staggered_did(golden_panel(), control_group="never_treated")


def test_options_anticipation_universal_weights_and_unbalanced():
    panel = golden_panel()
    uni = staggered_did(panel, base_period="universal", anticipation=1)
    ref_row = uni.event_study.filter(pl.col("e") == -2).row(0, named=True)
    assert ref_row["att"] == 0.0 and ref_row["se"] is None  # the reference period
    assert uni.pre_trend is not None and uni.pre_trend.k == 3  # only t < g − 1 cells
    weighted = staggered_did(panel.with_columns(pl.lit(100.0).alias("w")), weight="w")
    assert weighted.simple.att == pytest.approx(staggered_did(panel).simple.att, abs=1e-12)
    unbalanced = staggered_did(panel.filter(~((pl.col("skole_orgnr") == 0) & (pl.col("t") == 8))))
    assert any("unbalanced" in w for w in unbalanced.warnings)
    with pytest.raises(StatsInputError, match="varies over terms"):
        staggered_did(panel.with_columns(pl.col("t").cast(pl.Float64).alias("w")), weight="w")
    with pytest.raises(StatsInputError, match="repeat"):
        staggered_did(pl.concat([panel, panel.head(1)]))


def _dummy_twfe(panel: pl.DataFrame):
    df = panel.to_pandas()
    df["d"] = ((df["t"] >= df["g"]) & df["g"].notna()).astype(float)
    return smf.ols("y ~ d + C(skole_orgnr) + C(t)", df).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(df["skole_orgnr"])[0]}
    )


@pytest.mark.parametrize("drop_rows", [0, 3])
def test_twfe_matches_dummy_variable_ols(drop_rows):
    """Reference: statsmodels OLS y ~ d + C(school) + C(t), cluster by school (CR1 default),
    on the balanced golden panel and with rows dropped (unbalanced: alternating projections)."""
    panel = golden_panel()
    if drop_rows:
        panel = panel.filter(~((pl.col("t") == 8) & (pl.col("skole_orgnr") < drop_rows)))
    res = twfe_contrast(panel)
    ref = _dummy_twfe(panel)
    assert res.coef == pytest.approx(ref.params["d"], abs=1e-9)
    assert res.se == pytest.approx(ref.bse["d"], abs=1e-9)
    assert res.df == 15
    assert "comparison only" in res.label
    assert res.coef > np.mean([v[0] for k, v in GOLDEN_ATT_GT.items() if k[1] >= k[0]])


def test_degenerate_panels_raise_a_clear_input_error():
    """Panels of a minimal programme (one pulje and no comparison schools, one school, one term
    per school) give a StatsInputError that says why, not a numpy/scipy error from inside
    `differences`."""
    panel = golden_panel()
    one_pulje = panel.filter(pl.col("g") == 3)
    with pytest.raises(StatsInputError, match="no control schools"):
        staggered_did(one_pulje)
    with pytest.raises(StatsInputError, match="no control schools"):
        staggered_did(one_pulje.filter(pl.col("skole_orgnr") == 0))
    one_term = panel.filter(pl.col("t") == (pl.col("skole_orgnr") % 8) + 1)
    with pytest.raises(StatsInputError, match="single term"):
        staggered_did(one_term)
    # Two terms per school but never a base and a post term of the same pulje with controls.
    sparse_terms = panel.filter(pl.col("t").is_in([1, 8]))
    with pytest.raises(StatsInputError, match=r"no ATT\(g,t\) can be estimated"):
        staggered_did(sparse_terms)
    with pytest.raises(StatsInputError, match="no participating school"):
        staggered_did(panel.with_columns(pl.lit(None, pl.Int64).alias("g")))
