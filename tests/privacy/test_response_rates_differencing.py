"""Attack across outputs: the respondents per round of the data-quality views (Datakvalitet,
the tilstandsrapport's quality section: ``readmodels.quality.response_rates`` and
``item_nonresponse``) against the publication's kommune line.

Kommune 0301 has two schools of 4 and 30 pupils, kommune 4601 two of 12 and 50 (all answered
the bullying item). The publication hides the school of 4 and, to protect it in its kommune,
the school of 30. Before the fix the response rates hid only rounds under the threshold, and the
item non-response protected only its own programme line (where the school of 12 covers the
small one), so both showed the school of 30's respondents: kommune 34 - 30 = 4, the small
school's n, for every role that sees the kommune cell.
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
SCHOOLS = [*many_schools(2),  # kommune 0301, pulje 1
           FACTORY_SCHOOLS[2], (*FACTORY_SCHOOLS[3][:4], "deltaker", "2", "2025V")]  # 4601
SIZES = dict(zip((s[2] for s in SCHOOLS), (4, 30, 12, 50), strict=True))
ROLES = ("program", "kommune:0301", "kommune:4601", "forsker")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("rates")
    write_roster(src, SCHOOLS)
    for i, (orgnr, n) in enumerate(SIZES.items()):
        rows = make_rows(orgnr, "7A", n=n, seed=i)
        for row in rows:  # every pupil answered the item, so respondents = the cell's n
            row["mobbet"] = row["mobbet"] or "En sjelden gang"
        write_csv(src / f"spekter_{orgnr}_7A.csv", rows)
    assert config.min_n() == MIN_N
    path = src / "warehouse.duckdb"
    report = ingest_and_build([src], src / "program.csv", warehouse=path,
                              key=TEST_KEY.encode())
    assert report.exit_code == 0, report.outcomes
    return path


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("surface", ["dashboard", "report"])
@pytest.mark.parametrize("view", ["response_rates", "item_nonresponse"])
def test_kommune_minus_schools_and_shown_respondents_leaves_no_small_group(
        warehouse, role, surface, view):
    kommune = api.indicators("kommune", indicator="mobbet", role=role, warehouse=warehouse,
                             surface=surface)
    schools = api.indicators("skole", indicator="mobbet", role=role, warehouse=warehouse,
                             surface=surface)
    rates = getattr(quality, view)(role=role, warehouse=warehouse, surface=surface).filter(
        pl.col("level") == "skole")
    assert kommune.height >= 1 and not kommune["suppressed"].any()
    known = {r["skole_orgnr"]: r["n"] for r in schools.iter_rows(named=True)
             if not r["suppressed"]}
    for r in rates.filter(~pl.col("suppressed")).iter_rows(named=True):
        known.setdefault(r["skole_orgnr"], r["n"])
    kommune_of = {s[2]: s[0] for s in SCHOOLS}
    for k in kommune.iter_rows(named=True):
        own = {o for o, km in kommune_of.items() if km == k["kommunenummer"]}
        unknown = own - set(known)
        remainder = k["n"] - sum(known[o] for o in own & set(known))
        assert not unknown or remainder == 0 or remainder >= MIN_N, (
            f"kommune {k['kommunenummer']} n {k['n']} minus the schools' n known from the "
            f"publication and the quality views {known} leaves {remainder} pupils in "
            f"{sorted(unknown)}")


@pytest.mark.parametrize("view", ["response_rates", "item_nonresponse"])
def test_a_round_the_publication_hides_wears_the_same_mark_in_the_quality_views(warehouse, view):
    rates = getattr(quality, view)(role="program", warehouse=warehouse).filter(
        pl.col("level") == "skole")
    cells = api.indicators("skole", indicator="mobbet", role="program", warehouse=warehouse)
    hidden = set(cells.filter(pl.col("suppressed"))["skole_orgnr"].to_list())
    shown = rates.filter(pl.col("skole_orgnr").is_in(sorted(hidden)))
    assert shown.height == len(hidden)
    assert shown["suppressed"].all() and shown["n"].is_null().all()
    for column in ("response_rate", "enrolled", "asked", "skipped", "skipped_share"):
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
