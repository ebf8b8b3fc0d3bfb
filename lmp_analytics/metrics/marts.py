"""Build the marts inside an open write transaction (called by the ingest job)."""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.warehouse.queries import named

MART_STEPS = ("pupil_indicator", "round_counts", "school_rounds", "indicator_counts")


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


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Refresh ``dim_indicator_item`` from the codebooks and rebuild every mart."""
    con.register("new_indicator_items", indicator_items())
    con.execute("DELETE FROM dim_indicator_item")
    con.execute("INSERT INTO dim_indicator_item SELECT * FROM new_indicator_items")
    con.unregister("new_indicator_items")
    for step in MART_STEPS:
        con.execute(named("marts", step))
