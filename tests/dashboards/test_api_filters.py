"""api.indicators / api.published_cells filter in the query (level, breakdown, indicators,
schools, a role's scope): the rows must be exactly those of reading every published cell and
filtering afterwards, in the same order, for every role."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lmp_analytics import api
from lmp_analytics.privacy.scope import scope
from lmp_analytics.publication import PUBLICATION_TABLE
from lmp_analytics.warehouse import reading

CASES = [  # (level, by, indicator)
    ("skole", None, None), ("skole", None, "mobbet"), ("skole", "trinn", "mobbet"),
    ("skole", "kjonn", ["mobbet", "trivsel_skala"]), ("skole", "trinn", None),
    ("kommune", None, None), ("pulje", None, "mobbet"), ("program", None, ["trivsel_skala"]),
    ("pulje", None, "no_such"),
]


@pytest.fixture(scope="module")
def every_cell(world) -> pl.DataFrame:
    """The whole stored publication, read with no filter at all."""
    con = duckdb.connect(str(world.warehouse), read_only=True)
    try:
        return con.sql(f"SELECT * FROM {PUBLICATION_TABLE}").pl()
    finally:
        con.close()


def _expected(every_cell, role, level, by, indicator, schools=None) -> pl.DataFrame:
    out = every_cell.filter(pl.col("level") == level)
    if indicator is not None:
        wanted = [indicator] if isinstance(indicator, str) else indicator
        out = out.filter(pl.col("indicator").is_in(wanted))
    if out.height == 0:  # nothing published at the level: every column text
        return pl.DataFrame(schema=dict.fromkeys(api.INDICATOR_COLUMNS, pl.String))
    out = out.filter(pl.col("breakdown") == (by or "alle"))
    if schools is not None:
        out = out.filter(pl.col("skole_orgnr").is_in(schools))
    return scope(out, role, "cli").select(api.INDICATOR_COLUMNS)


@pytest.mark.parametrize(("level", "by", "indicator"), CASES)
def test_indicators_equal_filtering_every_cell_afterwards(world, roster, every_cell, level, by,
                                                          indicator):
    for role in roster["roles"] + ["kommune:9999", "veileder:999999999"]:
        got = api.indicators(level, indicator=indicator, by=by, role=role,
                             warehouse=world.warehouse)
        expected = _expected(every_cell, role, level, by, indicator)
        assert_frame_equal(got, expected, check_exact=True)
        if role == "program" and indicator != "no_such":
            assert got.height > 0, (level, by, indicator)


def test_schools_selects_those_schools_within_scope(world, roster, every_cell):
    one, other = roster["veileder"]
    outside = roster["schools"].filter(
        pl.col("kommunenummer") != roster["kommune"])["skole_orgnr"][0]
    for role in roster["roles"]:
        for by in (None, "trinn"):
            for schools in ([one], [one, other, outside], []):
                got = api.indicators("skole", indicator=None, by=by, role=role,
                                     warehouse=world.warehouse, schools=schools)
                expected = _expected(every_cell, role, "skole", by, None, schools)
                assert_frame_equal(got, expected, check_exact=True)
    got = api.indicators("skole", indicator=None, role="program", warehouse=world.warehouse,
                         schools=[one])
    assert got.height > 0 and set(got["skole_orgnr"]) == {one}
    assert set(got["indicator"]) == set(every_cell.filter(
        pl.col("skole_orgnr") == one)["indicator"])
    # A veileder role asking for a school outside its scope gets nothing of it.
    veileder = "veileder:" + ",".join(roster["veileder"])
    assert api.indicators("skole", indicator=None, role=veileder, warehouse=world.warehouse,
                          schools=[outside]).height == 0
    with pytest.raises(ValueError, match="schools="):
        api.indicators("kommune", role="program", warehouse=world.warehouse, schools=[one])


def test_nothing_published_at_the_level_gives_the_text_schema(world, roster):
    """As before the filters moved into the query: no cell of the level and indicators -> every
    column text; cells exist but none selected -> the published column types."""
    none = api.indicators("skole", indicator="no_such_indicator", warehouse=world.warehouse)
    assert none.height == 0 and set(none.dtypes) == {pl.String}
    typed = api.indicators("skole", indicator="mobbet", role="veileder:999999999",
                           warehouse=world.warehouse)
    assert typed.height == 0 and typed.schema["n"] == pl.Int64
    assert typed.columns == api.INDICATOR_COLUMNS


def test_published_cells_role_filter_keeps_every_row_the_scope_keeps(world, roster,
                                                                     every_cell):
    with reading(world.warehouse) as con:
        for role in roster["roles"]:
            narrowed = api.published_cells(con, role=role)
            assert_frame_equal(scope(narrowed, role, "cli"), scope(every_cell, role, "cli"),
                               check_exact=True)
            if role.startswith(("kommune", "veileder")):
                assert narrowed.height < every_cell.height
        assert_frame_equal(api.published_cells(con), every_cell, check_exact=True)


@pytest.mark.parametrize("min_n", [None, 9])
def test_compare_cut_to_rounds_or_latest_is_the_uncut_calls_rows(world, roster, min_n):
    """``api.compare(post_rounds=...)`` and ``latest=True`` (the attention list's and the alerts'
    reads) give exactly the uncut call's rows for those rounds / each school's latest round, for
    every role and also for a stricter reader: Benjamini-Hochberg still runs over the whole
    family, the scope and the suppression decide each kept row as before."""
    from lmp_analytics.terms import term_index

    for role in roster["roles"]:
        whole = api.compare(indicator="mobbet", phase="runde", role=role,
                            warehouse=world.warehouse, min_n=min_n, surface="dashboard")
        rounds = sorted(set(whole["post_round"].drop_nulls().to_list()))[::3]
        assert rounds, role
        cut = api.compare(indicator="mobbet", phase="runde", role=role, min_n=min_n,
                          warehouse=world.warehouse, surface="dashboard", post_rounds=rounds)
        assert_frame_equal(cut, whole.filter(pl.col("post_round").is_in(rounds)))
        latest = api.compare(indicator="mobbet", phase="runde", role=role, min_n=min_n,
                             warehouse=world.warehouse, surface="dashboard", latest=True)
        last = {}
        for row in whole.filter(pl.col("post_round").is_not_null()).iter_rows(named=True):
            seen = last.get(row["skole_orgnr"])
            if seen is None or term_index(row["post_term"]) > term_index(seen["post_term"]):
                last[row["skole_orgnr"]] = row
        assert sorted(latest.iter_rows(named=True), key=lambda r: r["skole_orgnr"]) == \
            sorted(last.values(), key=lambda r: r["skole_orgnr"])
        assert latest.height == len(last) and latest["suppressed"].any() == any(
            r["suppressed"] for r in last.values())
