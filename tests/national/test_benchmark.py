"""Unit change vs national change: DID_PP and relative changes (DOMAIN §8.4, §8.8 case 2)."""

from __future__ import annotations

import polars as pl
import pytest

from lmp_analytics.errors import LmpError
from lmp_analytics.national import (
    BENCHMARK_COLUMNS,
    SeriesBreakError,
    benchmark_change,
    benchmark_changes,
    national_reference_results,
    read_eu_export,
)

from .conftest import FIXTURES

# LMP pilot, ungdomstrinn, 2012 -> 2014 [S7 LMS, "Redusert mobbing med Læringsmiljøprosjektet"]:
# published: project -4.3 pp / -38 %, national -3.2 pp / -44 %. Levels implied by them (not
# published): project 11.3 % -> 7.0 %, national 7.3 % -> 4.1 %.
PILOT = {"unit_pre": 11.3, "unit_post": 7.0, "national_pre": 7.3, "national_post": 4.1}


def test_pilot_bridges_the_2013_break() -> None:
    with pytest.raises(SeriesBreakError, match="2013"):
        benchmark_change(2012, 2014, **PILOT)


def test_pilot_did_and_relative_changes() -> None:
    result = benchmark_change(2012, 2014, **PILOT, allow_break=True)
    assert result.unit_change == pytest.approx(-4.3)
    assert result.national_change == pytest.approx(-3.2)
    assert result.did == pytest.approx(-1.1)
    assert round(result.unit_change_rel * 100) == -38
    assert round(result.national_change_rel * 100) == -44
    # the two measures disagree: more than the nation in points, less in relative terms
    assert result.did < 0 < result.unit_change_rel - result.national_change_rel
    assert result.bridges_break is True
    assert result.breaks_bridged == "2013"
    assert (result.pre_term, result.post_term) == ("2012V", "2014H")
    assert (result.pre_version, result.post_version) == ("pre2013_spring", "2013_2015")
    assert result.null_reason is None


def test_missing_input_gives_null_with_reason() -> None:
    result = benchmark_change(
        2019, 2023, unit_pre=None, unit_post=7.1, national_pre=6.0, national_post=10.0
    )
    assert (result.unit_change, result.did, result.unit_change_rel) == (None, None, None)
    assert result.national_change == pytest.approx(4.0)
    assert result.null_reason == "unit value for 2019H suppressed or missing"
    assert result.bridges_break is False


def test_zero_baseline_has_no_relative_change() -> None:
    result = benchmark_change(
        2019, 2023, unit_pre=0.0, unit_post=2.0, national_pre=6.0, national_post=10.0
    )
    assert result.did == pytest.approx(-2.0)
    assert result.unit_change_rel is None
    assert "pre value 0" in result.null_reason


def test_placeholder_break_is_flagged_not_refused() -> None:
    result = benchmark_change(
        2023, 2024, unit_pre=12.0, unit_post=11.0, national_pre=13.0, national_post=12.0
    )
    assert (result.possible_break, result.bridges_break) == (True, False)
    assert result.did == pytest.approx(0.0)


@pytest.fixture
def two_years() -> pl.DataFrame:
    return read_eu_export(FIXTURES / "synthetic_two_years_cp1252.csv")


def _by(frame: pl.DataFrame, code: str, trinn: int | None) -> dict:
    return frame.filter(pl.col("unit_code") == code, pl.col("trinn").eq_missing(trinn)).row(
        0, named=True
    )


def test_frame_comparison(two_years: pl.DataFrame) -> None:
    out = benchmark_changes(two_years, 2019, 2023)
    assert out.columns == list(BENCHMARK_COLUMNS)
    assert out.height == 3

    oslo = _by(out, "0301", None)
    assert (oslo["unit_pre"], oslo["unit_post"]) == (5.5, 8.0)
    assert (oslo["national_pre"], oslo["national_post"]) == (6.0, 10.0)
    assert oslo["did"] == pytest.approx(2.5 - 4.0)
    assert oslo["unit_change_rel"] == pytest.approx(2.5 / 5.5)
    assert oslo["national_change_rel"] == pytest.approx(4.0 / 6.0)
    assert (oslo["n_answered_pre"], oslo["n_answered_post"]) == (20311, 19874)
    assert oslo["null_reason"] is None

    suppressed = _by(out, "974123452", None)
    assert suppressed["unit_pre"] is None
    assert suppressed["did"] is None
    assert suppressed["null_reason"] == "unit value suppressed ('*') in 2019H"
    assert suppressed["national_change"] == pytest.approx(4.0)

    seventh = _by(out, "974123452", 7)
    assert seventh["unit_change"] == pytest.approx(-3.0)
    assert seventh["did"] is None
    assert seventh["null_reason"] == "no national value for 2019H"


def test_frame_comparison_with_shipped_national_series(two_years: pl.DataFrame) -> None:
    units = two_years.filter(pl.col("level") != "nasjon")
    out = benchmark_changes(units, 2019, 2023, national=national_reference_results())
    oslo = _by(out, "0301", None)
    assert (oslo["national_pre"], oslo["national_post"]) == (6.0, 10.0)  # published [S63], [S66]
    assert oslo["did"] == pytest.approx(-1.5)


def test_frame_comparison_guard(two_years: pl.DataFrame) -> None:
    with pytest.raises(SeriesBreakError, match="2016"):
        benchmark_changes(two_years, 2015, 2019)
    out = benchmark_changes(two_years, 2015, 2019, allow_break=True)
    assert out["bridges_break"].all()
    assert set(out["breaks_bridged"]) == {"2016"}
    assert out["null_reason"].str.contains("no unit value for 2015H").all()


def test_frame_comparison_refuses_ambiguous_duplicates(two_years: pl.DataFrame) -> None:
    with pytest.raises(LmpError, match="more than one"):
        benchmark_changes(pl.concat([two_years, two_years]), 2019, 2023)
