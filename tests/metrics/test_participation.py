"""Response rates: hand-computed rates, the suppression threshold, and the same numbers in the
dashboard view and the school report."""

from __future__ import annotations

import polars as pl
import pytest

from lmp_analytics.metrics.participation import LOW_RESPONSE_RATE, enrolment, response_rates
from lmp_analytics.readmodels import quality
from lmp_analytics.reports.data import ReportError, ReportSource, school_report
from lmp_analytics.warehouse import reading

S1, S2 = "974589095", "974589109"


def _rounds() -> pl.DataFrame:
    return pl.DataFrame({
        "skole_orgnr": [S1, S1, S1, S2, S2],
        "round_id": ["r1", "r2", "r3", "r4", "r5"],
        "term": ["2023H", "2024V", "2024H", "2024H", "2024H"],
        "formal": ["forebyggende", None, "forebyggende", "mistanke", "forebyggende"],
        "respondents": [120, 60, 9, 25, 30],
        "skole": ["A", "A", "A", "B", "B"],
    })


def _enrolment() -> pl.DataFrame:
    # 2023H and 2024V are the school year 2023-24; 2024H is 2024-25 (S2 has no enrolment).
    return pl.DataFrame({"skole_orgnr": [S1, S1], "skoleaar": ["2023-24", "2024-25"],
                         "enrolled": [150, 200]})


def test_rates_are_respondents_over_the_school_years_enrolment():
    out = response_rates(_rounds(), _enrolment(), min_n=10)
    assert out["round_id"].to_list() == ["r1", "r2", "r3", "r4", "r5"]
    assert out["response_rate"].to_list()[:2] == pytest.approx([120 / 150, 60 / 150])
    assert out["low_rate"].to_list()[:2] == [False, True]  # 0.8 and 0.4 against 0.70
    assert 60 / 150 < LOW_RESPONSE_RATE <= 120 / 150
    assert out["enrolled"].to_list()[:2] == [150, 150]
    # a concrete-suspicion round and a school without enrolment get no rate
    assert out["response_rate"].to_list()[3:] == [None, None]
    assert out["skole"].to_list() == ["A", "A", "A", "B", "B"]  # labels kept


def test_rounds_below_min_n_show_no_number():
    out = response_rates(_rounds(), _enrolment(), min_n=10)
    hidden = out.filter(pl.col("round_id") == "r3").row(0, named=True)
    assert hidden["suppressed"] and hidden["n_display"] == "*"
    assert all(hidden[c] is None for c in ("n", "enrolled", "response_rate", "low_rate"))
    assert hidden["term"] == "2024H"  # keys and labels stay
    assert not out.filter(pl.col("round_id") != "r3")["suppressed"].any()


def test_view_and_report_show_the_same_rates(sample_warehouse):
    with reading(sample_warehouse) as con:
        assert enrolment(con).height > 0
    view = quality.response_rates(warehouse=sample_warehouse)
    source = ReportSource(warehouse=sample_warehouse)
    compared, rated = 0, 0
    for orgnr in view["skole_orgnr"].unique().sort().to_list():
        try:
            report = school_report(orgnr, source=source, warehouse=sample_warehouse)
        except ReportError:  # a school without a primary round has no report
            continue
        rows = view.filter(pl.col("skole_orgnr") == orgnr)
        for r in report.rounds:
            match = rows.filter((pl.col("term") == r.term) & (pl.col("versjon") == r.versjon)
                                & (pl.col("runde") == r.runde)).row(0, named=True)
            assert (r.respondents, r.enrolled, r.response_rate, r.suppressed) == (
                match["n"], match["enrolled"], match["response_rate"], match["suppressed"])
            assert r.low_rate == bool(match["low_rate"])
            compared += 1
            rated += r.response_rate is not None
    assert compared > 0 and rated > 0
