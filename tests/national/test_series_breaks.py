"""Survey timing, series versions and the series-break guard (DOMAIN §4.3, §8.8 case 3)."""

from __future__ import annotations

import pytest

from lmp_analytics.errors import LmpError, TermError
from lmp_analytics.national import (
    SeriesBreakError,
    breaks_between,
    check_comparable,
    parse_school_year,
    series_version,
    survey_term,
    survey_year_of_term,
)


def test_survey_terms() -> None:
    assert survey_term(2012) == "2012V"  # spring survey until 2012
    assert survey_term(2013) == "2013H"
    assert survey_term("2024h") == "2024H"
    assert survey_year_of_term("2016H") == 2016
    assert survey_year_of_term("2012V") == 2012
    with pytest.raises(TermError, match="autumn"):
        survey_year_of_term("2016V")
    with pytest.raises(TermError):
        survey_term(True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-25", ("2024-25", 2024, "2024H")),
        ("2024–25", ("2024-25", 2024, "2024H")),
        ("2024-2025", ("2024-25", 2024, "2024H")),
        ("2024/25", ("2024-25", 2024, "2024H")),
        ("2013-14", ("2013-14", 2013, "2013H")),
        ("2011-12", ("2011-12", 2012, "2012V")),
        ("1999-00", ("1999-00", 2000, "2000V")),
    ],
)
def test_parse_school_year(text: str, expected: tuple) -> None:
    assert parse_school_year(text) == expected


@pytest.mark.parametrize("text", ["2024-26", "2024", "24-25", "høst 2024"])
def test_parse_school_year_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_school_year(text)


def test_transition_school_year_is_refused() -> None:
    with pytest.raises(ValueError, match="spring survey ran until 2012"):
        parse_school_year("2012-13")


def test_series_versions() -> None:
    assert [series_version(y) for y in (2010, 2012, 2013, 2015, 2016, 2023, 2024)] == [
        "pre2013_spring",
        "pre2013_spring",
        "2013_2015",
        "2013_2015",
        "2016+",
        "2016+",
        "2016+",  # the 2024 revision is only a placeholder
    ]


@pytest.mark.parametrize(("pre", "post", "year"), [(2012, 2013, "2013"), (2015, 2016, "2016")])
def test_guard_refuses_bridging_comparisons(pre: int, post: int, year: str) -> None:
    for a, b in ((pre, post), (post, pre)):
        with pytest.raises(SeriesBreakError) as info:
            check_comparable(a, b)
        message = str(info.value)
        assert f"series break of {year}" in message
        assert "allow_break=True" in message
    assert issubclass(SeriesBreakError, LmpError)


def test_guard_names_every_break_and_can_be_overridden() -> None:
    with pytest.raises(SeriesBreakError, match="breaks of 2013, 2016"):
        check_comparable(2012, 2019)
    bridged = check_comparable(2012, 2019, allow_break=True)
    assert [b.from_year for b in bridged] == [2013, 2016]


def test_guard_passes_within_a_version_and_reports_placeholder() -> None:
    assert check_comparable(2016, 2023) == ()
    assert check_comparable(2013, 2015) == ()
    placeholder = check_comparable(2023, 2024)  # not refused, only reported
    assert [(b.from_year, b.confirmed) for b in placeholder] == [(2024, False)]
    assert breaks_between(2019, 2019) == ()
