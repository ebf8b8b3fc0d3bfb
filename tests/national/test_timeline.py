"""The national series on the term axis (autumn survey year Y <-> term YH)."""

from __future__ import annotations

import pytest

from lmp_analytics.national import national_series_by_term


def test_series_by_term() -> None:
    series = national_series_by_term()
    composite = dict(zip(series["term"], series["value_pct"], strict=True))
    assert composite["2016H"] == 6.3  # S54
    assert composite["2023H"] == 10.0  # S66
    assert composite["2012V"] == 6.8  # spring survey, S21
    row = series.filter(series["term"] == "2020H").row(0, named=True)
    assert (row["school_year"], row["survey_year"], row["series_version"]) == (
        "2020-21",
        2020,
        "2016+",
    )


def test_aligned_to_spekter_terms() -> None:
    terms = ["2023h", "2024V", "2024H", "2025V"]
    series = national_series_by_term(trinn=7, terms=terms)
    assert series["term"].to_list() == ["2023H", "2024V", "2024H", "2025V"]
    assert series["value_pct"].to_list() == [13.0, None, 12.0, None]  # S66, S52
    assert series["school_year"].to_list() == ["2023-24", "2023-24", "2024-25", "2024-25"]
    assert series["trinn"].to_list() == [7] * 4
    assert series["measure"].to_list() == ["mobbing_paa_skolen"] * 4


@pytest.mark.parametrize("measure", ["mobbet_digitalt", "kun_digitalt"])
def test_other_measures(measure: str) -> None:
    series = national_series_by_term(measure)
    assert series.height >= 1
    assert series["term"].str.ends_with("H").all()
