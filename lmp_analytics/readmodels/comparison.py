"""Comparisons: participants vs comparison schools by term, the difference-in-differences
summary, the programme's event study and the national (Elevundersøkelsen) benchmark, suppressed
and scoped to the role."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from lmp_analytics import api
from lmp_analytics.errors import keyed
from lmp_analytics.evaluation.event_study import (
    ES_SCHEMA,
    SUMMARY_SCHEMA,
    EventStudyView,
    event_study_view,
)
from lmp_analytics.evaluation.event_study import read_stored as stored_event_study
from lmp_analytics.national.schema import totals_only
from lmp_analytics.privacy.derived import Level, suppress_derived
from lmp_analytics.privacy.scope import Surface, as_role, scope
from lmp_analytics.privacy.suppression import suppress
from lmp_analytics.readmodels._common import RoleArg, WarehouseArg, empty, has_table
from lmp_analytics.readmodels.catalogue import indicator_catalogue, value_columns
from lmp_analytics.terms import term_order
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.meta import read_min_n
from lmp_analytics.warehouse.queries import named

__all__ = [
    "DID_SCHEMA",
    "ES_SCHEMA",
    "NATIONAL_SCHEMA",
    "SERIES_SCHEMA",
    "SUMMARY_SCHEMA",
    "EventStudyView",
    "comparison_series",
    "did_summary",
    "eu_benchmark",
    "event_study",
    "national_series",
    "own_schools_series",
]


SERIES_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "series": pl.String, "term": pl.String,
    "indicator": pl.String, "kind": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "n": pl.Int64, "n_schools": pl.Int64, "suppressed": pl.Boolean,
    "n_display": pl.String,
}


def comparison_series(
    *, indicator: str = "mobbet", role: RoleArg = "program", warehouse: WarehouseArg = None,
    surface: Surface = "dashboard",
) -> pl.DataFrame:
    """Participants (``series='deltaker'``) vs comparison schools (``'sammenligning'``) by term,
    from the published programme cells, plus the same at kommune level for the municipalities
    in scope (``level='kommune'``). ``value`` is the share (0-1) or the scale mean."""
    info = indicator_catalogue().get(indicator)
    kind = info.kind if info else "share"
    value, low, high = value_columns(kind)
    frames = []
    for level in ("program", "kommune"):
        cells = api.indicators(level, indicator=indicator, role=role, warehouse=warehouse,
                               surface=surface)
        if cells.height == 0:
            continue
        frames.append(cells.select(
            pl.col("level"), pl.col("kommunenummer"),
            pl.lit(None, dtype=pl.String).alias("skole_orgnr"), pl.col("rolle").alias("series"),
            "term", "indicator", "kind", pl.col(value).cast(pl.Float64).alias("value"),
            pl.col(low).cast(pl.Float64).alias("ci_low"),
            pl.col(high).cast(pl.Float64).alias("ci_high"),
            pl.col("n").cast(pl.Int64), pl.col("n_schools").cast(pl.Int64),
            pl.col("suppressed").cast(pl.Boolean), "n_display",
        ))
    if not frames:
        return empty(SERIES_SCHEMA)
    out = pl.concat(frames, how="vertical_relaxed")
    return out.sort(term_order("term"), "level",
                    "kommunenummer", "series", nulls_last=False)


def own_schools_series(
    *, indicator: str = "mobbet", role: RoleArg = "program", warehouse: WarehouseArg = None,
    min_n: int | None = None, surface: Surface = "dashboard",
) -> pl.DataFrame:
    """The role's own participating schools pooled by term (SERIES_SCHEMA, ``level='skoler'``,
    ``series='deltaker'``): a supervisor's headline and comparison line. Pools the school cells
    the role may see (:func:`lmp_analytics.api.indicators`, scoped there), so a hidden school
    cell is left out (``n_schools`` says how many were pooled) and the pooled figure is a sum of
    published cells; it still goes through the suppression engine at the reader's threshold.
    One round per school and term (the primary one, as the programme cells count). Shares carry
    a Wilson interval on the pooled counts; a pooled mean has no interval."""
    from lmp_analytics.readmodels.catalogue import rounds_with_primary
    from lmp_analytics.stats.proportions import wilson_exprs

    info = indicator_catalogue().get(indicator)
    kind = info.kind if info else "share"
    value, _, _ = value_columns(kind)
    with reading(warehouse) as con:
        threshold = read_min_n(con, min_n)
        cells = api.indicators("skole", indicator=indicator, role=role, warehouse=con,
                               min_n=threshold, surface=surface)
        primary = rounds_with_primary(con, items=False).filter(pl.col("is_primary"))
    if cells.height == 0:
        return empty(SERIES_SCHEMA)
    cells = cells.filter((pl.col("rolle") == "deltaker")
                         & pl.col("round").is_in(primary["round_id"].implode())
                         & ~pl.col("suppressed").fill_null(True)
                         & pl.col(value).is_not_null())
    if cells.height == 0:
        return empty(SERIES_SCHEMA)
    pooled = cells.group_by("term").agg(
        (pl.col(value).cast(pl.Float64) * pl.col("n")).sum().alias("total"),
        pl.col("n").sum().cast(pl.Int64).alias("n"),
        pl.len().cast(pl.Int64).alias("n_schools"))
    low, high = wilson_exprs(pl.col("total").round(0), "n")
    pooled = pooled.with_columns(
        (pl.col("total") / pl.col("n")).alias("value"),
        *((low, high) if kind == "share" else (pl.lit(None, pl.Float64).alias("ci_low"),
                                                pl.lit(None, pl.Float64).alias("ci_high"))),
        pl.lit(indicator).alias("indicator"))
    shown = suppress(pooled.select("indicator", "term", "n"), keys=("indicator", "term"),
                     min_n=threshold).select("term", "suppressed", "n_display")
    out = pooled.join(shown, on="term").with_columns(
        *[pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
          for c in ("value", "ci_low", "ci_high", "n")],
        pl.lit("skoler").alias("level"), pl.lit(None, pl.String).alias("kommunenummer"),
        pl.lit(None, pl.String).alias("skole_orgnr"), pl.lit("deltaker").alias("series"),
        pl.lit(kind).alias("kind"))
    return out.select(list(SERIES_SCHEMA)).cast(SERIES_SCHEMA).sort(
        term_order("term"))


NATIONAL_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "unit_name": pl.String, "term": pl.String, "school_year": pl.String, "trinn": pl.Int64,
    "indicator": pl.String, "value_type": pl.String, "value": pl.Float64,
    "n_answered": pl.Int64, "suppressed": pl.Boolean, "series_version": pl.String,
}


def _eu_results(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    if not has_table(con, "fct_eu_result"):
        return pl.DataFrame()
    frame = totals_only(con.sql(named("read_models", "eu_results")).pl())
    if frame.height == 0:
        return frame
    names = con.sql(named("read_models", "school_kommune")).pl()
    frame = frame.join(names, left_on="unit_code", right_on="skole_orgnr", how="left")
    return frame.with_columns(
        pl.when(pl.col("level") == "nasjon").then(pl.lit("program"))
        .otherwise(pl.col("level")).alias("scope_level"),
        pl.when(pl.col("level") == "kommune").then(pl.col("unit_code"))
        .when(pl.col("level") == "skole").then(pl.col("school_kommune"))
        .alias("kommunenummer"),
        pl.when(pl.col("level") == "skole").then(pl.col("unit_code")).alias("skole_orgnr"),
    )


def _scope_eu(frame: pl.DataFrame, role: RoleArg, surface: Surface) -> pl.DataFrame:
    """Nation rows for everyone; kommune and school rows within scope; fylke rows only for
    roles that see every unit. A school missing from the roster is outside any kommune role."""
    r = as_role(role)
    fylke = frame.filter(pl.col("level") == "fylke")
    rest = frame.filter(pl.col("level") != "fylke")
    scoped = scope(
        rest.rename({"level": "eu_level", "scope_level": "level"}), r, surface
    ).rename({"level": "scope_level", "eu_level": "level"})
    if r.sees_all_units:
        return pl.concat([scoped, fylke], how="diagonal_relaxed")
    return scoped


def national_series(
    *, role: RoleArg = "program", warehouse: WarehouseArg = None,
    surface: Surface = "dashboard", levels: Sequence[str] = (
        "nasjon", "kommune", "skole")
) -> pl.DataFrame:
    """Elevundersøkelsen results loaded into the warehouse (published aggregates, suppressed
    at source), by term: national rows for everyone, kommune and school rows in scope.
    ``value`` is in percent (``value_type='pct'``) or points 1-5."""
    with reading(warehouse) as con:
        frame = _eu_results(con)
    if frame.height == 0:
        return empty(NATIONAL_SCHEMA)
    frame = _scope_eu(frame.filter(pl.col("level").is_in(list(levels))), role, surface)
    return frame.select(
        "level", "kommunenummer", "skole_orgnr", "unit_name", "term", "school_year",
        pl.col("trinn").cast(pl.Int64), "indicator", "value_type",
        pl.col("value").cast(pl.Float64), pl.col("n_answered").cast(pl.Int64),
        pl.col("suppressed").cast(pl.Boolean), "series_version",
    ).sort(term_order("term"), "level",
           "unit_name", "trinn", nulls_last=False)


def eu_benchmark(
    pre_term: str, post_term: str, *, role: RoleArg = "program", warehouse: WarehouseArg = None,
    surface: Surface = "dashboard",
    allow_break: bool = False,
) -> pl.DataFrame:
    """Each kommune and school in scope in Elevundersøkelsen: its change between two survey
    terms against the national change (:func:`lmp_analytics.national.benchmark_changes`)."""
    from lmp_analytics.national import BENCHMARK_COLUMNS, benchmark_changes

    with reading(warehouse) as con:
        frame = _eu_results(con)
    if frame.height == 0:
        return empty({c: pl.String for c in ("level", "unit_code", "unit_name")})
    scoped = _scope_eu(frame, role, surface)
    results = scoped.select(
        "level", "unit_code", "unit_name", "school_year", "survey_year", "term",
        "series_version", "trinn", "indicator_code", "indicator", "value_type", "value",
        "n_answered", "suppressed",
    )
    out = benchmark_changes(results, pre_term, post_term, allow_break=allow_break)
    return out.select(list(BENCHMARK_COLUMNS))


DID_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "indicator": pl.String,
    "pre_term": pl.String, "post_term": pl.String, "treated_schools": pl.Int64,
    "comparison_schools": pl.Int64, "treated_pre": pl.Float64, "treated_post": pl.Float64,
    "comparison_pre": pl.Float64, "comparison_post": pl.Float64,
    "treated_change": pl.Float64, "comparison_change": pl.Float64, "did": pl.Float64,
    "ci_low": pl.Float64, "ci_high": pl.Float64, "p_value": pl.Float64, "tested": pl.Boolean,
    "suppressed": pl.Boolean, "suppression_reason": pl.String,
}


def did_summary(
    *, indicator: str = "mobbet", pre_term: str, post_term: str, role: RoleArg = "program",
    kommunenummer: str | None = None, warehouse: WarehouseArg = None,
) -> pl.DataFrame:
    """The 2x2 difference-in-differences of participants vs comparison schools between two
    terms (:func:`~lmp_analytics.evaluation.programme.participants_vs_comparison`), one row.

    Programme-wide for every role; for one municipality only when the role includes it. The
    pooled shares are exactly the published (kommune or programme) cells of deltaker and
    sammenligning in the two terms, so the engine's change rule
    (:func:`~lmp_analytics.privacy.derived.suppress_derived`) hides the row (reason
    ``derived``) whenever one of those four cells is hidden or missing in the publication this
    reader sees (:func:`lmp_analytics.api.published_cells`, at a stricter reader's threshold
    too). Shares only (scales: the DiD of means is not offered here; reason ``not_share``)."""
    from lmp_analytics.evaluation.programme import participants_vs_comparison

    r = as_role(role)
    if kommunenummer is not None and not r.includes_kommune(kommunenummer):
        raise keyed(PermissionError(f"role {r} does not include kommune {kommunenummer}"),
                    "role_not_kommune", role=r, kommune=kommunenummer)
    level = "kommune" if kommunenummer else "program"
    row: dict = dict.fromkeys(DID_SCHEMA)
    row.update(level=level, kommunenummer=kommunenummer, indicator=indicator,
               pre_term=pre_term, post_term=post_term, tested=False, suppressed=True)
    with reading(warehouse) as con:
        cells = api.published_cells(con, level=level, indicators=[indicator])
        if cells.height == 0:
            row["suppression_reason"] = "no_data"
            return pl.DataFrame([row], schema=DID_SCHEMA)
        threshold = read_min_n(con, None)
        cells = cells.filter((pl.col("breakdown") == "alle")
                             & pl.col("term").is_in([pre_term, post_term]))
        if kommunenummer:
            cells = cells.filter(pl.col("kommunenummer") == kommunenummer)
        kinds = cells["kind"].unique().to_list()
        if kinds and kinds != ["share"]:
            row["suppression_reason"] = "not_share"
            return pl.DataFrame([row], schema=DID_SCHEMA)
        levels = {(rolle, term): (n, hidden) for rolle, term, n, hidden in cells.select(
            "rolle", "term", pl.col("n").cast(pl.Int64), pl.col("suppressed").cast(pl.Boolean),
        ).iter_rows()}
        sides = [(rolle, term) for rolle in ("deltaker", "sammenligning")
                 for term in (pre_term, post_term)]
        row.update(suppressed=None, suppression_reason=None)
        for rolle, term in sides:
            n, hidden = levels.get((rolle, term), (None, True))
            row[f"__n_{rolle}_{term}"], row[f"__hidden_{rolle}_{term}"] = n, hidden
        if all(not levels.get(side, (None, True))[1] for side in sides):
            res = participants_vs_comparison(con, pre_term, post_term, indicator,
                                             kommunenummer=kommunenummer)
            row.update(
                treated_schools=res.treated_clusters, comparison_schools=res.comparison_clusters,
                treated_pre=res.treated_pre, treated_post=res.treated_post,
                comparison_pre=res.comparison_pre, comparison_post=res.comparison_post,
                treated_change=res.treated_change, comparison_change=res.comparison_change,
                did=res.did, ci_low=res.ci_low, ci_high=res.ci_high, p_value=res.p_value,
                tested=res.tested,
            )

    def level(rolle: str, term: str) -> Level:
        return Level(f"{rolle}_{term}", pl.col(f"__n_{rolle}_{term}"),
                     pl.col(f"__hidden_{rolle}_{term}"))

    values = [c for c, t in DID_SCHEMA.items() if t in (pl.Float64, pl.Int64)]
    out = suppress_derived(pl.DataFrame([row]), {"did": (values, [
        (level(rolle, pre_term), level(rolle, post_term))
        for rolle in ("deltaker", "sammenligning")])}, min_n=threshold)
    return out.with_columns(
        pl.col("did_suppressed").alias("suppressed"),
        pl.col("did_suppression_reason").alias("suppression_reason"),
        pl.when(pl.col("did_suppressed")).then(False).otherwise(pl.col("tested"))
        .alias("tested"),
    ).select(**{c: pl.col(c).cast(t) for c, t in DID_SCHEMA.items()})


def event_study(
    *, indicator: str = "mobbet", role: RoleArg = "program", warehouse: WarehouseArg = None,
    anticipation: int = 0, min_n: int | None = None,
) -> EventStudyView:
    """Callaway-Sant'Anna event study of the programme (all participants, not-yet-treated and
    comparison schools as controls). Programme-level aggregates: the same for every role (a
    kommune role sees the programme effect, not a per-kommune estimate). Each event-time
    estimate carries the respondents behind it and goes through the suppression engine.

    Read from the estimates stored at publish time (:mod:`lmp_analytics.evaluation.
    event_study`); fitted here only for a reader stricter than the warehouse, another
    ``anticipation`` or a warehouse written before the estimates were stored."""
    as_role(role)  # validates the role; the estimate does not depend on it
    with reading(warehouse) as con:
        if not has_table(con, "mart_indicator_counts"):
            return EventStudyView(indicator, empty(ES_SCHEMA), empty(SUMMARY_SCHEMA), None,
                                  None, (), 0, 0)
        threshold = read_min_n(con, min_n)
        if anticipation == 0:
            stored = stored_event_study(con, indicator, min_n=threshold)
            if stored is not None:
                return stored
        return event_study_view(con, indicator, min_n=threshold, anticipation=anticipation)
