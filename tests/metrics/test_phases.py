"""Pre/post round selection follows the documented rule, from dates and the calendar only."""

from __future__ import annotations

import datetime as dt

import polars as pl

from lmp_analytics.metrics.phases import event_groups, select_phase_rounds
from lmp_analytics.terms import term_index


def _calendar(start_terms: dict[int, str], school: str = "999999999") -> pl.DataFrame:
    return pl.DataFrame(
        [(school, k, t) for k, t in start_terms.items()],
        schema={"skole_orgnr": pl.String, "fase": pl.Int64, "termin": pl.String}, orient="row",
    )


def _rounds(dates: list[str], school: str = "999999999") -> pl.DataFrame:
    rows = []
    for d in dates:
        day = dt.date.fromisoformat(d)
        term = f"{day.year}{'H' if day.month >= 8 else 'V'}"
        rows.append((f"{school}:{d}", school, term, day))
    return pl.DataFrame(rows, schema={"round_id": pl.String, "skole_orgnr": pl.String,
                                      "term": pl.String, "first_date": pl.Date}, orient="row")


def _sel(cal, rounds, phase):
    row = select_phase_rounds(cal, rounds).filter(pl.col("phase") == phase).row(0, named=True)
    return row["pre_round"], row["post_round"]


CAL = {1: "2024H", 2: "2025V", 3: "2025H", 4: "2026V"}


def test_regular_autumn_and_spring_rounds():
    r = _rounds(["2024-09-20", "2025-01-28", "2025-09-22", "2026-01-27", "2026-09-21"])
    cal = _calendar(CAL)
    s = "999999999"
    assert _sel(cal, r, "1") == (f"{s}:2024-09-20", f"{s}:2025-01-28")
    assert _sel(cal, r, "2") == (f"{s}:2025-01-28", f"{s}:2025-09-22")
    assert _sel(cal, r, "4") == (f"{s}:2026-01-27", f"{s}:2026-09-21")
    assert _sel(cal, r, "program") == (f"{s}:2024-09-20", f"{s}:2026-09-21")


def test_missing_round_in_the_phase_term_falls_back_to_the_last_round_before():
    r = _rounds(["2024-01-25", "2025-01-28"])  # no autumn 2024 round
    s = "999999999"
    assert _sel(_calendar(CAL), r, "1") == (f"{s}:2024-01-25", f"{s}:2025-01-28")


def test_no_round_after_falls_back_to_a_later_round_in_the_same_term():
    r = _rounds(["2024-09-20", "2024-12-05"])
    s = "999999999"
    assert _sel(_calendar(CAL), r, "1") == (f"{s}:2024-09-20", f"{s}:2024-12-05")


def test_no_later_round_leaves_post_empty():
    r = _rounds(["2024-09-20"])
    assert _sel(_calendar(CAL), r, "1") == ("999999999:2024-09-20", None)


def test_spring_start_is_not_treated_as_autumn():
    cal = _calendar({1: "2025V", 2: "2025H", 3: "2026V", 4: "2026H"})
    r = _rounds(["2024-09-20", "2025-01-28", "2025-09-22"])
    s = "999999999"
    assert _sel(cal, r, "1") == (f"{s}:2025-01-28", f"{s}:2025-09-22")
    assert event_groups(cal)["g"][0] == term_index("2025H")
