"""Per-school change: the wiring from warehouse to estimator is checked against a direct
computation with the stats layer and against statsmodels' cluster-robust OLS (the Wald form of
the overlap-corrected interval, METHODS §1a)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.formula.api as smf

from lmp_analytics.evaluation.school_change import consecutive_round_changes, phase_changes
from lmp_analytics.stats.change import change_from_rounds
from lmp_analytics.warehouse import reading


def _pupils(con, round_id: str) -> pl.DataFrame:
    return con.sql(
        "SELECT elev, value FROM fct_pupil_indicator WHERE indicator = 'mobbet' "
        "AND value IS NOT NULL AND round_id = ?", params=[round_id]
    ).pl()


def test_phase_one_change_equals_the_estimator_on_the_same_pupils(sample_warehouse):
    with reading(sample_warehouse) as con:
        out = phase_changes(con, indicator="mobbet", phase=1)
        row = out.filter(pl.col("skole_orgnr") == "974590123").row(0, named=True)
        pre, post = _pupils(con, row["pre_round"]), _pupils(con, row["post_round"])
    ref = change_from_rounds(pre, post, pupil="elev", y="value")
    assert row["pre_term"] == "2024H" and row["post_term"] == "2025V"
    assert (row["pre_n"], row["post_n"], row["linked_n"]) == (ref.pre_n, ref.post_n, ref.linked_n)
    assert row["diff"] == pytest.approx(ref.diff, abs=1e-12)
    assert row["diff_ci_low"] == pytest.approx(ref.ci_low, abs=1e-12)
    assert row["p_value"] == pytest.approx(ref.p_value, abs=1e-12)
    assert row["test"] == "mover_inversion"
    assert row["verdict"] in ("tydelig nedgang", "ingen tydelig endring", "tydelig økning")
    assert row["rtm_warning"] is (row["diff"] < 0)

    # Wald cross-check: OLS y ~ post on stacked pupil rows, cluster-robust by pupil.
    stacked = pl.concat([
        pre.with_columns(pl.lit(0).alias("post")), post.with_columns(pl.lit(1).alias("post"))
    ]).to_pandas()
    fit = smf.ols("value ~ post", stacked).fit(
        cov_type="cluster", cov_kwds={"groups": stacked["elev"], "use_correction": False}
    )
    assert fit.params["post"] == pytest.approx(row["diff"], abs=1e-12)


def test_untested_below_min_n_and_bh_only_counts_tested(sample_warehouse):
    with reading(sample_warehouse) as con:
        out = phase_changes(con, indicator="mobbet", phase=1, min_n=11)
    small = out.filter((pl.col("pre_n") < 11) | (pl.col("post_n") < 11))
    assert small.height >= 1
    assert small["p_value"].null_count() == small.height
    assert small["verdict"].null_count() == small.height
    tested = out.filter(pl.col("tested"))
    assert (tested["p_adjusted"] >= tested["p_value"] - 1e-15).all()


def test_consecutive_rounds_scale_change_uses_the_welch_interval_and_its_test(sample_warehouse):
    from scipy import stats as sps

    with reading(sample_warehouse) as con:
        out = consecutive_round_changes(con, indicator="relasjon_laerer")
        row = out.filter(pl.col("skole_orgnr") == "974590123").row(0, named=True)
        vals = {
            r: con.sql(
                "SELECT elev, value FROM fct_pupil_indicator WHERE indicator = "
                "'relasjon_laerer' AND value IS NOT NULL AND round_id = ?", params=[r]
            ).pl()
            for r in (row["pre_round"], row["post_round"])
        }
    x0, x1 = vals[row["pre_round"]]["value"].to_numpy(), vals[row["post_round"]]["value"].to_numpy()
    ci = sps.ttest_ind(x1, x0, equal_var=False).confidence_interval(0.95)
    assert row["diff"] == pytest.approx(x1.mean() - x0.mean(), abs=1e-12)
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)
    pairs = vals[row["pre_round"]].join(vals[row["post_round"]], on="elev", suffix="_post")
    ref = sps.ttest_ind(x1, x0, equal_var=False)
    assert row["test"] == "welch_t"
    assert row["p_value"] == pytest.approx(ref.pvalue, abs=1e-12)
    paired = sps.ttest_rel(pairs["value_post"].to_numpy(), pairs["value"].to_numpy())
    assert row["linked_p_value"] == pytest.approx(paired.pvalue, abs=1e-12)
    assert np.isfinite(row["linked_diff"])
