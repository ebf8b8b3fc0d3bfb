"""Data quality: response rates, quarantined rows by reason, item non-response and the
instrument versions and modules of each round, suppressed and scoped to the role."""

from __future__ import annotations

import polars as pl

from lmp_analytics import api
from lmp_analytics.frames import each_row
from lmp_analytics.ingest.reasons import code_from_text
from lmp_analytics.metrics import nonresponse, participation
from lmp_analytics.metrics.participation import LOW_RESPONSE_RATE
from lmp_analytics.privacy.scope import Surface, scope
from lmp_analytics.privacy.suppression import PRIMARY, REASON, SUPPRESSED, Linkage, suppress
from lmp_analytics.readmodels._common import RoleArg, WarehouseArg, empty, has_table
from lmp_analytics.readmodels.catalogue import rounds_with_primary
from lmp_analytics.terms import term_order
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.meta import read_min_n
from lmp_analytics.warehouse.queries import named

__all__ = [
    "INSTRUMENT_SCHEMA",
    "LOW_RESPONSE_RATE",
    "NONRESPONSE_SCHEMA",
    "QUARANTINE_SCHEMA",
    "RATE_SCHEMA",
    "hidden_rounds",
    "instrument_overview",
    "item_nonresponse",
    "quarantine_summary",
    "response_rates",
]

_item_modules = nonresponse.item_modules  # item code -> module, over every codebook version


RATE_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "skole": pl.String, "round_id": pl.String, "term": pl.String, "versjon": pl.String,
    "runde": pl.String, "formal": pl.String, "is_primary": pl.Boolean, "n": pl.Int64,
    "enrolled": pl.Int64, "response_rate": pl.Float64, "low_rate": pl.Boolean,
    "suppressed": pl.Boolean, "suppression_reason": pl.String, "n_display": pl.String,
}


def hidden_rounds(con, threshold: int) -> list[str]:
    """The rounds of which the publication the reader sees (at ``threshold``) hides a school
    cell, of any indicator: a count of the round's respondents must be hidden with it."""
    return api.hidden_school_cells(con, threshold)["round"].unique().sort().to_list()


def response_rates(
    *, role: RoleArg = "program", warehouse: WarehouseArg = None,
    surface: Surface = "dashboard", min_n: int | None = None
) -> pl.DataFrame:
    """Participation per school x round: respondents (``n``), enrolled pupils of the school year
    (``fct_enrolment``, trinn that took part in Spekter), ``response_rate`` and ``low_rate``
    (below :data:`LOW_RESPONSE_RATE`). A concrete-suspicion round surveys one class, so it gets no
    rate. Rounds with fewer than ``min_n`` respondents are suppressed, and so is every round of
    which the publication hides a school cell (any indicator, at the reader's threshold): its
    respondents would give the hidden cell's n away by subtraction from the kommune's."""
    with reading(warehouse) as con:
        threshold = read_min_n(con, min_n)
        frame = rounds_with_primary(con, items=False)
        enrolled = participation.enrolment(con)
        hidden = hidden_rounds(con, threshold)
    if frame.height == 0:
        return empty(RATE_SCHEMA)
    labels = [c for c in RATE_SCHEMA if c in frame.columns]
    out = participation.response_rates(frame.select(*labels, "respondents"), enrolled,
                                       keys=("level", "skole_orgnr", "round_id"),
                                       min_n=threshold, hidden_rounds=hidden)
    return scope(out.select(list(RATE_SCHEMA)), role, surface)


QUARANTINE_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "skole": pl.String, "reason_code": pl.String, "n": pl.Int64, "count": pl.Int64,
    "share": pl.Float64, "suppressed": pl.Boolean, "suppression_reason": pl.String,
    "n_display": pl.String,
}


def quarantine_summary(
    *, role: RoleArg = "program", warehouse: WarehouseArg = None,
    surface: Surface = "dashboard", min_n: int | None = None
) -> pl.DataFrame:
    """Quarantined rows by reason code (:mod:`lmp_analytics.ingest.reasons`) at school, kommune
    and programme level. Rows of warehouses written before codes were stored get the code derived
    from their English detail (else ``other``).

    ``n`` is the rows read from the unit's loaded files (the denominator), ``count`` the rows
    quarantined for the reason and ``share`` = count / n; every unit has a row for every reason
    (0 when none), so the sums school -> kommune -> programme hold and the engine can protect
    them like any other cell. Never shows a quarantined value (they may hold pupil pseudonyms).
    A file is attributed to a school when its loaded rows all belong to that school; other
    files count only in the programme total. A school of which the publication hides a cell
    (at the reader's threshold) has its rows hidden too. Then cut to the role's scope."""
    with reading(warehouse) as con:
        if not all(has_table(con, t) for t in ("quarantine", "fct_response", "ingest_log")):
            return empty(QUARANTINE_SCHEMA)
        threshold = read_min_n(con, min_n)
        hidden = api.hidden_school_cells(con, threshold)["skole_orgnr"].unique().sort().to_list()
        files = con.sql(named("read_models", "quarantine_files")).pl()
        has_code = con.sql(named("reads", "column_exists"),
                           params=["quarantine", "reason_code"]).fetchall()[0][0]
        rows = con.sql(named("reads", "quarantine_rows_by_code" if has_code
                             else "quarantine_rows_by_text")).pl()
    rows = _rows_by_code(rows.join(files.select("file_id"), on="file_id", how="semi"))
    if rows.height == 0 or files.height == 0:
        return empty(QUARANTINE_SCHEMA)
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
    # A school the publication hides a cell of keeps its rows read hidden too (they would stand
    # in for its respondents, e.g. pulje minus this school = a small school): marked as the
    # engine marks a small cell, and protected with the other cells below.
    pre = (lv == "skole") & pl.col("skole_orgnr").is_in(hidden)
    cells = cells.with_columns(pre.alias(SUPPRESSED), pl.when(pre).then(pl.lit(PRIMARY))
                               .otherwise(pl.lit(None, pl.String)).alias(REASON))
    linkages = [
        Linkage(("kommunenummer", "reason_code"), lv == "kommune", lv == "skole", "skole->kommune"),
        Linkage(("reason_code",), lv == "program", lv == "kommune", "kommune->program"),
    ]
    out = suppress(cells, keys=("level", "kommunenummer", "skole_orgnr", "reason_code"),
                   linkages=linkages, min_n=threshold, labels=("skole",))
    out = out.sort("level", "kommunenummer", "skole", "reason_code", nulls_last=True)
    return scope(out.select(list(QUARANTINE_SCHEMA)), role, surface)


def _rows_by_code(rows: pl.DataFrame) -> pl.DataFrame:
    """file_id, reason_code, count (distinct rows) from the quarantine read by code; a NULL code
    (an old row) is derived from the row's column and English detail."""
    derived = each_row(rows, ("column_name", "reason"),
                       lambda r: code_from_text(r["column_name"], r["reason"]))
    return (rows.with_columns(pl.coalesce(pl.col("reason_code"), derived).alias("reason_code"))
            .explode("rows")
            .group_by("file_id", "reason_code")
            .agg(pl.col("rows").n_unique().cast(pl.Int64).alias("count"))
            .sort("file_id", "reason_code"))


NONRESPONSE_SCHEMA = nonresponse.NONRESPONSE_SCHEMA


def item_nonresponse(
    *, role: RoleArg = "program", warehouse: WarehouseArg = None,
    surface: Surface = "dashboard", min_n: int | None = None
) -> pl.DataFrame:
    """Skipped items (asked, left empty) among the items every respondent of a round was asked.

    Rows: ``level='skole'``, ``item='alle'`` per school x round (``n`` respondents, ``asked`` =
    answers asked, ``skipped``, ``skipped_share``), and ``level='program'`` per term x item and
    term x 'alle' over the schools' primary rounds. Follow-up items asked after a filter answer
    are left out. Suppressed (``n`` < ``min_n``; the programme total of a term is linked to its
    schools' primary rounds), every school row of a round the publication hides a cell of
    hidden with it (:func:`~lmp_analytics.metrics.nonresponse.hide_rounds`), then cut to the
    role's scope. Read from the cells the marts store
    (:mod:`lmp_analytics.metrics.nonresponse`) when they were built with this threshold, else
    computed from the per round x item counts."""
    with reading(warehouse) as con:
        threshold = read_min_n(con, min_n)
        tables = nonresponse.tables(con)
        if not {"fct_answer", "dim_round"} <= tables:
            return empty(NONRESPONSE_SCHEMA)
        out = nonresponse.stored_cells(con, threshold)
        if out is None:
            inputs = nonresponse.read_inputs(con)
        hidden = hidden_rounds(con, threshold)
        rounds = rounds_with_primary(con, items=False)
    if out is None:
        out = nonresponse.nonresponse_cells(*inputs, min_n=threshold)
    if out.height == 0:
        return empty(NONRESPONSE_SCHEMA)
    primary = rounds.filter(pl.col("is_primary"))["round_id"].to_list() if rounds.height else []
    out = nonresponse.hide_rounds(out, hidden, primary=primary, min_n=threshold)
    out = out.sort("level", "kommunenummer", "skole", term_order(), "item", "round_id",
                   nulls_last=True)
    return scope(out.select(list(NONRESPONSE_SCHEMA)), role, surface)


INSTRUMENT_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "skole": pl.String, "round_id": pl.String, "term": pl.String, "versjon": pl.String,
    "formal": pl.String, "runde": pl.String, "is_primary": pl.Boolean, "modules": pl.String,
    "n_items": pl.Int64,
}


def instrument_overview(
    *, role: RoleArg = "program", warehouse: WarehouseArg = None, surface: Surface = "dashboard"
) -> pl.DataFrame:
    """Instrument version, purpose and the modules asked in each round of the schools in scope
    (no counts of pupils)."""
    with reading(warehouse) as con:
        frame = rounds_with_primary(con)
    if frame.height == 0:
        return empty(INSTRUMENT_SCHEMA)
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
    return scope(out.select(list(INSTRUMENT_SCHEMA)), role, surface)

