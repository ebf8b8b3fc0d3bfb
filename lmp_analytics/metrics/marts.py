"""Build the marts inside an open write transaction (called by the ingest job).

The marts are derived from the facts, round by round (``fct_pupil_indicator``,
``mart_group_counts``, ``mart_item_counts``) and term by term (``mart_indicator_counts``).
``mart_round_state`` keeps a fingerprint of each round's facts as the marts last saw them, so a
build recomputes only the rounds whose facts changed and the terms they belong to: loading one
corrected school file into ten years of rounds touches one round, not all of them. When the
schools or the indicator definitions change, or there is no state yet, everything is rebuilt.
Either way the marts hold exactly what a build from scratch gives.
"""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.metrics.nonresponse import store_item_nonresponse
from lmp_analytics.warehouse.load import changed_rounds, round_fingerprints
from lmp_analytics.warehouse.meta import writer_min_n
from lmp_analytics.warehouse.queries import named

STATE_TABLE = "mart_round_state"
INPUTS_KEY = "marts_inputs"
MART_TABLES = ("fct_pupil_indicator", "mart_group_counts", "mart_school_round",
               "mart_indicator_counts", "mart_item_counts")


def indicator_items() -> pl.DataFrame:
    """The codebooks' indicator definitions as rows (versjon, indicator, item, ...)."""
    rows = []
    for version, book in load_codebooks().items():
        for ind in book.indicators.values():
            for item in ind.items:
                rows.append((version, ind.id, ind.kind, item, item in ind.reversed,
                             ind.threshold, ind.min_items, ind.top_threshold))
    return pl.DataFrame(
        rows,
        schema={"versjon": pl.String, "indicator": pl.String, "kind": pl.String,
                "item": pl.String, "is_reversed": pl.Boolean, "threshold": pl.Int32,
                "min_items": pl.Int32, "top_threshold": pl.Float64},
        orient="row",
    )


def _q(name: str, **parts: str) -> str:
    text = named("marts", name)
    return text.format(**parts) if parts else text


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}


def _inputs(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute(_q("inputs_fingerprint")).fetchall()[0][0]


def _stored_inputs(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [INPUTS_KEY]).fetchall()
    return rows[0][0] if rows else None


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Refresh ``dim_indicator_item`` from the codebooks and bring every mart up to date."""
    con.register("new_indicator_items", indicator_items())
    con.execute("DELETE FROM dim_indicator_item")
    con.execute("INSERT INTO dim_indicator_item SELECT * FROM new_indicator_items")
    con.unregister("new_indicator_items")
    round_fingerprints(con, "mart_fingerprint_now")
    inputs = _inputs(con)
    tables = _tables(con)
    if (STATE_TABLE in tables and set(MART_TABLES) <= tables
            and _stored_inputs(con) == inputs):
        _update(con)
        terms = [r[0] for r in con.execute(_q("changed_terms")).fetchall()]
    else:
        _rebuild(con)
        terms = None
    store_item_nonresponse(con, min_n=writer_min_n(con), terms=terms)
    _save_state(con, inputs)


def _rebuild(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE OR REPLACE TABLE fct_pupil_indicator AS "
                + _q("pupil_indicator_rows", answers="fct_answer", responses="fct_response"))
    con.execute("CREATE OR REPLACE TABLE mart_group_counts AS "
                + _q("group_counts_rows", pupils="fct_pupil_indicator"))
    con.execute(_q("school_rounds"))
    con.execute("CREATE OR REPLACE TABLE mart_indicator_counts AS "
                + _q("indicator_counts_rows", groups="mart_group_counts"))
    con.execute("CREATE OR REPLACE TABLE mart_item_counts AS "
                + _q("item_counts_rows", answers="fct_answer", responses="fct_response"))


def _update(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the changed rounds and the terms they are in."""
    if not changed_rounds(con, "mart_fingerprint_now", STATE_TABLE, "mart_changed"):
        con.execute(_q("school_rounds"))
        return
    changed = "(SELECT round_id FROM mart_changed)"
    terms = "(SELECT DISTINCT term FROM mart_changed)"
    con.execute(f"DELETE FROM fct_pupil_indicator WHERE round_id IN {changed}")
    con.execute("INSERT INTO fct_pupil_indicator " + _q(
        "pupil_indicator_rows",
        answers=f"(SELECT * FROM fct_answer WHERE round_id IN {changed})",
        responses=f"(SELECT * FROM fct_response WHERE round_id IN {changed})"))
    con.execute(f"DELETE FROM mart_group_counts WHERE round_id IN {changed}")
    con.execute("INSERT INTO mart_group_counts " + _q(
        "group_counts_rows",
        pupils=f"(SELECT * FROM fct_pupil_indicator WHERE round_id IN {changed})"))
    con.execute(_q("school_rounds"))
    con.execute(f"DELETE FROM mart_indicator_counts WHERE term IN {terms}")
    con.execute("INSERT INTO mart_indicator_counts " + _q(
        "indicator_counts_rows",
        groups=f"(SELECT * FROM mart_group_counts WHERE term IN {terms})"))
    con.execute(f"DELETE FROM mart_item_counts WHERE round_id IN {changed}")
    con.execute("INSERT INTO mart_item_counts " + _q(
        "item_counts_rows",
        answers=f"(SELECT * FROM fct_answer WHERE round_id IN {changed})",
        responses=f"(SELECT * FROM fct_response WHERE round_id IN {changed})"))


def _save_state(con: duckdb.DuckDBPyConnection, inputs: str) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {STATE_TABLE} AS SELECT * FROM mart_fingerprint_now")
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [INPUTS_KEY, inputs])


def record_mart_state(con: duckdb.DuckDBPyConnection) -> None:
    """Mark the marts as built from the facts as they are now (for tools that write marts and
    facts consistently themselves, such as the benchmarks' multi-year warehouse)."""
    round_fingerprints(con, "mart_fingerprint_now")
    _save_state(con, _inputs(con))

