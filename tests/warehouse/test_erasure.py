"""Erasure: one pupil leaves every table, mart and publication; every other count is unchanged.
Retention: rounds before a term are gone, later ones untouched. Both are audited."""

from __future__ import annotations

import shutil

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.ingest.protect import pseudonym
from lmp_analytics.jobs import build_derived, ingest_and_build
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.audit import log_path, read_log
from lmp_analytics.warehouse.erasure import apply_retention, forget_pupil

KEY = b"erasure-test-key-0123456789abcdef0123456789"
PUPIL = "elev1235a00@feide.example.no"  # in both sample rounds, group 5A of 974590123


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    report = ingest_and_build([SAMPLE_DIR], SAMPLE_DIR / "program.csv", warehouse=path, key=KEY)
    assert report.exit_code == 0
    return path


def _tables(path) -> dict[str, pl.DataFrame]:
    with reading(path) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()]
        return {n: con.sql(f'SELECT * FROM "{n}"').pl() for n in names}


def test_forget_removes_the_pupil_everywhere_and_nothing_else(warehouse):
    pid = pseudonym(KEY, PUPIL)
    before = _tables(warehouse)
    mine = before["fct_response"].filter(pl.col("elev") == pid)
    assert mine.height == 2  # both rounds
    result = forget_pupil(PUPIL, key=KEY, warehouse=warehouse, rebuild=build_derived)
    assert result.responses == 2
    after = _tables(warehouse)

    for name, frame in after.items():
        for col in ("elev", "nominee", "value"):
            if col in frame.columns and frame.schema[col] == pl.String:
                assert pid not in frame[col].to_list(), f"{name}.{col} still holds the pupil"
    assert after["fct_response"].height == before["fct_response"].height - 2
    assert after["fct_answer"].height == before["fct_answer"].height - before["fct_answer"].filter(
        pl.col("elev") == pid).height

    # Marts: the pupil's rounds lose exactly that pupil's contribution; all else is unchanged.
    val = before["fct_pupil_indicator"].filter(pl.col("elev") == pid)
    keys = ["level", "round_id", "gruppe", "kommunenummer", "rolle", "pulje", "term",
            "indicator", "breakdown", "breakdown_value"]
    m0 = before["mart_indicator_counts"].sort(keys, nulls_last=True)
    m1 = after["mart_indicator_counts"].sort(keys, nulls_last=True)
    joined = m0.join(m1, on=keys, how="left", suffix="_after", nulls_equal=True)
    touched_rounds = set(mine["round_id"].to_list())
    terms = set(mine["term"].to_list())
    for row in joined.filter(pl.col("breakdown") == "alle").iter_rows(named=True):
        counted = val.filter(
            (pl.col("indicator") == row["indicator"]) & (pl.col("value").is_not_null())
        )
        groups = set(mine.filter(pl.col("round_id") == (row["round_id"] or ""))["gruppe"].to_list())
        in_group = row["level"] != "gruppe" or row["gruppe"] in groups
        in_unit = (row["round_id"] in touched_rounds and in_group) or (
            row["level"] in ("kommune", "pulje", "program") and row["term"] in terms
            and row["rolle"] == "deltaker"
            and (row["kommunenummer"] in (None, "0301"))
            and (row["pulje"] in (None, 1))
        )
        expected_drop = counted.filter(pl.col("term") == row["term"]).height if in_unit else 0
        assert row["n"] - (row["n_after"] or 0) == expected_drop, row

    log = read_log(warehouse)
    assert [e["action"] for e in log] == ["forget"]
    assert PUPIL not in log_path(warehouse).read_text() and pid not in log_path(
        warehouse).read_text()

    # The published (suppressed) cells were rebuilt from the reduced marts.
    pub = after["pub_indicator_cells"].filter(
        (pl.col("level") == "skole") & (pl.col("breakdown") == "alle")
        & (pl.col("indicator") == "mobbet") & ~pl.col("suppressed")
    )
    mart = m1.filter((pl.col("level") == "skole") & (pl.col("breakdown") == "alle")
                     & (pl.col("indicator") == "mobbet"))
    for row in pub.iter_rows(named=True):
        assert row["n"] == mart.filter(pl.col("round_id") == row["round"])["n"][0]


def test_forget_unknown_pupil_changes_no_fact(warehouse):
    before = _tables(warehouse)
    result = forget_pupil("nobody@example.no", key=KEY, warehouse=warehouse,
                          rebuild=build_derived)
    assert result.responses == 0
    after = _tables(warehouse)
    for name in ("fct_response", "fct_answer", "mart_indicator_counts"):
        keys = [c for c, t in after[name].schema.items() if not t.is_float()]
        # Float sums may differ in the last bits between two parallel aggregations.
        assert_frame_equal(after[name].sort(keys, nulls_last=True),
                           before[name].sort(keys, nulls_last=True), check_exact=False)


def test_retention_deletes_older_rounds_only(warehouse, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    result = apply_retention("2025V", warehouse=copy, rebuild=build_derived)
    assert result.rounds == 4
    after = _tables(copy)
    assert set(after["dim_round"]["term"].to_list()) == {"2025V"}
    assert set(after["mart_indicator_counts"]["term"].to_list()) == {"2025V"}
    assert [e["action"] for e in read_log(copy)] == ["retention"]
    before = _tables(warehouse)
    kept = before["fct_response"].filter(pl.col("term") == "2025V")
    assert after["fct_response"].sort("round_id", "elev").equals(kept.sort("round_id", "elev"))
