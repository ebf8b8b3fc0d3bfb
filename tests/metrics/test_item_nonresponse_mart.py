"""Item non-response from the marts (``mart_item_counts``, ``mart_item_nonresponse``) equals a
direct count from ``fct_answer`` on a synthetic world with planted errors: after a first load,
after a corrected re-export loaded incrementally, and with a pupil who answered a round twice."""

from __future__ import annotations

import dataclasses
import shutil

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lmp_analytics.metrics import nonresponse
from lmp_analytics.metrics.marts import build_marts
from lmp_analytics.pipeline import ingest_files
from lmp_analytics.readmodels import quality
from lmp_analytics.synth import write_world
from lmp_analytics.synth.params import Params
from lmp_analytics.warehouse import build, reading
from lmp_analytics.warehouse.build import MissingDerivedTable

KEY = b"item-nonresponse-test-key-0123456789abcdef"
COLS = list(nonresponse.NONRESPONSE_SCHEMA)


def _direct_counts(wh) -> pl.DataFrame:
    """Per round x item, counted here with polars from the raw answer rows."""
    with reading(wh) as con:
        answers = con.sql("SELECT round_id, elev, item, value FROM fct_answer").pl()
    return (answers.group_by("round_id", "item")
            .agg(pl.len().cast(pl.Int64).alias("asked"),
                 pl.col("value").null_count().cast(pl.Int64).alias("skipped"),
                 pl.col("elev").n_unique().cast(pl.Int64).alias("n"))
            .sort("round_id", "item"))


def _direct_cells(wh, min_n: int = 10) -> pl.DataFrame:
    """The view's cells computed from the direct counts (not from any mart of item counts)."""
    counts = _direct_counts(wh).filter(~pl.col("item").is_in(sorted(
        nonresponse.conditional_items())))
    with reading(wh) as con:
        rounds = con.sql("SELECT r.round_id, r.skole_orgnr, r.term, "
                         "coalesce(m.is_primary, false) AS is_primary, "
                         "r.respondents AS n_round FROM dim_round AS r "
                         "LEFT JOIN mart_school_round AS m USING (round_id)").pl()
        names = con.sql("SELECT skole_orgnr, skole, kommunenummer FROM dim_school").pl()
    per_item = counts.join(rounds.drop("n_round"), on="round_id", how="inner")
    cells = nonresponse.nonresponse_cells(per_item, rounds.select("round_id", "n_round"), names,
                                          min_n=min_n)
    return _sorted(cells)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(COLS).sort(COLS, nulls_last=True)


def _mart_counts(wh) -> pl.DataFrame:
    with reading(wh) as con:
        return con.sql("SELECT round_id, item, asked, skipped, n FROM mart_item_counts "
                       "ORDER BY round_id, item").pl()


def _stored(wh) -> pl.DataFrame:
    with reading(wh) as con:
        return _sorted(con.sql("SELECT * FROM mart_item_nonresponse").pl())


def _check(wh) -> None:
    direct = _direct_counts(wh)
    assert direct.height > 50 and direct.get_column("skipped").sum() > 0
    assert_frame_equal(_mart_counts(wh), direct)
    expected = _direct_cells(wh)
    assert_frame_equal(_stored(wh), expected)
    assert_frame_equal(_sorted(quality.item_nonresponse(role="forsker", warehouse=wh)), expected)


def _full_rebuild(wh, tmp_path) -> str:
    copy = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(wh, copy)
    con = duckdb.connect(str(copy))
    try:
        build.forget(con, "marts")  # no recorded state: the marts rebuild in full
        con.execute("DROP TABLE mart_item_nonresponse")
        build_marts(con)
    finally:
        con.close()
    return copy


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("nonresponse")
    params = dataclasses.replace(
        Params(), n_kommuner=2, puljer=(("2023H", 2), ("2024V", 2)), n_comparison=3,
        first_term="2022H", last_term="2024H",
        # Comparison schools with Spekter rounds (not the default world): the planted errors
        # need more rounds than four participants from 2023H have, and the mart's counts are
        # checked for both groups (rolle).
        comparison_spekter=True,
    )
    write_world(root, seed=5, params=params, with_errors=True)
    wh = root / "w.duckdb"
    report = ingest_files([root / "spekter"], root / "program.csv", warehouse=wh, key=KEY,
                          after_load=build_marts)
    assert report.published and report.exit_code in (1, 2)
    return root, wh


def test_first_load_equals_a_direct_count(world):
    _check(world[1])


def test_a_corrected_reexport_updates_only_its_round_and_equals_a_direct_count(
        world, tmp_path):
    root, wh = world
    path = next(p for p in sorted((root / "spekter").iterdir()) if p.suffix == ".csv"
                and len(p.read_bytes().splitlines()) > 12)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))  # the corrected export has one pupil fewer
    before = _stored(wh)
    report = ingest_files([path], root / "program.csv", warehouse=wh, key=KEY,
                          after_load=build_marts)
    assert report.published
    _check(wh)
    after = _stored(wh)
    changed = after.join(before, on=COLS, how="anti", nulls_equal=True)["term"].unique()
    assert len(changed) == 1  # only the corrected round's term was recomputed and differs
    rebuilt = _full_rebuild(wh, tmp_path)
    assert_frame_equal(_stored(rebuilt), after)
    assert_frame_equal(_mart_counts(rebuilt), _mart_counts(wh))


def test_a_pupil_with_two_responses_in_a_round_is_counted_once(world, tmp_path):
    copy = tmp_path / "dup.duckdb"
    shutil.copyfile(world[1], copy)
    con = duckdb.connect(str(copy))
    try:
        # Planted: one pupil's response (and answers) also under another group of the round.
        elev, round_id = con.execute(
            "SELECT elev, round_id FROM fct_response ORDER BY round_id, elev LIMIT 1"
        ).fetchall()[0]
        con.execute("INSERT INTO fct_response SELECT * REPLACE ('ZZ' AS gruppe) FROM "
                    "fct_response WHERE elev = ? AND round_id = ?", [elev, round_id])
        con.execute("INSERT INTO fct_answer SELECT * REPLACE ('ZZ' AS gruppe) FROM "
                    "fct_answer WHERE elev = ? AND round_id = ?", [elev, round_id])
        build_marts(con)
    finally:
        con.close()
    counts = _mart_counts(copy).filter(pl.col("round_id") == round_id)
    assert (counts["asked"] > counts["n"]).any()
    assert_frame_equal(_mart_counts(copy), _direct_counts(copy))


def test_another_threshold_is_computed_live_and_a_warehouse_without_the_marts_refused(
        world, tmp_path):
    """A stricter reader's threshold is computed from the stored counts; a warehouse without
    the marts (an older version) is not computed live: the read says how to build them."""
    wh = world[1]
    with reading(wh) as con:  # a threshold that hides about half of the school rounds
        median = int(con.sql("SELECT median(respondents) FROM dim_round").fetchall()[0][0])
    expected = _direct_cells(wh, min_n=median)
    assert expected["suppressed"].any() and not expected["suppressed"].all()
    assert_frame_equal(
        _sorted(quality.item_nonresponse(role="forsker", warehouse=wh, min_n=median)), expected)
    old = tmp_path / "old.duckdb"
    shutil.copyfile(wh, old)
    con = duckdb.connect(str(old))
    try:
        con.execute("DROP TABLE mart_item_counts")
        con.execute("DROP TABLE mart_item_nonresponse")
    finally:
        con.close()
    with pytest.raises(MissingDerivedTable, match=r"no mart_item_(counts|nonresponse) table.*"
                                                  r"`lmp ingest`"):
        quality.item_nonresponse(role="forsker", warehouse=old)
    counts_gone = tmp_path / "counts_gone.duckdb"
    shutil.copyfile(wh, counts_gone)
    with duckdb.connect(str(counts_gone)) as con:
        con.execute("DROP TABLE mart_item_counts")
    with pytest.raises(MissingDerivedTable, match=r"no mart_item_counts table.*`lmp ingest`"):
        quality.item_nonresponse(role="forsker", warehouse=counts_gone, min_n=median)
