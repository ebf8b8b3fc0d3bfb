"""Indicator tables: intervals equal the reference implementations on the same counts."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from lmp_analytics.metrics.indicators import _cluster_stats, indicator_table, indicator_tables
from lmp_analytics.stats.cluster import cluster_prevalence
from lmp_analytics.warehouse import reading


def test_school_shares_carry_the_statsmodels_wilson_interval(sample_warehouse):
    with reading(sample_warehouse) as con:
        t = indicator_table(con, "skole", indicator="mobbet")
    assert t.height == 8
    for row in t.iter_rows(named=True):
        lo, hi = proportion_confint(row["count"], row["n"], method="wilson")
        assert row["share"] == pytest.approx(row["count"] / row["n"], abs=1e-12)
        assert row["ci_low"] == pytest.approx(lo, abs=1e-9)
        assert row["ci_high"] == pytest.approx(hi, abs=1e-9)


def test_scale_means_carry_the_scipy_t_interval(sample_warehouse):
    with reading(sample_warehouse) as con:
        t = indicator_table(con, "skole", indicator="relasjon_laerer")
        pupils = con.sql(
            "SELECT round_id, value FROM fct_pupil_indicator "
            "WHERE indicator = 'relasjon_laerer' AND value IS NOT NULL"
        ).pl()
    for row in t.iter_rows(named=True):
        x = pupils.filter(pl.col("round_id") == row["round"])["value"].to_numpy()
        lo, hi = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
        assert row["n"] == len(x)
        assert row["mean"] == pytest.approx(x.mean(), abs=1e-9)
        assert row["mean_ci_low"] == pytest.approx(lo, abs=1e-9)
        assert row["mean_ci_high"] == pytest.approx(hi, abs=1e-9)


def test_vectorised_cluster_interval_equals_the_scalar_estimator():
    rng = np.random.default_rng(3)
    rows, agg = [], []
    for unit in range(4):
        g = 3 + unit * 2  # 3, 5, 7, 9 schools: the first has too few clusters
        n = rng.integers(30, 200, g)
        x = rng.binomial(n, 0.1)
        for s in range(g):
            rows.append((f"u{unit}", "share", int(n[s]), float(x[s]), 0.0, 0))
        agg.append((f"u{unit}", int(n.sum()), float(x.sum()), 0.0))
    schools = pl.DataFrame(rows, schema=["unit", "kind", "n", "count", "sum", "top_count"],
                           orient="row")
    totals = pl.DataFrame(agg, schema=["unit", "n", "x_total", "sum_total"], orient="row")
    got = _cluster_stats(totals, schools, ["unit"]).sort("unit")
    for unit in range(4):
        sub = schools.filter(pl.col("unit") == f"u{unit}")
        ref = cluster_prevalence(sub["count"].to_numpy(), sub["n"].to_numpy())
        row = got.row(unit, named=True)
        if ref.tested:
            assert row["ci_method"] == "cluster_t"
            assert row["ci_low"] == pytest.approx(ref.ci_low, abs=1e-12)
            assert row["ci_high"] == pytest.approx(ref.ci_high, abs=1e-12)
        else:
            assert row["ci_method"] == "wilson_srs"
            assert row["few_clusters"]


@pytest.mark.parametrize("level", ["gruppe", "skole", "kommune", "pulje", "program"])
@pytest.mark.parametrize("by", [None, "trinn", "kjonn"])
def test_one_read_for_many_indicators_gives_each_indicators_own_table(
    sample_warehouse, level, by
):
    with reading(sample_warehouse) as con:
        indicators = [r[0] for r in con.sql(
            "SELECT DISTINCT indicator FROM mart_indicator_counts ORDER BY 1").fetchall()]
        batch = indicator_tables(con, level, indicators=[*indicators, "no_such"], by=by)
        own = {ind: indicator_table(con, level, indicator=ind, by=by) for ind in indicators}
    assert len(indicators) > 1 and sum(t.height for t in own.values()) > 0
    for ind in indicators:
        assert batch[ind].schema == own[ind].schema
        assert batch[ind].rows() == own[ind].rows()  # same values, same order
    assert batch["no_such"].height == 0
