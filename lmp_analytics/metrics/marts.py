"""Build the marts inside an open write transaction (called by the ingest job).

The marts are derived from the facts, round by round (``fct_pupil_indicator``,
``mart_group_counts``, ``mart_item_counts``) and term by term (``mart_indicator_counts``).
The build engine (:mod:`lmp_analytics.warehouse.build`, target ``marts``) keeps a fingerprint of
each round's facts as the marts last saw them, so a build recomputes only the rounds whose facts
changed and the terms they belong to: loading one corrected school file into ten years of rounds
touches one round, not all of them. When the schools or the indicator definitions change, or
there is no state yet, everything is rebuilt. Either way the marts hold exactly what a build from
scratch gives.
"""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.metrics.nonresponse import store_item_nonresponse
from lmp_analytics.warehouse import build
from lmp_analytics.warehouse.meta import writer_min_n
from lmp_analytics.warehouse.queries import named
from lmp_analytics.warehouse.registry import TARGETS

TARGET = "marts"
INPUTS_KEY = TARGETS[TARGET].inputs_key
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


def _inputs(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute(_q("inputs_fingerprint")).fetchall()[0][0]


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Refresh ``dim_indicator_item`` from the codebooks and bring every mart up to date."""
    con.register("new_indicator_items", indicator_items())
    con.execute(_q("replace_indicator_items"))
    con.unregister("new_indicator_items")
    build.round_fingerprints(con, "mart_fingerprint_now")
    inputs = _inputs(con)
    if build.is_current(con, TARGET, inputs):
        _update(con)
        terms = [r[0] for r in con.execute(_q("changed_terms")).fetchall()]
    else:
        _rebuild(con)
        terms = None
    store_item_nonresponse(con, min_n=writer_min_n(con), terms=terms)
    _save_state(con, inputs)


def _rebuild(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_q("create_pupil_indicator", rows=_q(
        "pupil_indicator_rows", answers="fct_answer", responses="fct_response")))
    con.execute(_q("create_group_counts", rows=_q(
        "group_counts_rows", pupils="fct_pupil_indicator")))
    con.execute(_q("school_rounds"))
    con.execute(_q("create_indicator_counts", rows=_q(
        "indicator_counts_rows", groups="mart_group_counts")))
    con.execute(_q("create_item_counts", rows=_q(
        "item_counts_rows", answers="fct_answer", responses="fct_response")))


def _update(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the changed rounds and the terms they are in."""
    if not build.changed(con, TARGET, "mart_fingerprint_now", "mart_changed"):
        con.execute(_q("school_rounds"))
        return
    rounds = "(SELECT * FROM {table} WHERE round_id IN (SELECT round_id FROM mart_changed))"
    in_terms = "(SELECT * FROM {table} WHERE term IN (SELECT DISTINCT term FROM mart_changed))"
    con.execute(_q("delete_changed_rounds", table="fct_pupil_indicator"))
    con.execute(_q("insert_rows", table="fct_pupil_indicator", rows=_q(
        "pupil_indicator_rows", answers=rounds.format(table="fct_answer"),
        responses=rounds.format(table="fct_response"))))
    con.execute(_q("delete_changed_rounds", table="mart_group_counts"))
    con.execute(_q("insert_rows", table="mart_group_counts", rows=_q(
        "group_counts_rows", pupils=rounds.format(table="fct_pupil_indicator"))))
    con.execute(_q("school_rounds"))
    # Only what the changed rounds touch: their own group and school rows, and the aggregates
    # of their terms (a whole term's rows, rewritten, cost most of the update and its checkpoint)
    con.execute(_q("delete_changed_indicator_counts"))
    con.execute(_q("insert_rows", table="mart_indicator_counts", rows=_q(
        "changed_indicator_counts_rows", rows=_q(
            "indicator_counts_rows", groups=in_terms.format(table="mart_group_counts")
        ).rstrip(";"))))
    con.execute(_q("delete_changed_rounds", table="mart_item_counts"))
    con.execute(_q("insert_rows", table="mart_item_counts", rows=_q(
        "item_counts_rows", answers=rounds.format(table="fct_answer"),
        responses=rounds.format(table="fct_response"))))


def _save_state(con: duckdb.DuckDBPyConnection, inputs: str) -> None:
    build.record(con, TARGET, "mart_fingerprint_now", inputs)


def record_mart_state(con: duckdb.DuckDBPyConnection) -> None:
    """Mark the marts as built from the facts as they are now (for tools that write marts and
    facts consistently themselves, such as the benchmarks' multi-year warehouse)."""
    build.round_fingerprints(con, "mart_fingerprint_now")
    _save_state(con, _inputs(con))
