"""Attack across outputs: the respondents per round (or rows read per school) of the
data-quality views (Datakvalitet, the tilstandsrapport's quality section, the school report's
table of rounds: ``readmodels.quality.response_rates``, ``item_nonresponse``,
``quarantine_summary``, ``reports.data.school_report``) against the publication's kommune and
pulje lines.

Kommune 0301 has schools of 4 (pulje 1) and 30 pupils (pulje 2), kommune 4601 of 12 (pulje 1)
and 50 (pulje 2); all answered the bullying item, and one row of the school of 50 is quarantined.
The publication hides the school of 4 and, to protect it, the school of 30 (its kommune) and the
school of 12 (its pulje). Before the fix the quality views hid only what was small in their own
lines, so they showed the school of 30's respondents (kommune 34 - 30 = 4) or the school of 12's
rows (pulje 16 - 12 = 4): the small school's n, for every role that sees those lines.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from spekter_factory import SCHOOLS as FACTORY_SCHOOLS
from spekter_factory import TEST_KEY, make_rows, many_schools, write_csv, write_roster

from lmp_analytics import api, config
from lmp_analytics.jobs import ingest_and_build
from lmp_analytics.readmodels import quality
from lmp_analytics.reports.data import school_report

MIN_N = 10
_OSLO = many_schools(2)
SCHOOLS = [_OSLO[0], (*_OSLO[1][:5], "2", "2025V"),  # kommune 0301: pulje 1 and 2
           (*FACTORY_SCHOOLS[2][:4], "deltaker", "1", "2024H"),  # kommune 4601: pulje 1
           (*FACTORY_SCHOOLS[3][:4], "deltaker", "2", "2025V")]  # and 2
SIZES = dict(zip((s[2] for s in SCHOOLS), (4, 30, 12, 50), strict=True))
VIEWS = ("response_rates", "item_nonresponse", "quarantine_summary")
ROLES = ("program", "kommune:0301", "kommune:4601", "forsker")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("rates")
    write_roster(src, SCHOOLS)
    for i, (orgnr, n) in enumerate(SIZES.items()):
        rows = make_rows(orgnr, "7A", n=n, seed=i)
        for row in rows:  # every pupil answered the item, so respondents = the cell's n
            row["mobbet"] = row["mobbet"] or "En sjelden gang"
        if n == 50:
            rows[0]["trinn"] = "x"  # quarantined: the quality views' quarantine table has rows
        write_csv(src / f"spekter_{orgnr}_7A.csv", rows)
    assert config.min_n() == MIN_N
    path = src / "warehouse.duckdb"
    report = ingest_and_build([src], src / "program.csv", warehouse=path,
                              key=TEST_KEY.encode())
    assert report.exit_code == 1 and report.published, report.outcomes  # one row quarantined
    return path


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("surface", ["dashboard", "report"])
@pytest.mark.parametrize("view", VIEWS)
def test_kommune_minus_schools_and_shown_respondents_leaves_no_small_group(
        warehouse, role, surface, view):
    totals = pl.concat([api.indicators(level, indicator="mobbet", role=role,
                                       warehouse=warehouse, surface=surface)
                        for level in ("kommune", "pulje")], how="diagonal_relaxed")
    schools = api.indicators("skole", indicator="mobbet", role=role, warehouse=warehouse,
                             surface=surface)
    rates = getattr(quality, view)(role=role, warehouse=warehouse, surface=surface).filter(
        pl.col("level") == "skole")
    assert totals.height >= 2 and not totals["suppressed"].any()
    known = {r["skole_orgnr"]: r["n"] for r in schools.iter_rows(named=True)
             if not r["suppressed"]}
    for r in rates.filter(~pl.col("suppressed")).iter_rows(named=True):
        known.setdefault(r["skole_orgnr"], r["n"])
    for total in totals.iter_rows(named=True):
        where, col = ("kommunenummer", 0) if total["level"] == "kommune" else ("pulje", 5)
        own = {s[2] for s in SCHOOLS if s[col] == str(total[where])}
        unknown = own - set(known)
        remainder = total["n"] - sum(known[o] for o in own & set(known))
        assert not unknown or remainder == 0 or remainder >= MIN_N, (
            f"{total['level']} {total[where]} n {total['n']} minus the schools' n known from "
            f"the publication and {view} {known} leaves {remainder} pupils in {sorted(unknown)}")


@pytest.mark.parametrize("view", VIEWS)
def test_a_round_the_publication_hides_wears_the_same_mark_in_the_quality_views(warehouse, view):
    rates = getattr(quality, view)(role="program", warehouse=warehouse).filter(
        pl.col("level") == "skole")
    cells = api.indicators("skole", indicator="mobbet", role="program", warehouse=warehouse)
    hidden = set(cells.filter(pl.col("suppressed"))["skole_orgnr"].to_list())
    shown = rates.filter(pl.col("skole_orgnr").is_in(sorted(hidden)))
    assert set(shown["skole_orgnr"].to_list()) == hidden
    assert shown["suppressed"].all() and shown["n"].is_null().all()
    for column in ("response_rate", "enrolled", "asked", "skipped", "skipped_share", "count",
                   "share"):
        if column in shown.columns:
            assert shown[column].is_null().all(), column
    assert set(shown["n_display"].to_list()) == {"*"}
    marks = set(shown["suppression_reason"].to_list())
    small = rates.filter(pl.col("skole_orgnr") == next(o for o, n in SIZES.items() if n < MIN_N))
    assert marks == set(small["suppression_reason"].to_list())


def test_the_school_report_of_a_school_hidden_to_protect_another_shows_no_respondents(
        warehouse):
    """``lmp report`` of the school of 30 (hidden in the publication to protect the school of
    4): its table of rounds shows no respondents, no enrolment and no rate."""
    cover = next(o for o, n in SIZES.items() if n == 30)
    report = school_report(cover, role="kommune:0301", warehouse=warehouse)
    assert report.rounds
    for r in report.rounds:
        assert r.suppressed and r.respondents is None and r.enrolled is None
        assert r.response_rate is None and r.respondents_display == "*"
