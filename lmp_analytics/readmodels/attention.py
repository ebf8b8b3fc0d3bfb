"""The attention list: which schools in scope need attention, read off intervals."""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics import api
from lmp_analytics.privacy.scope import Surface, scope
from lmp_analytics.readmodels._common import RoleArg, WarehouseArg, empty
from lmp_analytics.readmodels.catalogue import indicator_catalogue, value_columns
from lmp_analytics.terms import term_order
from lmp_analytics.warehouse import reading

__all__ = ["ATTENTION_SCHEMA", "attention"]


ATTENTION_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "skole": pl.String, "rolle": pl.String, "indicator": pl.String, "kind": pl.String,
    "term": pl.String, "round": pl.String, "n": pl.Int64, "value": pl.Float64,
    "ci_low": pl.Float64, "ci_high": pl.Float64, "reference": pl.Float64,
    "reference_label": pl.String, "gap_lower_bound": pl.Float64, "above_reference": pl.Boolean,
    "change_verdict": pl.String, "change": pl.Float64, "change_ci_low": pl.Float64,
    "change_ci_high": pl.Float64, "previous_term": pl.String, "clear_worsening": pl.Boolean,
    "evidence": pl.Int64, "rank": pl.Int64,
}


def attention(
    *, indicator: str = "mobbet", role: RoleArg = "program", warehouse: WarehouseArg = None,
    surface: Surface = "dashboard",
    changes: pl.DataFrame | None = None, cells: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Schools in scope ordered by the evidence that they need attention, read off intervals.

    For each school's latest visible round: ``above_reference`` when the whole 95 % interval is
    on the bad side of the reference (the comparison schools' pooled level in that term, or all
    participants' when no comparison cell is visible), and ``clear_worsening`` when the change
    since the previous round is a clear change in the bad direction (interval excludes 0).
    ``evidence`` counts the two signals; ties are ordered by ``gap_lower_bound``: how far the
    interval's near end lies beyond the reference (never by the point estimate).

    ``changes`` (``api.compare(phase='runde')``) and ``cells`` (``api.indicators('skole')``)
    may be passed in when the caller already has them (same role and warehouse)."""
    with reading(warehouse) as con:  # one connection and one snapshot for the three reads
        return _attention(indicator, role, surface, con, changes, cells)


def _attention(indicator: str, role: RoleArg, surface: Surface, con: duckdb.DuckDBPyConnection,
               changes: pl.DataFrame | None, cells: pl.DataFrame | None) -> pl.DataFrame:
    info = indicator_catalogue().get(indicator)
    kind = info.kind if info else "share"
    bad_high = not (info.higher_is_better if info else False)
    value, low, high = value_columns(kind)
    if cells is None:
        cells = api.indicators("skole", indicator=indicator, role=role, warehouse=con,
                               surface=surface)
    else:
        cells = scope(cells.filter(pl.col("indicator") == indicator), role, surface)
    if cells.height == 0:
        return empty(ATTENTION_SCHEMA)
    visible = cells.filter(~pl.col("suppressed").cast(pl.Boolean).fill_null(True)
                           & pl.col(value).is_not_null())
    if visible.height == 0:
        return empty(ATTENTION_SCHEMA)
    latest = (visible.sort(term_order(), "round")
              .group_by("skole_orgnr", maintain_order=True).last())
    program = api.indicators("program", indicator=indicator, role=role, warehouse=con,
                             surface=surface)
    refs: dict[str, tuple[float, str]] = {}
    if program.height:
        vis = program.filter(~pl.col("suppressed").cast(pl.Boolean).fill_null(True))
        for term, rolle, v in vis.select("term", "rolle", value).iter_rows():
            if v is None:
                continue
            if rolle == "sammenligning" or term not in refs:
                refs[term] = (float(v), rolle)
    ref_value = [refs.get(t, (None, None))[0] for t in latest["term"].to_list()]
    ref_label = [refs.get(t, (None, None))[1] for t in latest["term"].to_list()]
    latest = latest.with_columns(
        pl.Series("reference", ref_value, dtype=pl.Float64),
        pl.Series("reference_label", ref_label, dtype=pl.String),
    )
    gap = (pl.col(low) - pl.col("reference")) if bad_high else (pl.col("reference") - pl.col(high))
    latest = latest.with_columns(gap.alias("gap_lower_bound")).with_columns(
        (pl.col("gap_lower_bound") > 0).fill_null(False).alias("above_reference"))
    if changes is None:  # only the changes the list shows: into each school's latest round
        changes = api.compare(indicator=indicator, phase="runde", role=role, warehouse=con,
                              surface=surface, post_rounds=latest["round"].to_list())
    else:
        changes = scope(changes.filter(pl.col("indicator") == indicator), role, surface)
    diff_col = "diff_pp" if kind == "share" else "diff_mean"
    last_change = changes.filter(~pl.col("suppressed").fill_null(True)).select(
        "skole_orgnr", pl.col("post_round").alias("round"),
        pl.col("verdict").alias("change_verdict"), pl.col(diff_col).alias("change"),
        pl.col("diff_ci_low").alias("change_ci_low"),
        pl.col("diff_ci_high").alias("change_ci_high"),
        pl.col("pre_term").alias("previous_term"))
    latest = latest.join(last_change, on=["skole_orgnr", "round"], how="left")
    worse = (pl.col("change_ci_low") > 0) if bad_high else (pl.col("change_ci_high") < 0)
    latest = latest.with_columns(worse.fill_null(False).alias("clear_worsening"))
    latest = latest.with_columns(
        (pl.col("above_reference").cast(pl.Int64)
         + pl.col("clear_worsening").cast(pl.Int64)).alias("evidence"))
    latest = latest.sort(["evidence", "gap_lower_bound", "skole"],
                         descending=[True, True, False], nulls_last=True)
    latest = latest.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"))
    out = latest.select(
        "level", "kommunenummer", "skole_orgnr", "skole", "rolle", "indicator", "kind", "term",
        "round", pl.col("n").cast(pl.Int64), pl.col(value).cast(pl.Float64).alias("value"),
        pl.col(low).cast(pl.Float64).alias("ci_low"),
        pl.col(high).cast(pl.Float64).alias("ci_high"), "reference", "reference_label",
        "gap_lower_bound", "above_reference", "change_verdict", "change", "change_ci_low",
        "change_ci_high", "previous_term", "clear_worsening", "evidence", "rank")
    return out

