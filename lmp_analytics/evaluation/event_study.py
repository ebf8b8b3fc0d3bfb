"""The programme's event study for display, computed at publish time.

:func:`event_study_view` fits the staggered DiD (:func:`~lmp_analytics.evaluation.programme.
programme_effect`) on the school cells the reader's publication shows and sends each
event-time estimate through the suppression engine;
:func:`lmp_analytics.jobs.build_estimates` stores it for every indicator in
``mart_event_study`` / ``mart_event_summary`` / ``mart_event_info`` and
:func:`read_stored` gives it back (what :func:`lmp_analytics.readmodels.comparison.event_study`
shows). A reader stricter than the warehouse, or a warehouse of an older version, gets it
computed on the call by the same function.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from lmp_analytics.evaluation.programme import (
    programme_effect,
    school_term_panel,
    visible_panel,
)
from lmp_analytics.privacy.suppression import suppress
from lmp_analytics.warehouse import build, ddl, meta
from lmp_analytics.warehouse.queries import named

__all__ = ["ES_SCHEMA", "MIN_N_KEY", "SUMMARY_SCHEMA", "EventStudyView", "event_study_view",
           "read_stored", "store"]

#: meta key: the threshold the stored estimates (landing panel, event study) were built with.
MIN_N_KEY = "estimates_min_n"

ES_SCHEMA = {
    "indicator": pl.String, "e": pl.Int64, "att": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "n": pl.Int64, "n_schools": pl.Int64, "pre": pl.Boolean,
    "suppressed": pl.Boolean, "n_display": pl.String,
}
SUMMARY_SCHEMA = {"estimate": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
                  "ci_high": pl.Float64, "schools": pl.Int64}
INFO_SCHEMA = {"indicator": pl.String, "pre_trend_p": pl.Float64, "pre_trend_k": pl.Int64,
               "warnings": pl.List(pl.String), "schools": pl.Int64,
               "treated_schools": pl.Int64}


@dataclass(frozen=True)
class EventStudyView:
    """The programme's staggered DiD for display (programme-level aggregates over all schools).

    ``event_study``: e (terms since start; e = -1 is the phase-1 term), att, ci_low, ci_high,
    n (respondents of participating schools at that event time), n_schools, pre (e < 0),
    suppressed. ``summary``: one row per estimate (overall ATT, naive before/after, static
    TWFE) with estimate, ci_low, ci_high. ``pre_trend_p``: finite-sample pre-trend p-value.
    """

    indicator: str
    event_study: pl.DataFrame
    summary: pl.DataFrame
    pre_trend_p: float | None
    pre_trend_k: int | None
    warnings: tuple[str, ...]
    schools: int
    treated_schools: int


def _empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def event_study_view(con: duckdb.DuckDBPyConnection, indicator: str, *, min_n: int,
                     cells: pl.DataFrame, anticipation: int = 0) -> EventStudyView:
    """Fit the programme's event study of ``indicator`` (Callaway-Sant'Anna; not-yet-treated
    and comparison schools as controls) and suppress each event-time estimate at ``min_n``.

    Fitted on the school-terms whose cell the reader's publication shows (``cells``: the
    indicator's published school cells at ``min_n``, :func:`lmp_analytics.api.published_cells`;
    :func:`~lmp_analytics.evaluation.programme.visible_panel`): a school cell the engine hides
    is left out as a missing round, so no estimate, interval or count moves with a hidden
    number."""
    nothing = EventStudyView(indicator, _empty(ES_SCHEMA), _empty(SUMMARY_SCHEMA), None, None,
                             (), 0, 0)
    if "mart_indicator_counts" not in build.tables(con):
        return nothing
    panel = visible_panel(school_term_panel(con, indicator), cells)
    treated = panel.filter(pl.col("g").is_not_null())
    if panel.height == 0 or treated.height == 0 or panel["y"].null_count() == panel.height:
        return nothing
    try:
        effect = programme_effect(con, indicator, anticipation=anticipation, panel=panel)
    except Exception as exc:  # too few schools or terms for the estimator
        return EventStudyView(indicator, _empty(ES_SCHEMA), _empty(SUMMARY_SCHEMA), None,
                              None, (f"{type(exc).__name__}: {exc}",), 0, 0)
    did = effect.did
    support = treated.with_columns((pl.col("t") - pl.col("g")).alias("e")).group_by("e").agg(
        pl.col("n").sum().cast(pl.Int64).alias("n"),
        pl.col("skole_orgnr").n_unique().cast(pl.Int64).alias("n_schools"))
    es = did.event_study.select(
        pl.lit(indicator).alias("indicator"), pl.col("e").cast(pl.Int64), "att", "ci_low",
        "ci_high").join(support, on="e", how="left").with_columns(
        pl.col("n").fill_null(0), pl.col("n_schools").fill_null(0),
        (pl.col("e") < 0).alias("pre"))
    es = suppress(es, keys=("indicator", "e"), min_n=min_n, labels=("pre",))
    es = es.select(list(ES_SCHEMA)).sort("e")
    rows = [("att", did.simple.att, did.simple.ci_low, did.simple.ci_high, did.treated_units)]
    if effect.naive is not None:
        rows.append(("naive", effect.naive.estimate, None, None, effect.naive.schools))
    if effect.twfe is not None:
        rows.append(("twfe", effect.twfe.coef, effect.twfe.ci_low, effect.twfe.ci_high,
                     effect.panel_schools))
    summary = pl.DataFrame(rows, schema=SUMMARY_SCHEMA, orient="row")
    pre = did.pre_trend
    return EventStudyView(
        indicator=indicator, event_study=es, summary=summary,
        pre_trend_p=None if pre is None else float(pre.p_value),
        pre_trend_k=None if pre is None else int(pre.k),
        warnings=tuple(did.warnings), schools=did.units, treated_schools=did.treated_units,
    )


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    ddl.insert_frame(con, table, frame, replace=True)


def store(con: duckdb.DuckDBPyConnection, views: list[EventStudyView]) -> None:
    """Replace the stored event studies with ``views`` (one per indicator)."""
    es = pl.concat([v.event_study.cast(ES_SCHEMA) for v in views] or [_empty(ES_SCHEMA)])
    summary = pl.concat([
        v.summary.cast(SUMMARY_SCHEMA).with_row_index("estimate_order").with_columns(
            pl.lit(v.indicator).alias("indicator")) for v in views] or [
        _empty(SUMMARY_SCHEMA).with_row_index("estimate_order").with_columns(
            pl.lit(None, pl.String).alias("indicator"))])
    info = pl.DataFrame([{
        "indicator": v.indicator, "pre_trend_p": v.pre_trend_p, "pre_trend_k": v.pre_trend_k,
        "warnings": list(v.warnings), "schools": v.schools,
        "treated_schools": v.treated_schools} for v in views], schema=INFO_SCHEMA)
    _write(con, "mart_event_study", es)
    _write(con, "mart_event_summary", summary)
    _write(con, "mart_event_info", info)


def read_stored(con: duckdb.DuckDBPyConnection, indicator: str, *,
                min_n: int) -> EventStudyView | None:
    """The stored event study of ``indicator``, or None when the warehouse has none (an older
    version), it was stored at another threshold (a stricter reader) or not for this
    indicator: the caller computes it."""
    if meta.get(con, MIN_N_KEY) != str(min_n) or "mart_event_info" not in build.tables(con):
        return None
    info = con.sql(named("estimates", "event_info_row"), params=[indicator]).pl()
    if info.height == 0:
        return None
    row = info.row(0, named=True)
    es = con.sql(named("estimates", "event_rows"), params=[indicator]).pl()
    summary = con.sql(named("estimates", "event_summary_rows"), params=[indicator]).pl()
    return EventStudyView(
        indicator=indicator, event_study=es.select(list(ES_SCHEMA)).cast(ES_SCHEMA),
        summary=summary.select(list(SUMMARY_SCHEMA)).cast(SUMMARY_SCHEMA),
        pre_trend_p=row["pre_trend_p"], pre_trend_k=row["pre_trend_k"],
        warnings=tuple(row["warnings"] or ()), schools=row["schools"],
        treated_schools=row["treated_schools"])
