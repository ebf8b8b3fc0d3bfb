"""The build engine: one state table for every derived target, a schema-version change or a
missing derived table rebuilds from the facts (and the ingest says so); ``build.require`` names
the command that builds a missing derived table."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.jobs import build_derived, ingest_and_build
from lmp_analytics.warehouse import build, ddl
from lmp_analytics.warehouse.publish import SCHEMA_VERSION
from lmp_analytics.warehouse.registry import BUILD_ORDER, TARGETS, derived_tables

KEY = b"build-engine-test-key-0123456789abcdef"
ROSTER = SAMPLE_DIR / "program.csv"
#: Derived tables compared before and after a rebuild (sorted rows).
COMPARED = ("dim_round", "fct_pupil_indicator", "mart_indicator_counts", "mart_item_nonresponse",
            "mart_school_change", "pub_indicator_cells")


def _ingest(path: Path):
    report = ingest_and_build([SAMPLE_DIR], ROSTER, warehouse=path, key=KEY)
    assert report.exit_code == 0, [o.message for o in report.outcomes if o.message]
    return report


def _rows(path: Path, tables=COMPARED) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("engine") / "warehouse.duckdb"
    _ingest(path)
    return path


@pytest.fixture
def copy(built, tmp_path) -> Path:
    dest = tmp_path / "copy.duckdb"
    shutil.copyfile(built, dest)
    return dest


def test_one_state_table_for_every_target(built):
    con = duckdb.connect(str(built), read_only=True)
    try:
        tables = build.tables(con)
        recorded = {r[0] for r in con.execute("SELECT DISTINCT target FROM build_state").fetchall()}
        keys = dict(con.execute("SELECT key, value FROM meta").fetchall())
    finally:
        con.close()
    national = set(TARGETS["national_estimates"].tables)  # no Elevundersøkelsen loaded here
    assert set(derived_tables()) - national <= tables
    assert not national & tables
    assert not [t for t in tables if t.endswith("_state") and t != build.STATE_TABLE]
    # every target with unit state has rows; every target has its inputs recorded
    assert recorded == {"dim_round", "marts", "school_changes", "publication"}
    assert all(TARGETS[name].inputs_key in keys for name in BUILD_ORDER)
    assert keys["schema_version"] == SCHEMA_VERSION


def test_schema_version_change_rebuilds_from_the_facts_and_says_so(built, copy):
    before = _rows(built)
    con = duckdb.connect(str(copy))
    try:  # derived rows an incremental build would never look at again
        con.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
        con.execute("DELETE FROM mart_indicator_counts WHERE level = 'program'")
        con.execute("UPDATE pub_indicator_cells SET n = n + 1")
    finally:
        con.close()
    report = _ingest(copy)  # the same files: nothing new to load
    assert report.published
    assert any(f"schema version 0 -> {SCHEMA_VERSION}" in n for n in report.notices), \
        report.notices
    assert _rows(copy) == before
    con = duckdb.connect(str(copy), read_only=True)
    try:
        assert build.rebuild_reason(con) is None  # done: not rebuilt again
    finally:
        con.close()
    assert not _ingest(copy).published  # and a second run is a no-op again


def test_missing_derived_table_is_rebuilt_by_the_next_ingest(built, copy):
    before = _rows(built)
    con = duckdb.connect(str(copy))
    try:
        con.execute("DROP TABLE mart_school_change")
        with pytest.raises(build.MissingDerivedTable, match=r"mart_school_change.*lmp ingest"):
            build.require(con, "mart_school_change")
    finally:
        con.close()
    report = _ingest(copy)
    assert report.published
    assert any("mart_school_change" in n for n in report.notices), report.notices
    assert _rows(copy) == before


def test_state_tables_of_earlier_versions_are_dropped(built, copy):
    before = _rows(built)
    con = duckdb.connect(str(copy))
    try:
        for legacy in build.LEGACY_STATE_TABLES:
            con.execute(f"CREATE TABLE {legacy} (round_id VARCHAR)")
        build_derived(con)
        assert not set(build.LEGACY_STATE_TABLES) & build.tables(con)
    finally:
        con.close()
    assert _rows(copy) == before


def test_forgotten_state_means_a_full_rebuild_with_the_same_rows(built, copy):
    before = _rows(built)
    con = duckdb.connect(str(copy))
    try:
        con.execute("DELETE FROM mart_indicator_counts WHERE level = 'program'")
        for name in TARGETS:
            build.forget(con, name)
        build_derived(con)
    finally:
        con.close()
    assert _rows(copy) == before


def test_every_derived_table_has_exactly_its_declared_schema(built):
    """Column names, order and types of every derived table equal its DDL (derived.sql)."""
    con = duckdb.connect(str(built), read_only=True)
    try:
        present = build.tables(con)
        for table in derived_tables():
            declared = ddl.declared(table)
            assert declared, table
            if table in TARGETS["national_estimates"].tables and table not in present:
                continue  # no Elevundersøkelsen here: tests/dashboards/test_no_fit_on_page.py
            assert ddl.columns_of(con, table) == declared, table
    finally:
        con.close()


def _stored_changes() -> pl.DataFrame:
    """One row with exactly mart_school_change's declared columns."""
    return pl.DataFrame([{name: None for name, _ in ddl.declared("mart_school_change")}])


@pytest.mark.parametrize("change", ["missing", "extra"])
def test_rows_with_a_missing_or_extra_column_are_refused_naming_table_and_column(change):
    con = duckdb.connect(":memory:")
    ddl.insert_frame(con, "mart_school_change", _stored_changes(), replace=True)
    frame = (_stored_changes().drop("linked_p_value") if change == "missing"
             else _stored_changes().with_columns(pl.lit(1).alias("surprise")))
    column = "linked_p_value" if change == "missing" else "surprise"
    for replace in (False, True):
        with pytest.raises(ddl.SchemaMismatch, match=rf"mart_school_change .*'{column}'"):
            ddl.insert_frame(con, "mart_school_change", frame, replace=replace)
        # nothing was written, and the table kept its declared columns
        assert con.execute("SELECT count(*) FROM mart_school_change").fetchone() == (1,)
        assert ddl.columns_of(con, "mart_school_change") == ddl.declared("mart_school_change")
    select = ("SELECT 'x' AS round_id, 'i' AS item, 1 AS asked, 0 AS skipped"
              + (", 1 AS n, 2 AS surprise" if change == "extra" else ""))
    with pytest.raises(ddl.SchemaMismatch, match=r"mart_item_counts .*'(n|surprise)'"):
        ddl.insert(con, "mart_item_counts", select, replace=True)
