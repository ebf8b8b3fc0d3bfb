"""Read-only, role-scoped and suppressed views for the dashboards (and any other viewer).

Everything here reads the published warehouse through short-lived read-only connections
(:func:`lmp_analytics.warehouse.reading`), computes aggregates, sends every new count through
the one suppression engine (:func:`lmp_analytics.privacy.suppression.suppress`) and cuts the
result to the role with :func:`lmp_analytics.api.scope`. Indicator numbers themselves come from
:mod:`lmp_analytics.api`; this module adds what the API does not publish: response rates,
quarantine counts, item non-response, instrument versions and modules, the participants vs
comparison difference-in-differences, the programme event study, the national benchmark and the
"which schools need attention" ranking. No Streamlit here.

Every function takes ``role`` (a role string or :class:`~lmp_analytics.privacy.roles.Role`) and
``warehouse`` (a path, else ``LMP_WAREHOUSE``, else the default) and returns polars frames
(or a small dataclass of frames) whose rows the role may see. Hidden cells keep their keys,
have every number empty and ``suppressed`` true.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import duckdb
import polars as pl

from lmp_analytics import api
from lmp_analytics.codebook import load_codebooks
from lmp_analytics.ingest.reasons import code_from_text
from lmp_analytics.metrics import nonresponse, participation
from lmp_analytics.metrics.participation import LOW_RESPONSE_RATE
from lmp_analytics.national.schema import totals_only
from lmp_analytics.privacy.roles import Role
from lmp_analytics.privacy.suppression import Linkage, suppress
from lmp_analytics.terms import term_index, term_order
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.meta import read_min_n
from lmp_analytics.warehouse.queries import named

WarehouseArg = api.WarehouseArg  # a path, None (the default warehouse) or an open connection
RoleArg = str | Role | None

__all__ = [
    "LOW_RESPONSE_RATE",
    "EventStudyView",
    "IndicatorInfo",
    "attention",
    "comparison_series",
    "demo_roles",
    "did_summary",
    "eu_benchmark",
    "event_study",
    "indicator_catalogue",
    "instrument_overview",
    "item_nonresponse",
    "kommuner",
    "national_series",
    "phase_calendar",
    "quarantine_summary",
    "response_rates",
    "rounds",
    "schools",
    "terms",
    "value_columns",
]


# --------------------------------------------------------------------------------------------
# Helpers


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", params=[name]
    ).fetchall()[0][0])


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


@dataclass(frozen=True)
class IndicatorInfo:
    """What a viewer needs to label and read an indicator."""

    id: str
    kind: str                 # share | scale
    label_nb: str
    label_en: str
    higher_is_better: bool
    headline: bool
    label_nn: str = ""

    def label(self, lang: str = "nb") -> str:
        """The indicator's name in ``lang`` (nb, nn or en; nynorsk falls back to bokmål)."""
        if lang == "nn":
            return self.label_nn or self.label_nb
        return self.label_en if lang == "en" else self.label_nb


@cache
def indicator_catalogue() -> dict[str, IndicatorInfo]:
    """Every indicator of the codebooks (newest version's wording wins), headline first."""
    out: dict[str, IndicatorInfo] = {}
    for version in sorted(load_codebooks()):
        for ind in load_codebooks()[version].indicators.values():
            out[ind.id] = IndicatorInfo(ind.id, ind.kind, ind.label_nb, ind.label_en,
                                        ind.higher_is_better, ind.headline, ind.label_nn)
    order = sorted(out, key=lambda k: (not out[k].headline, list(out).index(k)))
    return {k: out[k] for k in order}


def value_columns(kind: str) -> tuple[str, str, str]:
    """(value, ci_low, ci_high) columns of :func:`lmp_analytics.api.indicators` for a kind."""
    return ("share", "ci_low", "ci_high") if kind == "share" else (
        "mean", "mean_ci_low", "mean_ci_high")


_item_modules = nonresponse.item_modules  # item code -> module, over every codebook version


# --------------------------------------------------------------------------------------------
# Units, terms, rounds


SCHOOL_SCHEMA = {
    "level": pl.String, "skole_orgnr": pl.String, "skole": pl.String,
    "kommunenummer": pl.String, "kommune": pl.String, "rolle": pl.String,
    "pulje": pl.Int64, "oppstart": pl.String,
}


def schools(*, role: RoleArg = "program", warehouse: WarehouseArg = None) -> pl.DataFrame:
    """The schools the role may see (roster order: kommune, school name)."""
    with reading(warehouse) as con:
        if not _has_table(con, "dim_school"):
            return _empty(SCHOOL_SCHEMA)
        frame = con.sql(
            "SELECT 'skole' AS level, skole_orgnr, skole, kommunenummer, kommune, rolle, "
            "CAST(pulje AS BIGINT) AS pulje, oppstart FROM dim_school "
            "ORDER BY kommunenummer, skole"
        ).pl()
    return api.scope(frame, role)


def kommuner(*, role: RoleArg = "program", warehouse: WarehouseArg = None) -> pl.DataFrame:
    """kommunenummer, kommune of the municipalities whose own figures the role may see (a
    veileder sees none: its scope is schools)."""
    r = api.as_role(role)
    with reading(warehouse) as con:
        if not _has_table(con, "dim_school"):
            return _empty({"kommunenummer": pl.String, "kommune": pl.String})
        frame = con.sql(
            "SELECT DISTINCT kommunenummer, kommune FROM dim_school ORDER BY kommunenummer"
        ).pl()
    return frame.filter(pl.col("kommunenummer").map_elements(
        r.includes_kommune, return_dtype=pl.Boolean))


def terms(*, warehouse: WarehouseArg = None) -> list[str]:
    """Every term with at least one round, in time order."""
    with reading(warehouse) as con:
        if not _has_table(con, "dim_round"):
            return []
        found = [row[0] for row in con.sql("SELECT DISTINCT term FROM dim_round").fetchall()]
    return sorted(found, key=term_index)


def data_as_of(*, warehouse: WarehouseArg = None) -> str | None:
    """The day (ISO) of the warehouse's last finished ingest run, or None before any."""
    with reading(warehouse) as con:
        if not _has_table(con, "ingest_run"):
            return None
        last = con.sql("SELECT max(finished_at) FROM ingest_run").fetchall()[0][0]
    return last.date().isoformat() if last else None


ROUND_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "skole": pl.String, "rolle": pl.String, "round_id": pl.String, "term": pl.String,
    "versjon": pl.String, "runde": pl.String, "formal": pl.String, "first_date": pl.Date,
    "is_primary": pl.Boolean, "items": pl.List(pl.String),
}


def _rounds(con: duckdb.DuckDBPyConnection, *, items: bool = True) -> pl.DataFrame:
    """Rounds with school labels and respondents; ``items=False`` leaves out the item lists
    (the widest column) for callers that do not need them."""
    if not _has_table(con, "dim_round"):
        return _empty(ROUND_SCHEMA if items else
                      {k: v for k, v in ROUND_SCHEMA.items() if k != "items"})
    marts = _has_table(con, "mart_school_round")
    primary = "coalesce(m.is_primary, false)" if marts else "true"
    join = "LEFT JOIN mart_school_round AS m USING (round_id)" if marts else ""
    return con.sql(
        f"""SELECT 'skole' AS level, s.kommunenummer, r.skole_orgnr, s.skole, s.rolle,
                   r.round_id, r.term, r.versjon, r.runde, r.formal, r.first_date,
                   {primary} AS is_primary, {"r.items," if items else ""} r.respondents
            FROM dim_round AS r JOIN dim_school AS s USING (skole_orgnr) {join}
            ORDER BY s.kommunenummer, s.skole, r.first_date"""
    ).pl()


def rounds(*, role: RoleArg = "program", warehouse: WarehouseArg = None) -> pl.DataFrame:
    """Rounds (school x term x version x runde) of the schools in scope, without counts."""
    with reading(warehouse) as con:
        frame = _rounds(con)
    return api.scope(frame.select(list(ROUND_SCHEMA)), role)


def phase_calendar(*, role: RoleArg = "program", warehouse: WarehouseArg = None) -> pl.DataFrame:
    """skole_orgnr, skole, kommunenummer, pulje, fase, termin, kilde for schools in scope."""
    with reading(warehouse) as con:
        if not _has_table(con, "dim_phase"):
            return _empty({"level": pl.String, "skole_orgnr": pl.String, "skole": pl.String,
                           "kommunenummer": pl.String, "pulje": pl.Int64, "fase": pl.Int64,
                           "termin": pl.String, "kilde": pl.String})
        frame = con.sql(
            """SELECT 'skole' AS level, p.skole_orgnr, s.skole, s.kommunenummer,
                      CAST(s.pulje AS BIGINT) AS pulje, CAST(p.fase AS BIGINT) AS fase,
                      p.termin, p.kilde
               FROM dim_phase AS p JOIN dim_school AS s USING (skole_orgnr)
               ORDER BY s.kommunenummer, s.skole, p.fase"""
        ).pl()
    return api.scope(frame, role)


# --------------------------------------------------------------------------------------------
# Data quality


RATE_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "skole": pl.String, "round_id": pl.String, "term": pl.String, "versjon": pl.String,
    "runde": pl.String, "formal": pl.String, "is_primary": pl.Boolean, "n": pl.Int64,
    "enrolled": pl.Int64, "response_rate": pl.Float64, "low_rate": pl.Boolean,
    "suppressed": pl.Boolean, "suppression_reason": pl.String, "n_display": pl.String,
}


def response_rates(
    *, role: RoleArg = "program", warehouse: WarehouseArg = None, min_n: int | None = None
) -> pl.DataFrame:
    """Participation per school x round: respondents (``n``), enrolled pupils of the school year
    (``fct_enrolment``, trinn that took part in Spekter), ``response_rate`` and ``low_rate``
    (below :data:`LOW_RESPONSE_RATE`). A concrete-suspicion round surveys one class, so it gets no
    rate. Rounds with fewer than ``min_n`` respondents are suppressed."""
    with reading(warehouse) as con:
        threshold = read_min_n(con, min_n)
        frame = _rounds(con, items=False)
        enrolled = participation.enrolment(con)
    if frame.height == 0:
        return _empty(RATE_SCHEMA)
    labels = [c for c in RATE_SCHEMA if c in frame.columns]
    out = participation.response_rates(frame.select(*labels, "respondents"), enrolled,
                                       keys=("level", "skole_orgnr", "round_id"),
                                       min_n=threshold)
    return api.scope(out.select(list(RATE_SCHEMA)), role)


QUARANTINE_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "skole": pl.String, "reason_code": pl.String, "n": pl.Int64, "count": pl.Int64,
    "share": pl.Float64, "suppressed": pl.Boolean, "suppression_reason": pl.String,
    "n_display": pl.String,
}


def quarantine_summary(
    *, role: RoleArg = "program", warehouse: WarehouseArg = None, min_n: int | None = None
) -> pl.DataFrame:
    """Quarantined rows by reason code (:mod:`lmp_analytics.ingest.reasons`) at school, kommune
    and programme level. Rows of warehouses written before codes were stored get the code derived
    from their English detail (else ``other``).

    ``n`` is the rows read from the unit's loaded files (the denominator), ``count`` the rows
    quarantined for the reason and ``share`` = count / n; every unit has a row for every reason
    (0 when none), so the sums school -> kommune -> programme hold and the engine can protect
    them like any other cell. Never shows a quarantined value (they may hold pupil pseudonyms).
    A file is attributed to a school when its loaded rows all belong to that school; other
    files count only in the programme total. Then cut to the role's scope."""
    with reading(warehouse) as con:
        if not all(_has_table(con, t) for t in ("quarantine", "fct_response", "ingest_log")):
            return _empty(QUARANTINE_SCHEMA)
        threshold = read_min_n(con, min_n)
        files = con.sql(
            """WITH owner AS (
                   SELECT file_id, min(skole_orgnr) AS skole_orgnr
                   FROM (SELECT DISTINCT file_id, skole_orgnr FROM fct_response)
                   GROUP BY file_id HAVING count(*) = 1
               )
               SELECT l.file_id, l.rows_read, o.skole_orgnr, s.kommunenummer, s.skole
               FROM ingest_log AS l
               LEFT JOIN owner AS o USING (file_id)
               LEFT JOIN dim_school AS s USING (skole_orgnr)
               WHERE l.status = 'loaded'"""
        ).pl()
        has_code = con.sql(named("reads", "column_exists"),
                           params=["quarantine", "reason_code"]).fetchall()[0][0]
        rows = con.sql(named("reads", "quarantine_rows_by_code" if has_code
                             else "quarantine_rows_by_text")).pl()
    rows = _rows_by_code(rows.join(files.select("file_id"), on="file_id", how="semi"))
    if rows.height == 0 or files.height == 0:
        return _empty(QUARANTINE_SCHEMA)
    reasons = rows.select(pl.col("reason_code").unique().sort())
    counts = rows.join(files, on="file_id", how="left")
    units = {
        "skole": ["kommunenummer", "skole_orgnr", "skole"],
        "kommune": ["kommunenummer"],
        "program": [],
    }
    frames = []
    for level, keys in units.items():
        base = files if level == "program" else files.filter(pl.col("skole_orgnr").is_not_null())
        src = counts if level == "program" else counts.filter(
            pl.col("skole_orgnr").is_not_null())
        if keys:
            denom = base.group_by(keys).agg(pl.col("rows_read").sum().alias("n"))
            num = src.group_by([*keys, "reason_code"]).agg(pl.col("count").sum())
            grid = denom.join(reasons, how="cross")
            cells = grid.join(num, on=[*keys, "reason_code"], how="left", nulls_equal=True)
        else:
            denom = base.select(pl.col("rows_read").sum().alias("n"))
            num = src.group_by("reason_code").agg(pl.col("count").sum())
            cells = denom.join(reasons, how="cross").join(num, on="reason_code", how="left")
        cells = cells.with_columns(pl.lit(level).alias("level"))
        for col in ("kommunenummer", "skole_orgnr", "skole"):
            if col not in cells.columns:
                cells = cells.with_columns(pl.lit(None, dtype=pl.String).alias(col))
        frames.append(cells.select("level", "kommunenummer", "skole_orgnr", "skole", "reason_code",
                                   pl.col("n").cast(pl.Int64),
                                   pl.col("count").fill_null(0).cast(pl.Int64)))
    cells = pl.concat(frames).with_columns((pl.col("count") / pl.col("n")).alias("share"))
    lv = pl.col("level")
    linkages = [
        Linkage(("kommunenummer", "reason_code"), lv == "kommune", lv == "skole", "skole->kommune"),
        Linkage(("reason_code",), lv == "program", lv == "kommune", "kommune->program"),
    ]
    out = suppress(cells, keys=("level", "kommunenummer", "skole_orgnr", "reason_code"),
                   linkages=linkages, min_n=threshold, labels=("skole",))
    out = out.sort("level", "kommunenummer", "skole", "reason_code", nulls_last=True)
    return api.scope(out.select(list(QUARANTINE_SCHEMA)), role)


def _rows_by_code(rows: pl.DataFrame) -> pl.DataFrame:
    """file_id, reason_code, count (distinct rows) from the quarantine read by code; a NULL code
    (an old row) is derived from the row's column and English detail."""
    derived = pl.struct("column_name", "reason").map_elements(
        lambda r: code_from_text(r["column_name"], r["reason"]), return_dtype=pl.String)
    return (rows.with_columns(pl.coalesce(pl.col("reason_code"), derived).alias("reason_code"))
            .explode("rows")
            .group_by("file_id", "reason_code")
            .agg(pl.col("rows").n_unique().cast(pl.Int64).alias("count"))
            .sort("file_id", "reason_code"))


NONRESPONSE_SCHEMA = nonresponse.NONRESPONSE_SCHEMA


def item_nonresponse(
    *, role: RoleArg = "program", warehouse: WarehouseArg = None, min_n: int | None = None
) -> pl.DataFrame:
    """Skipped items (asked, left empty) among the items every respondent of a round was asked.

    Rows: ``level='skole'``, ``item='alle'`` per school x round (``n`` respondents, ``asked`` =
    answers asked, ``skipped``, ``skipped_share``), and ``level='program'`` per term x item and
    term x 'alle' over the schools' primary rounds. Follow-up items asked after a filter answer
    are left out. Suppressed (``n`` < ``min_n``; the programme total of a term is linked to its
    schools' primary rounds), then cut to the role's scope. Read from the cells the marts store
    (:mod:`lmp_analytics.metrics.nonresponse`) when they were built with this threshold, else
    computed from the per round x item counts."""
    with reading(warehouse) as con:
        threshold = read_min_n(con, min_n)
        tables = nonresponse.tables(con)
        if not {"fct_answer", "dim_round"} <= tables:
            return _empty(NONRESPONSE_SCHEMA)
        out = nonresponse.stored_cells(con, threshold, tables)
        if out is None:
            inputs = nonresponse.read_inputs(con, tables)
    if out is None:
        out = nonresponse.nonresponse_cells(*inputs, min_n=threshold)
    if out.height == 0:
        return _empty(NONRESPONSE_SCHEMA)
    out = out.sort("level", "kommunenummer", "skole", term_order(), "item", "round_id",
                   nulls_last=True)
    return api.scope(out.select(list(NONRESPONSE_SCHEMA)), role)


INSTRUMENT_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "skole": pl.String, "round_id": pl.String, "term": pl.String, "versjon": pl.String,
    "formal": pl.String, "runde": pl.String, "is_primary": pl.Boolean, "modules": pl.String,
    "n_items": pl.Int64,
}


def instrument_overview(
    *, role: RoleArg = "program", warehouse: WarehouseArg = None
) -> pl.DataFrame:
    """Instrument version, purpose and the modules asked in each round of the schools in scope
    (no counts of pupils)."""
    with reading(warehouse) as con:
        frame = _rounds(con)
    if frame.height == 0:
        return _empty(INSTRUMENT_SCHEMA)
    modules = _item_modules()
    # Rounds share a handful of item lists: name the modules of each distinct list once.
    lists = frame.select("items").unique()
    lists = lists.with_columns(pl.Series(
        "modules", [", ".join(sorted({modules.get(i, "?") for i in (items or [])}))
                    for items in lists["items"].to_list()], dtype=pl.String))
    out = frame.join(lists, on="items", how="left", maintain_order="left",
                     nulls_equal=True).with_columns(
        pl.col("items").list.len().cast(pl.Int64).alias("n_items"),
    )
    return api.scope(out.select(list(INSTRUMENT_SCHEMA)), role)


# --------------------------------------------------------------------------------------------
# Comparisons


SERIES_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "series": pl.String, "term": pl.String,
    "indicator": pl.String, "kind": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "n": pl.Int64, "n_schools": pl.Int64, "suppressed": pl.Boolean,
    "n_display": pl.String,
}


def comparison_series(
    *, indicator: str = "mobbet", role: RoleArg = "program", warehouse: WarehouseArg = None
) -> pl.DataFrame:
    """Participants (``series='deltaker'``) vs comparison schools (``'sammenligning'``) by term,
    from the published programme cells, plus the same at kommune level for the municipalities
    in scope (``level='kommune'``). ``value`` is the share (0-1) or the scale mean."""
    info = indicator_catalogue().get(indicator)
    kind = info.kind if info else "share"
    value, low, high = value_columns(kind)
    frames = []
    for level in ("program", "kommune"):
        cells = api.indicators(level, indicator=indicator, role=role, warehouse=warehouse)
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
        return _empty(SERIES_SCHEMA)
    out = pl.concat(frames, how="vertical_relaxed")
    return out.sort(pl.col("term").map_elements(term_index, return_dtype=pl.Int64), "level",
                    "kommunenummer", "series", nulls_last=False)


NATIONAL_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "unit_name": pl.String, "term": pl.String, "school_year": pl.String, "trinn": pl.Int64,
    "indicator": pl.String, "value_type": pl.String, "value": pl.Float64,
    "n_answered": pl.Int64, "suppressed": pl.Boolean, "series_version": pl.String,
}


def _eu_results(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    if not _has_table(con, "fct_eu_result"):
        return pl.DataFrame()
    frame = totals_only(con.sql("SELECT * FROM fct_eu_result").pl())
    if frame.height == 0:
        return frame
    names = con.sql("SELECT skole_orgnr, kommunenummer AS school_kommune FROM dim_school").pl()
    frame = frame.join(names, left_on="unit_code", right_on="skole_orgnr", how="left")
    return frame.with_columns(
        pl.when(pl.col("level") == "nasjon").then(pl.lit("program"))
        .otherwise(pl.col("level")).alias("scope_level"),
        pl.when(pl.col("level") == "kommune").then(pl.col("unit_code"))
        .when(pl.col("level") == "skole").then(pl.col("school_kommune"))
        .alias("kommunenummer"),
        pl.when(pl.col("level") == "skole").then(pl.col("unit_code")).alias("skole_orgnr"),
    )


def _scope_eu(frame: pl.DataFrame, role: RoleArg) -> pl.DataFrame:
    """Nation rows for everyone; kommune and school rows within scope; fylke rows only for
    roles that see every unit. A school missing from the roster is outside any kommune role."""
    r = api.as_role(role)
    fylke = frame.filter(pl.col("level") == "fylke")
    rest = frame.filter(pl.col("level") != "fylke")
    scoped = api.scope(
        rest.rename({"level": "eu_level", "scope_level": "level"}), r
    ).rename({"level": "scope_level", "eu_level": "level"})
    if r.sees_all_units:
        return pl.concat([scoped, fylke], how="diagonal_relaxed")
    return scoped


def national_series(
    *, role: RoleArg = "program", warehouse: WarehouseArg = None, levels: Sequence[str] = (
        "nasjon", "kommune", "skole")
) -> pl.DataFrame:
    """Elevundersøkelsen results loaded into the warehouse (published aggregates, suppressed
    at source), by term: national rows for everyone, kommune and school rows in scope.
    ``value`` is in percent (``value_type='pct'``) or points 1-5."""
    with reading(warehouse) as con:
        frame = _eu_results(con)
    if frame.height == 0:
        return _empty(NATIONAL_SCHEMA)
    frame = _scope_eu(frame.filter(pl.col("level").is_in(list(levels))), role)
    return frame.select(
        "level", "kommunenummer", "skole_orgnr", "unit_name", "term", "school_year",
        pl.col("trinn").cast(pl.Int64), "indicator", "value_type",
        pl.col("value").cast(pl.Float64), pl.col("n_answered").cast(pl.Int64),
        pl.col("suppressed").cast(pl.Boolean), "series_version",
    ).sort(pl.col("term").map_elements(term_index, return_dtype=pl.Int64), "level",
           "unit_name", "trinn", nulls_last=False)


def eu_benchmark(
    pre_term: str, post_term: str, *, role: RoleArg = "program", warehouse: WarehouseArg = None,
    allow_break: bool = False,
) -> pl.DataFrame:
    """Each kommune and school in scope in Elevundersøkelsen: its change between two survey
    terms against the national change (:func:`lmp_analytics.national.benchmark_changes`)."""
    from lmp_analytics.national import BENCHMARK_COLUMNS, benchmark_changes

    with reading(warehouse) as con:
        frame = _eu_results(con)
    if frame.height == 0:
        return _empty({c: pl.String for c in ("level", "unit_code", "unit_name")})
    scoped = _scope_eu(frame, role)
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
    sammenligning in the two terms, so the row is hidden whenever one of those four cells is
    hidden in the publication this reader sees (:func:`lmp_analytics.api.published_cells`, at
    a stricter reader's threshold too). Shares only (scales: the DiD of means is not offered
    here)."""
    from lmp_analytics.evaluation.programme import participants_vs_comparison

    r = api.as_role(role)
    if kommunenummer is not None and not r.includes_kommune(kommunenummer):
        raise PermissionError(f"role {r} does not include kommune {kommunenummer}")
    level = "kommune" if kommunenummer else "program"
    row: dict = dict.fromkeys(DID_SCHEMA)
    row.update(level=level, kommunenummer=kommunenummer, indicator=indicator,
               pre_term=pre_term, post_term=post_term, tested=False, suppressed=True)
    with reading(warehouse) as con:
        cells = api.published_cells(con, level=level, indicators=[indicator])
        if cells.height == 0:
            row["suppression_reason"] = "no_data"
            return pl.DataFrame([row], schema=DID_SCHEMA)
        cells = cells.filter((pl.col("breakdown") == "alle")
                             & pl.col("term").is_in([pre_term, post_term]))
        if kommunenummer:
            cells = cells.filter(pl.col("kommunenummer") == kommunenummer)
        kinds = cells["kind"].unique().to_list()
        visible = cells.filter(~pl.col("suppressed").fill_null(True))
        complete = visible.select("rolle", "term").unique().height == 4
        if kinds != ["share"] or not complete:
            row["suppression_reason"] = ("not_share" if kinds and kinds != ["share"]
                                         else "cell_hidden_or_missing")
            return pl.DataFrame([row], schema=DID_SCHEMA)
        res = participants_vs_comparison(con, pre_term, post_term, indicator,
                                         kommunenummer=kommunenummer)
    row.update(
        treated_schools=res.treated_clusters, comparison_schools=res.comparison_clusters,
        treated_pre=res.treated_pre, treated_post=res.treated_post,
        comparison_pre=res.comparison_pre, comparison_post=res.comparison_post,
        treated_change=res.treated_change, comparison_change=res.comparison_change,
        did=res.did, ci_low=res.ci_low, ci_high=res.ci_high, p_value=res.p_value,
        tested=res.tested, suppressed=False,
    )
    return pl.DataFrame([row], schema=DID_SCHEMA)


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


ES_SCHEMA = {
    "indicator": pl.String, "e": pl.Int64, "att": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "n": pl.Int64, "n_schools": pl.Int64, "pre": pl.Boolean,
    "suppressed": pl.Boolean, "n_display": pl.String,
}
SUMMARY_SCHEMA = {"estimate": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
                  "ci_high": pl.Float64, "schools": pl.Int64}


def event_study(
    *, indicator: str = "mobbet", role: RoleArg = "program", warehouse: WarehouseArg = None,
    anticipation: int = 0, min_n: int | None = None,
) -> EventStudyView:
    """Callaway-Sant'Anna event study of the programme (all participants, not-yet-treated and
    comparison schools as controls). Programme-level aggregates: the same for every role (a
    kommune role sees the programme effect, not a per-kommune estimate). Each event-time
    estimate carries the respondents behind it and goes through the suppression engine."""
    from lmp_analytics.evaluation.programme import programme_effect, school_term_panel

    api.as_role(role)  # validates the role; the estimate does not depend on it
    empty = EventStudyView(indicator, _empty(ES_SCHEMA), _empty(SUMMARY_SCHEMA), None, None,
                           (), 0, 0)
    with reading(warehouse) as con:
        if not _has_table(con, "mart_indicator_counts"):
            return empty
        threshold = read_min_n(con, min_n)
        panel = school_term_panel(con, indicator)
        treated = panel.filter(pl.col("g").is_not_null())
        if panel.height == 0 or treated.height == 0 or panel["y"].null_count() == panel.height:
            return empty
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
    es = suppress(es, keys=("indicator", "e"), min_n=threshold, labels=("pre",))
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


# --------------------------------------------------------------------------------------------
# Which schools need attention


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
        return _attention(indicator, role, con, changes, cells)


def _attention(indicator: str, role: RoleArg, con: duckdb.DuckDBPyConnection,
               changes: pl.DataFrame | None, cells: pl.DataFrame | None) -> pl.DataFrame:
    info = indicator_catalogue().get(indicator)
    kind = info.kind if info else "share"
    bad_high = not (info.higher_is_better if info else False)
    value, low, high = value_columns(kind)
    if cells is None:
        cells = api.indicators("skole", indicator=indicator, role=role, warehouse=con)
    else:
        cells = api.scope(cells.filter(pl.col("indicator") == indicator), role)
    if cells.height == 0:
        return _empty(ATTENTION_SCHEMA)
    visible = cells.filter(~pl.col("suppressed").cast(pl.Boolean).fill_null(True)
                           & pl.col(value).is_not_null())
    if visible.height == 0:
        return _empty(ATTENTION_SCHEMA)
    latest = (visible.sort(term_order(), "round")
              .group_by("skole_orgnr", maintain_order=True).last())
    program = api.indicators("program", indicator=indicator, role=role, warehouse=con)
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
    if changes is None:
        changes = api.compare(indicator=indicator, phase="runde", role=role, warehouse=con)
    else:
        changes = api.scope(changes.filter(pl.col("indicator") == indicator), role)
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


# --------------------------------------------------------------------------------------------
# Roles offered in demo mode


def demo_roles(*, warehouse: WarehouseArg = None, extra: Sequence[str] = ()) -> list[str]:
    """Role strings for the demo role picker: program, one per kommune and one veileder per
    kommune (its first two participating schools), then ``extra`` (e.g. from users.toml)."""
    out = ["program"]
    try:
        frame = schools(role="program", warehouse=warehouse)
    except Exception:
        frame = _empty(SCHOOL_SCHEMA)
    groups = frame.partition_by("kommunenummer", maintain_order=True) if frame.height else []
    out += [f"kommune:{g['kommunenummer'][0]}" for g in groups]
    for g in groups:
        part = g.filter(pl.col("rolle") == "deltaker").sort("skole")["skole_orgnr"]
        if part.len():
            out.append("veileder:" + ",".join(sorted(part.head(2).to_list())))
    out += [r for r in extra if r not in out]
    return out
