"""Publications: every number any role may see, computed once and suppressed once.

An indicator's publication holds all of its cells at school, kommune, pulje and programme level
for every term; grade (trinn) and gender (kjonn) breakdowns at school level only. Breakdowns of
the aggregates would be sums of the schools' breakdowns: the three-way table (school x breakdown
x aggregate) forces so much complementary suppression that school totals themselves disappear
(measured on the demo world), so they are not published. It is suppressed in one call of the
engine with every sum a reader could combine (school -> kommune, school -> pulje, kommune ->
programme, breakdown parts -> total), then cut by role scope. Every role therefore sees a subset
of one safe publication, and a subset cannot reveal more than the whole.
"""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics.metrics.indicators import indicator_table
from lmp_analytics.privacy.suppression import Linkage, suppress

CELL_KEYS = (
    "level", "kommunenummer", "skole_orgnr", "gruppe", "rolle", "pulje", "term", "round",
    "indicator", "breakdown", "breakdown_value",
)
CELL_LABELS = ("skole", "versjon", "kind", "ci_method", "few_clusters", "is_primary")
PUBLISHED_LEVELS = ("skole", "kommune", "pulje", "program")
COMPONENT_KEYS = ("term", "rolle", "indicator")


UNIT_KEYS = ("level", "kommunenummer", "skole_orgnr", "gruppe", "rolle", "pulje", "term",
             "round", "indicator")


def breakdown_linkages() -> list[Linkage]:
    """Within any unit: all pupils = sum over trinn = sum over kjonn."""
    total = pl.col("breakdown") == "alle"
    return [
        Linkage(UNIT_KEYS, total, pl.col("breakdown") == "trinn", "trinn"),
        Linkage(UNIT_KEYS, total, pl.col("breakdown") == "kjonn", "kjonn"),
    ]


def _linkages() -> list[Linkage]:
    cell = ("rolle", "term", "indicator", "breakdown", "breakdown_value")
    lv = pl.col("level")
    school_part = (lv == "skole") & pl.col("is_primary").fill_null(False)
    return [
        *breakdown_linkages(),
        Linkage(("kommunenummer", *cell), lv == "kommune", school_part, "skole->kommune"),
        Linkage(("pulje", *cell), lv == "pulje",
                school_part & pl.col("pulje").is_not_null(), "skole->pulje"),
        Linkage(cell, lv == "program", lv == "kommune", "kommune->program"),
    ]


def indicator_cells(con: duckdb.DuckDBPyConnection, indicator: str) -> pl.DataFrame:
    """The unsuppressed cells of one indicator at every published level and breakdown."""
    frames = [
        indicator_table(con, level, indicator=indicator, by=by)
        for level in PUBLISHED_LEVELS
        for by in ((None, "trinn", "kjonn") if level == "skole" else (None,))
    ]
    return pl.concat(frames, how="vertical_relaxed")


def suppressed_indicator(
    con: duckdb.DuckDBPyConnection, indicator: str, *, min_n: int | None = None
) -> pl.DataFrame:
    """The suppressed publication of one indicator (``suppressed`` etc. columns added)."""
    cells = indicator_cells(con, indicator)
    if cells.height == 0:
        return cells
    # Every declared sum stays within one (term, rolle): those are independent problems, and
    # solving them one by one gives the same hidden set much faster than one big system.
    parts = cells.partition_by(COMPONENT_KEYS, maintain_order=True)
    return pl.concat(
        [suppress(part, keys=CELL_KEYS, linkages=_linkages(), min_n=min_n, labels=CELL_LABELS)
         for part in parts],
        how="vertical_relaxed",
    )


PUBLICATION_TABLE = "pub_indicator_cells"


def build_publication(con: duckdb.DuckDBPyConnection, *, min_n: int | None = None) -> None:
    """Suppress every indicator's cells and store them in ``pub_indicator_cells``.

    Runs inside the ingest transaction after the marts, so readers (dashboards, exports) only
    ever read numbers that have been through the engine, and never wait for it.
    """
    indicators = [row[0] for row in con.sql(
        "SELECT DISTINCT indicator FROM mart_indicator_counts ORDER BY indicator"
    ).fetchall()]
    frames = [suppressed_indicator(con, ind, min_n=min_n) for ind in indicators]
    frames = [f for f in frames if f.height]
    con.execute(f"DROP TABLE IF EXISTS {PUBLICATION_TABLE}")
    if not frames:
        return
    published = pl.concat(frames, how="vertical_relaxed")
    con.register("new_publication", published)
    try:
        con.execute(f"CREATE TABLE {PUBLICATION_TABLE} AS SELECT * FROM new_publication")
    finally:
        con.unregister("new_publication")
