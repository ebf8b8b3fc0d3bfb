"""The shipped national series equals the published figures (DOMAIN §4.4, DATA_CONTRACT §3).

Published values and their sources, copied here so the tests do not read the design documents:
composite "Mobbing på skolen" (bullied by pupils, adults or digitally, 2-3 times a month or
more; grades 5-Vg3, autumn surveys): 2016 6.3 [S54 utdanningsforskning.no 2017], 2017 6.6
[S64 NTB/rbnett Jan 2018], 2018 6.1 [S56 NPK Jan 2019], 2019 6.0 [S63 Udir EU 2019],
2020 5.8 [S55 Ringsaker Blad/Udir; S65 ABC Nyheter], 2021 5.9, 2022 7.3, 2023 10.0
[S66 NTB/l-a.no Mar 2024].
"""

from __future__ import annotations

import polars as pl
import pytest

from lmp_analytics.config import REFERENCE_DIR
from lmp_analytics.national import (
    EuResultSchema,
    ReferenceDataError,
    indicator_catalogue,
    national_bullying,
    national_reference_results,
    series_breaks,
)

PUBLISHED_COMPOSITE = {
    2016: 6.3,
    2017: 6.6,
    2018: 6.1,
    2019: 6.0,
    2020: 5.8,
    2021: 5.9,
    2022: 7.3,
    2023: 10.0,
}
# (peers, adults, digital); None = not published in the sources
PUBLISHED_COMPONENTS = {
    2016: (4.6, 1.8, 1.9),  # S54
    2018: (None, 1.6, 1.9),  # S56
    2019: (4.6, 1.6, 1.8),  # S63
    2020: (None, None, 2.2),  # S55, S65
    2022: (5.9, 1.6, 2.7),  # S66
    2023: (8.0, 2.5, 3.8),  # S66
}
# Old series (single question, pupils): S21 Udir blog 2016, S18 Udir EU 2015 report
PUBLISHED_OLD_SERIES = {2012: 6.8, 2013: 4.2, 2014: 3.9, 2015: 3.7}
# By grade, 2023 (S66, S68, S69) and 2024 (S52 Grannar Jan 2025); Vg1 = 11, Vg3 = 13
PUBLISHED_BY_GRADE = {
    (2023, 5): 14.0,
    (2023, 7): 13.0,
    (2023, 10): 11.0,
    (2023, 11): 6.0,
    (2023, 13): 2.2,
    (2024, 7): 12.0,
    (2024, 10): 11.0,
    (2024, 11): 6.0,
}


def _all_grades(measure: str) -> dict[int, float]:
    frame = national_bullying().filter(
        pl.col("measure") == measure,
        pl.col("trinn_from") == 5,
        pl.col("trinn_to") == 13,
        pl.col("sex").is_null(),
    )
    return dict(zip(frame["survey_year"], frame["value_pct"], strict=True))


def test_composite_series_equals_published() -> None:
    composite = _all_grades("mobbing_paa_skolen")
    assert {y: v for y, v in composite.items() if y >= 2016} == PUBLISHED_COMPOSITE


def test_old_series_equals_published() -> None:
    composite = _all_grades("mobbing_paa_skolen")
    assert {y: v for y, v in composite.items() if y < 2016} == PUBLISHED_OLD_SERIES


@pytest.mark.parametrize(
    ("index", "measure"), [(0, "mobbet_av_elever"), (1, "mobbet_av_voksne"), (2, "mobbet_digitalt")]
)
def test_components_equal_published(index: int, measure: str) -> None:
    expected = {y: parts[index] for y, parts in PUBLISHED_COMPONENTS.items() if parts[index]}
    assert _all_grades(measure) == expected


def test_composite_2020_exclusive_parts_sum() -> None:
    """DOMAIN §8.8 case 4: 3.7 + 0.4 + 0.9 + 0.8 = 5.8 % [S55]."""
    parts = ("kun_av_elever", "kun_digitalt", "kun_av_voksne", "flere_kilder")
    values = {m: _all_grades(m)[2020] for m in parts}
    assert values == {
        "kun_av_elever": 3.7,
        "kun_digitalt": 0.4,
        "kun_av_voksne": 0.9,
        "flere_kilder": 0.8,
    }
    assert round(sum(values.values()), 1) == _all_grades("mobbing_paa_skolen")[2020] == 5.8


def test_by_grade_equals_published() -> None:
    frame = national_bullying().filter(
        pl.col("measure") == "mobbing_paa_skolen",
        pl.col("trinn").is_not_null(),
        pl.col("sex").is_null(),
        pl.col("survey_year") >= 2023,
    )
    got = dict(
        zip(zip(frame["survey_year"], frame["trinn"], strict=True), frame["value_pct"], strict=True)
    )
    assert got == PUBLISHED_BY_GRADE


def test_every_figure_has_a_source_and_terms() -> None:
    frame = national_bullying()
    assert frame["source"].str.contains(r"^\[S\d+\] .*https?://").all()
    autumn = frame.filter(pl.col("survey_year") >= 2013)
    assert (autumn["term"] == autumn["survey_year"].cast(pl.String) + "H").all()
    assert frame.filter(pl.col("survey_year") == 2012)["term"].to_list() == ["2012V"]
    versions = dict(zip(frame["survey_year"], frame["series_version"], strict=False))
    assert versions[2012] == "pre2013_spring"
    assert versions[2015] == "2013_2015"
    assert versions[2023] == "2016+"


def test_series_breaks_file() -> None:
    breaks = series_breaks()
    assert breaks.select("from_year", "status").rows() == [
        (2013, "confirmed"),
        (2016, "confirmed"),
        (2024, "placeholder"),
    ]
    assert breaks["source"].str.contains("https://").all()
    assert (REFERENCE_DIR / "series_breaks.csv").is_file()


def test_indicator_catalogue() -> None:
    cat = indicator_catalogue()
    types = dict(zip(cat["indicator"], cat["value_type"], strict=True))
    assert types["Mobbing på skolen"] == "pct"
    assert types["Trivsel"] == "score_1_5"
    mobbing = cat.filter(pl.col("indicator_code") == "EU_MOBBING").row(0, named=True)
    assert mobbing["higher_is_better"] is False
    assert mobbing["udir_code"] == "EUIndeks_1398"


def test_reference_results_pass_the_contract() -> None:
    frame = national_reference_results()
    EuResultSchema.validate(frame)
    all_grades = frame.filter(pl.col("trinn").is_null(), pl.col("indicator_code") == "EU_MOBBING")
    got = dict(zip(all_grades["survey_year"], all_grades["value"], strict=True))
    assert {y: v for y, v in got.items() if y >= 2016} == PUBLISHED_COMPOSITE
    approx = national_reference_results(include_approximate=True)
    assert approx.height == frame.height + 1  # 10th grade 2019, "about 4 %"


def test_broken_reference_file_is_named(tmp_path) -> None:
    (tmp_path / "series_breaks.csv").write_text(
        "from_year,from_term,series_version,status,change,source\n"
        "2016,2016H,2016+,maybe,New questions,[S20] https://example.org\n",
        encoding="utf-8",
    )
    with pytest.raises(ReferenceDataError, match="status must be one of"):
        series_breaks(tmp_path)
    assert indicator_catalogue()["source"].str.contains("https://").all()
