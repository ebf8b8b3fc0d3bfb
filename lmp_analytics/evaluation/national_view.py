"""What the dashboards show of the national panel, computed once per warehouse file.

- :func:`programme_view`: the designs × grades and the event study of
  :func:`~lmp_analytics.evaluation.national_designs.national_evaluation`, **computed at publish
  time** (:func:`build_national_estimates`, tables ``mart_national_results`` and
  ``mart_national_event_study``) and read, or for an indicator not stored **cached per warehouse
  file identity** (resolved path, inode, size, modification time in ns): a page call reuses the
  fit; a re-published warehouse (an atomic rename gives a new inode and mtime) is fitted anew.
- :func:`kommune_view`: a municipality's **own** LMP schools, each by name with its published
  shares per survey year, against the eligible non-participants of the whole country as one
  anonymous group (their ``n_answered``-weighted mean and number of schools per year). Only
  published school cells are used (Udir's suppressed cells are missing); no school outside the
  municipality's own LMP schools is named or identifiable by number.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import duckdb
import polars as pl

from lmp_analytics.evaluation.national_designs import (
    SELECTION_RULE,
    NationalEvaluation,
    Note,
    eligible_schools,
    national_evaluation,
)
from lmp_analytics.evaluation.national_panel import lmp_treatment, pooled_panel, school_panel
from lmp_analytics.registry import successor_map
from lmp_analytics.warehouse import build, ddl, reading
from lmp_analytics.warehouse.queries import named

__all__ = ["KOMMUNE_COLUMNS", "STORED_INDICATORS", "build_national_estimates",
           "has_school_results", "kommune_view", "programme_view",
           "selection_years_for", "warehouse_identity"]

KOMMUNE_COLUMNS = ["group", "skole", "survey_year", "share", "schools"]
ELIGIBLE_GROUP = "eligible"
OWN_GROUP = "own_lmp"


def has_school_results(path: str | os.PathLike[str] | None = None) -> bool:
    """Whether school-level Elevundersøkelsen results are loaded (False for a warehouse written
    before the national tables existed): the views below need them."""
    with reading(path) as con:
        try:
            return bool(con.execute(named("national_panel", "has_school_results")
                                    ).fetchall()[0][0])
        except duckdb.CatalogException:
            return False


def warehouse_identity(path: str | os.PathLike[str]) -> tuple[str, int, int, int]:
    """(resolved path, inode, size, mtime_ns) of a warehouse file: the cache key."""
    resolved = Path(path).resolve()
    st = resolved.stat()
    return str(resolved), st.st_ino, st.st_size, st.st_mtime_ns


def selection_years_for(path: str | os.PathLike[str]) -> tuple[int, ...]:
    """The selection window the views use: the published rule's years
    (``SELECTION_RULE['years']``, the first puljer's) when the panel holds them, else the three
    survey years before the first LMP school's first treated year: the years a programme that
    started later selected its schools on. A warehouse without both falls back to the rule."""
    default = tuple(SELECTION_RULE["years"])
    years = set(school_panel(path)["survey_year"].unique().to_list())
    if set(default) <= years:
        return default
    first = lmp_treatment(path)["first_treated_year"].drop_nulls()
    if first.len() == 0:
        return default
    start = int(first.min())
    window = tuple(y for y in (start - 3, start - 2, start - 1) if y in years)
    return window or default


#: The indicators whose national designs are computed at publish time (the dashboards show
#: the bullying share; another indicator is fitted on its first call, once per file).
STORED_INDICATORS = ("mobbet",)
RESULTS_TABLE = "mart_national_results"
EVENTS_TABLE = "mart_national_event_study"


def _years_text(years: tuple[int, ...]) -> str:
    return ",".join(str(y) for y in years)


def _stored(con: duckdb.DuckDBPyConnection, indicator: str,
            years: tuple[int, ...]) -> NationalEvaluation | None:
    """The designs stored at publish time for ``indicator`` and selection ``years`` (None: the
    warehouse has none; an older version or another indicator)."""
    if not {RESULTS_TABLE, EVENTS_TABLE} <= build.tables(con):
        return None
    key = [indicator, _years_text(years)]
    results = con.sql(named("estimates", "national_result_rows"), params=key).pl()
    if results.height == 0 or "notes" not in results.columns:  # none, or an older table
        return None
    events = con.sql(named("estimates", "national_event_rows"), params=key).pl()
    drop = ["indicator", "selection_years", "row_order"]
    notes = {(d, t): _notes_from_json(n)
             for d, t, n in results.select("design", "trinn", "notes").rows() if n}
    return NationalEvaluation(results.drop([*drop, "notes"]), events.drop(drop), notes)


def _notes_json(notes: tuple[Note, ...]) -> str:
    """A result row's notes as stored (JSON: [[key, {name: value}], ...])."""
    return json.dumps([[n.key, dict(n.values)] for n in notes])


def _notes_from_json(text: str) -> tuple[Note, ...]:
    def tuples(value: object) -> object:  # JSON has lists where the notes had tuples
        return tuple(tuples(v) for v in value) if isinstance(value, list) else value

    return tuple(Note(key, tuple((k, tuples(v)) for k, v in values.items()))
                 for key, values in json.loads(text))


def build_national_estimates(con: duckdb.DuckDBPyConnection) -> bool:
    """Bring the stored national designs (``mart_national_results``,
    ``mart_national_event_study``) up to date inside the open write transaction: fitted for
    :data:`STORED_INDICATORS` when the Elevundersøkelsen files or the roster changed since the
    last build, dropped when no school-level results are loaded. Returns whether it fitted."""
    inputs = con.execute(named("estimates", "national_inputs_fingerprint")).fetchall()[0][0]
    target = "national_estimates"
    if build.inputs_of(con, target) == inputs and (
            {RESULTS_TABLE, EVENTS_TABLE} <= build.tables(con) or not has_school_results(con)):
        return False
    def nothing() -> bool:
        for table in (RESULTS_TABLE, EVENTS_TABLE):
            con.execute(named("estimates", "drop_table").format(table=table))
        build.record(con, target, None, inputs)
        return False

    if not has_school_results(con):
        return nothing()
    results, events = [], []
    try:
        years = selection_years_for(con)
        fits = {i: national_evaluation(con, i, selection_years=years) for i in STORED_INDICATORS}
    except Exception:  # e.g. no roster yet, too little data: a page call says why, as before
        return nothing()
    for indicator, fit in fits.items():
        tag = [pl.lit(indicator).alias("indicator"),
               pl.lit(_years_text(years)).alias("selection_years")]
        results.append(fit.results.with_row_index("row_order").with_columns(
            *tag, pl.Series("notes", [_notes_json(fit.notes.get((d, t), ()))
                                      for d, t in fit.results.select("design", "trinn").rows()],
                            dtype=pl.String)))
        events.append(fit.event_study.with_row_index("row_order").with_columns(tag))
    for table, frames in ((RESULTS_TABLE, results), (EVENTS_TABLE, events)):
        ddl.insert_frame(con, table, pl.concat(frames, how="diagonal_relaxed"), replace=True)
    build.record(con, target, None, inputs)
    return True


@lru_cache(maxsize=8)
def _programme_view(identity: tuple[str, int, int, int], indicator: str) -> NationalEvaluation:
    years = selection_years_for(identity[0])
    with reading(identity[0]) as con:
        stored = _stored(con, indicator, years)
    if stored is not None:
        return stored
    return national_evaluation(identity[0], indicator, selection_years=years)


def programme_view(path: str | os.PathLike[str], indicator: str = "mobbet"
                   ) -> NationalEvaluation:
    """Every design × grade and the event study for the warehouse at ``path``, selecting on
    :func:`selection_years_for`: read from the designs stored at publish time
    (:func:`build_national_estimates`), else fitted once per warehouse file (see the module
    docstring)."""
    return _programme_view(warehouse_identity(path), indicator)


def kommune_view(path: str | os.PathLike[str], kommunenummer: str, *, trinn: str = "pooled",
                 selection_years: tuple[int, ...] | None = None,
                 thresholds: dict[int, float] | None = None) -> pl.DataFrame:
    """:data:`KOMMUNE_COLUMNS`: one row per own LMP school and survey year (``group`` own_lmp,
    ``skole`` its name, ``share`` its published share, ``schools`` 1) and one per survey year for
    the eligible non-participants of the country (``group`` eligible, ``skole`` null, ``share``
    the ``n_answered``-weighted mean of their published cells, ``schools`` their number)."""
    thresholds = dict(SELECTION_RULE["thresholds"] if thresholds is None else thresholds)
    selection_years = selection_years or selection_years_for(path)
    kommune = successor_map().get(kommunenummer, kommunenummer)
    panel = school_panel(path)
    graded = pooled_panel(panel) if trinn == "pooled" else panel.filter(
        pl.col("trinn") == int(trinn))
    published = graded.filter(pl.col("share").is_not_null())
    treatment = lmp_treatment(path)
    with reading(path) as con:
        names = con.sql(named("national_panel", "lmp_school_names")).pl()
    own = treatment.filter(pl.col("kommunenummer") == kommune).join(
        names.select("skole_orgnr", "skole"), on="skole_orgnr", how="left")
    chosen = eligible_schools(panel, years=selection_years, thresholds=thresholds)
    controls = published.filter(pl.col("skole_orgnr").is_in(chosen.implode())
                                & ~pl.col("skole_orgnr").is_in(treatment["skole_orgnr"].implode()))
    group = controls.group_by("survey_year").agg(
        ((pl.col("share") * pl.col("n_answered")).sum() / pl.col("n_answered").sum())
        .alias("share"),
        pl.col("skole_orgnr").n_unique().cast(pl.Int64).alias("schools"),
    ).select(pl.lit(ELIGIBLE_GROUP).alias("group"), pl.lit(None, pl.Utf8).alias("skole"),
             "survey_year", "share", "schools")
    mine = published.join(own.select("skole_orgnr", "skole"), on="skole_orgnr").select(
        pl.lit(OWN_GROUP).alias("group"), "skole", "survey_year", "share",
        pl.lit(1, pl.Int64).alias("schools"))
    return pl.concat([mine, group]).sort("group", "skole", "survey_year", nulls_last=True)
