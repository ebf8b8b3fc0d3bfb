"""Item non-response cells: skipped items among the items every respondent of a round was asked.

The counts per round x item are the mart ``mart_item_counts``; this module sums them to each
school's round (``item='alle'``) and to the programme per term (per item and 'alle', over the
schools' primary rounds) and suppresses them term by term. :func:`store_item_nonresponse` keeps
the suppressed result in ``mart_item_nonresponse`` (built with the marts, only the changed terms
on an incremental build), which :func:`lmp_analytics.readmodels.quality.item_nonresponse` reads
when it was built with the same threshold and codebooks (:func:`inputs_key`); else the view
computes it live from the counts with :func:`nonresponse_cells`. No Streamlit here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from functools import cache

import duckdb
import polars as pl

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.privacy.suppression import PRIMARY, REASON, SUPPRESSED, Linkage, suppress
from lmp_analytics.warehouse import build, ddl
from lmp_analytics.warehouse.queries import named
from lmp_analytics.warehouse.registry import TARGETS

TARGET = "item_nonresponse"
TABLE = "mart_item_nonresponse"
INPUTS_KEY = TARGETS[TARGET].inputs_key

NONRESPONSE_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "skole": pl.String, "round_id": pl.String, "term": pl.String, "item": pl.String,
    "module": pl.String, "n": pl.Int64, "asked": pl.Int64, "skipped": pl.Int64,
    "skipped_share": pl.Float64, "suppressed": pl.Boolean, "suppression_reason": pl.String,
    "n_display": pl.String,
}


@cache
def conditional_items() -> frozenset[str]:
    """Items asked only after a filter answer (e.g. forms of bullying) or nominations: not part
    of item non-response, which compares items every respondent was asked."""
    return frozenset(
        item.code for book in load_codebooks().values() for item in book.items.values()
        if item.asked_when or item.is_nomination
    )


@cache
def item_modules() -> dict[str, str]:
    """Item code -> module (first codebook that has the item wins, in codebook order)."""
    out: dict[str, str] = {}
    for book in load_codebooks().values():
        for item in book.items.values():
            out.setdefault(item.code, item.module)
    return out


def inputs_key(min_n: int) -> str:
    """What the stored cells depend on besides the facts and schools: threshold and codebooks."""
    text = repr((1, min_n, sorted(conditional_items()), sorted(item_modules().items())))
    return hashlib.sha256(text.encode()).hexdigest()


def read_inputs(
    con: duckdb.DuckDBPyConnection, terms: Sequence[str] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(counts per round x item of ``terms`` (None: all) from ``mart_item_counts``, with school,
    term and primary flag; respondents per round; school names) from the warehouse. A warehouse
    without those marts (written by an older version) raises
    :class:`~lmp_analytics.warehouse.build.MissingDerivedTable`: the next write builds them."""
    build.require(con, "mart_item_counts", "mart_school_round")
    wanted = None if terms is None else list(terms)
    per_item = con.sql(named("marts", "item_nonresponse_read"),
                       params=[sorted(conditional_items()), wanted, wanted]).pl()
    respondents = con.sql(named("marts", "item_nonresponse_respondents")).pl()
    names = con.sql(named("marts", "item_nonresponse_names")).pl()
    return per_item, respondents, names


def nonresponse_cells(
    per_item: pl.DataFrame, respondents: pl.DataFrame, names: pl.DataFrame, *,
    min_n: int | None = None,
) -> pl.DataFrame:
    """School-round and programme cells, suppressed term by term (unsorted, every role)."""
    if per_item.height == 0:
        return pl.DataFrame(schema=NONRESPONSE_SCHEMA)
    per_item = per_item.with_columns(pl.col(c).cast(pl.Int64) for c in ("asked", "skipped", "n"))
    school = (per_item.group_by("round_id", "skole_orgnr", "term", "is_primary")
              .agg(pl.col("asked").sum(), pl.col("skipped").sum())
              .join(respondents, on="round_id", how="left")
              .join(names, on="skole_orgnr", how="left")
              .with_columns(pl.lit("skole").alias("level"), pl.lit("alle").alias("item"),
                            pl.col("n_round").cast(pl.Int64).alias("n")))
    prim = per_item.filter(pl.col("is_primary"))
    prog_items = prim.group_by("term", "item").agg(
        pl.col("asked").sum(), pl.col("skipped").sum(), pl.col("n").sum())
    prog_all = school.filter(pl.col("is_primary")).group_by("term").agg(
        pl.col("asked").sum(), pl.col("skipped").sum(), pl.col("n").sum()
    ).with_columns(pl.lit("alle").alias("item"))
    prog = pl.concat([prog_items.select("term", "item", "asked", "skipped", "n"),
                      prog_all.select("term", "item", "asked", "skipped", "n")]).with_columns(
        pl.lit("program").alias("level"), pl.lit(True).alias("is_primary"),
        *[pl.lit(None, dtype=pl.String).alias(c)
          for c in ("kommunenummer", "skole_orgnr", "skole", "round_id")])
    cols = ["level", "kommunenummer", "skole_orgnr", "skole", "round_id", "term", "item",
            "is_primary", "n", "asked", "skipped"]
    cells = pl.concat([school.select(cols), prog.select(cols)], how="vertical_relaxed")
    cells = cells.with_columns(
        (pl.col("skipped") / pl.col("asked")).alias("skipped_share"),
        pl.col("item").replace_strict(item_modules(), default="alle").alias("module"),
    )
    return _suppressed(cells, min_n)


def _suppressed(cells: pl.DataFrame, min_n: int | None) -> pl.DataFrame:
    """The cells through the engine term by term, the programme total of a term linked to its
    schools' primary rounds."""
    lv = pl.col("level")
    linkage = Linkage(("term", "item"), lv == "program",
                      (lv == "skole") & pl.col("is_primary"), "skole->program")
    parts = cells.partition_by("term", maintain_order=True)
    out = pl.concat([
        suppress(part, keys=("level", "skole_orgnr", "round_id", "term", "item"),
                 linkages=[linkage], min_n=min_n,
                 labels=("kommunenummer", "skole", "module", "is_primary"))
        for part in parts
    ], how="vertical_relaxed")
    return out.select(list(NONRESPONSE_SCHEMA))


def hide_rounds(cells: pl.DataFrame, rounds: Collection[str], *, primary: Collection[str],
                min_n: int | None) -> pl.DataFrame:
    """``cells`` (:func:`nonresponse_cells` or :func:`stored_cells`) with the school rows of
    ``rounds`` hidden too, through the engine again with the same lines (``primary``: the
    schools' primary rounds, whose rows add up to the programme's): the rounds of which the
    publication the reader sees hides a cell, whose respondents would otherwise stand in for
    that cell's n. Unchanged when no such row is visible."""
    wanted = (pl.col("level") == "skole") & pl.col("round_id").is_in(sorted(rounds))
    newly = wanted & ~pl.col(SUPPRESSED)
    if cells.height == 0 or cells.filter(newly).height == 0:
        return cells
    marked = cells.with_columns(
        pl.when(newly).then(pl.lit(PRIMARY)).otherwise(pl.col(REASON)).alias(REASON),
        (pl.col(SUPPRESSED) | newly).alias(SUPPRESSED),
        ((pl.col("level") == "program") | pl.col("round_id").is_in(sorted(primary)))
        .alias("is_primary"))
    return _suppressed(marked, min_n)


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The warehouse's tables."""
    return build.tables(con)


def stored_cells(con: duckdb.DuckDBPyConnection, min_n: int) -> pl.DataFrame | None:
    """The stored cells if they were built with threshold ``min_n`` and today's codebooks (None:
    compute them from :func:`read_inputs`). A warehouse without the table raises
    :class:`~lmp_analytics.warehouse.build.MissingDerivedTable`."""
    build.require(con, TABLE)
    if build.inputs_of(con, TARGET) != inputs_key(min_n):
        return None
    return con.sql(named("marts", "item_nonresponse_stored")).pl()


def store_item_nonresponse(
    con: duckdb.DuckDBPyConnection, *, min_n: int, terms: Sequence[str] | None = None
) -> None:
    """Recompute the stored cells of ``terms`` (None: every term) inside the write transaction;
    every term when the table is missing or was built with other inputs."""
    if not build.is_current(con, TARGET, inputs_key(min_n)):
        terms = None
    elif terms is not None and not terms:
        return
    per_item, respondents, names = read_inputs(con, terms)
    cells = nonresponse_cells(per_item, respondents, names, min_n=min_n)
    if terms is not None:
        con.execute(named("marts", "item_nonresponse_delete_terms"), [list(terms)])
    ddl.insert_frame(con, TABLE, cells, replace=terms is None)
    build.record(con, TARGET, None, inputs_key(min_n))
