"""Scale reliability from the warehouse equals the textbook alpha on the same complete cases;
the national comparison reads the loaded Elevundersøkelsen rows and guards series breaks."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lmp_analytics.evaluation.national_benchmark import national_comparison
from lmp_analytics.evaluation.reliability import scale_reliability
from lmp_analytics.jobs import ingest_national
from lmp_analytics.national import SeriesBreakError
from lmp_analytics.warehouse import reading

FIXTURE = Path(__file__).parents[1] / "national" / "fixtures" / "synthetic_two_years_cp1252.csv"


def test_alpha_equals_the_covariance_formula_on_complete_cases(sample_warehouse):
    with reading(sample_warehouse) as con:
        got = scale_reliability(con, by_term=False, min_n=20)
        rows = con.sql(
            "SELECT a.round_id, a.elev, a.item, a.value FROM fct_answer a "
            "WHERE a.item IN ('laerer_bryr', 'laerer_respekt', 'laerer_hjelp') "
            "AND a.value IS NOT NULL"
        ).pl()
    wide = rows.pivot(on="item", index=["round_id", "elev"], values="value").drop_nulls()
    x = wide.select("laerer_bryr", "laerer_respekt", "laerer_hjelp").to_numpy().astype(float)
    k = x.shape[1]
    cov = np.cov(x, rowvar=False, ddof=1)
    alpha = k / (k - 1) * (1 - np.trace(cov) / cov.sum())
    row = got.filter(pl.col("indicator") == "relasjon_laerer").row(0, named=True)
    assert row["n"] == x.shape[0]
    assert row["alpha"] == pytest.approx(alpha, abs=1e-9)
    assert row["ci_low"] < row["alpha"] < row["ci_high"]


def test_national_comparison_uses_loaded_rows_and_refuses_a_break(sample_warehouse, tmp_path):
    wh = tmp_path / "w.duckdb"
    shutil.copyfile(sample_warehouse, wh)
    assert ingest_national([FIXTURE], warehouse=wh) > 0
    with reading(wh) as con:
        out = national_comparison(con, 2019, 2023)
        oslo = out.filter((pl.col("unit_code") == "0301") & pl.col("trinn").is_null()).row(
            0, named=True)
        assert oslo["national_change"] == pytest.approx(10.0 - 6.0)
        assert oslo["did"] == pytest.approx(oslo["unit_change"] - 4.0)
        with pytest.raises(SeriesBreakError):
            national_comparison(con, 2015, 2016)


def test_first_answer_counts_each_pupil_once_per_version(sample_warehouse):
    """Notebook 04's per-version alpha: each pupil's first answer only (repeated rounds once)."""
    with reading(sample_warehouse) as con:
        every = scale_reliability(con, by_term=False, min_n=2)
        first = scale_reliability(con, by_term=False, min_n=2, first_answer=True)
        pupils = con.sql(
            "SELECT r.versjon, count(DISTINCT a.elev) FROM fct_answer a JOIN fct_response r "
            "USING (round_id, gruppe, elev) WHERE a.item = 'laerer_bryr' AND a.value IS NOT NULL "
            "GROUP BY r.versjon").fetchall()
    row = first.filter(pl.col("indicator") == "relasjon_laerer").row(0, named=True)
    assert row["n"] <= dict(pupils)[row["versjon"]]
    assert row["n"] <= every.filter(pl.col("indicator") == "relasjon_laerer")["n"][0]
