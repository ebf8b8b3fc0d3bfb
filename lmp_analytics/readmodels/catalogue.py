"""The catalogue: indicators (labels, kinds), schools, municipalities, terms, rounds (with
whether each is its school's primary round) and the phase calendar, scoped to the role."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb
import polars as pl

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.frames import each_value
from lmp_analytics.privacy.scope import Surface, as_role, scope
from lmp_analytics.readmodels._common import RoleArg, WarehouseArg, empty, has_table
from lmp_analytics.terms import term_index
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.queries import named

__all__ = [
    "ROUND_SCHEMA",
    "SCHOOL_SCHEMA",
    "IndicatorInfo",
    "data_as_of",
    "indicator_catalogue",
    "kommuner",
    "phase_calendar",
    "rounds",
    "rounds_with_primary",
    "schools",
    "terms",
    "value_columns",
]


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


SCHOOL_SCHEMA = {
    "level": pl.String, "skole_orgnr": pl.String, "skole": pl.String,
    "kommunenummer": pl.String, "kommune": pl.String, "rolle": pl.String,
    "pulje": pl.Int64, "oppstart": pl.String,
}


def schools(*, role: RoleArg = "program", warehouse: WarehouseArg = None,
    surface: Surface = "dashboard") -> pl.DataFrame:
    """The schools the role may see (roster order: kommune, school name)."""
    with reading(warehouse) as con:
        if not has_table(con, "dim_school"):
            return empty(SCHOOL_SCHEMA)
        frame = con.sql(named("read_models", "schools")).pl()
    return scope(frame, role, surface)


def kommuner(*, role: RoleArg = "program", warehouse: WarehouseArg = None) -> pl.DataFrame:
    """kommunenummer, kommune of the municipalities whose own figures the role may see (a
    veileder sees none: its scope is schools)."""
    r = as_role(role)
    with reading(warehouse) as con:
        if not has_table(con, "dim_school"):
            return empty({"kommunenummer": pl.String, "kommune": pl.String})
        frame = con.sql(named("read_models", "kommuner")).pl()
    return frame.filter(each_value(frame, "kommunenummer", r.includes_kommune, pl.Boolean))


def terms(*, warehouse: WarehouseArg = None) -> list[str]:
    """Every term with at least one round, in time order."""
    with reading(warehouse) as con:
        if not has_table(con, "dim_round"):
            return []
        found = [row[0] for row in con.sql(named("read_models", "terms")).fetchall()]
    return sorted(found, key=term_index)


def data_as_of(*, warehouse: WarehouseArg = None) -> str | None:
    """The day (ISO) of the warehouse's last finished ingest run, or None before any."""
    with reading(warehouse) as con:
        if not has_table(con, "ingest_run"):
            return None
        last = con.sql("SELECT max(finished_at) FROM ingest_run").fetchall()[0][0]
    return last.date().isoformat() if last else None


ROUND_SCHEMA = {
    "level": pl.String, "kommunenummer": pl.String, "skole_orgnr": pl.String,
    "skole": pl.String, "rolle": pl.String, "round_id": pl.String, "term": pl.String,
    "versjon": pl.String, "runde": pl.String, "formal": pl.String, "first_date": pl.Date,
    "is_primary": pl.Boolean, "items": pl.List(pl.String),
}


def rounds_with_primary(con: duckdb.DuckDBPyConnection, *, items: bool = True) -> pl.DataFrame:
    """Every round with its school labels, respondents and ``is_primary`` (the school's primary
    round of its term, which the marts count; every round before marts are built): the one
    home of "rounds with is_primary" (``read_models.sql``). ``items=False`` leaves out the
    item lists (the widest column) for callers that do not need them. Not scoped."""
    if not has_table(con, "dim_round"):
        return empty(ROUND_SCHEMA if items else
                     {k: v for k, v in ROUND_SCHEMA.items() if k != "items"})
    query = "rounds_with_primary" if has_table(con, "mart_school_round") else \
        "rounds_before_marts"
    rel = con.sql(named("read_models", query))
    return (rel if items else rel.project("* EXCLUDE (items)")).pl()


def rounds(*, role: RoleArg = "program", warehouse: WarehouseArg = None,
    surface: Surface = "dashboard") -> pl.DataFrame:
    """Rounds (school x term x version x runde) of the schools in scope, without counts."""
    with reading(warehouse) as con:
        frame = rounds_with_primary(con)
    return scope(frame.select(list(ROUND_SCHEMA)), role, surface)


def phase_calendar(*, role: RoleArg = "program", warehouse: WarehouseArg = None,
    surface: Surface = "dashboard") -> pl.DataFrame:
    """skole_orgnr, skole, kommunenummer, pulje, fase, termin, kilde for schools in scope."""
    with reading(warehouse) as con:
        if not has_table(con, "dim_phase"):
            return empty({"level": pl.String, "skole_orgnr": pl.String, "skole": pl.String,
                           "kommunenummer": pl.String, "pulje": pl.Int64, "fase": pl.Int64,
                           "termin": pl.String, "kilde": pl.String})
        frame = con.sql(named("read_models", "phase_calendar")).pl()
    return scope(frame, role, surface)

