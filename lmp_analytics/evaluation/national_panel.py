"""The national school panel: every school's Elevundersøkelsen result per survey year and grade.

Built from the school-level rows loaded with ``lmp ingest-national`` (``fct_eu_result``,
level ``skole``, the totals of all pupils and all owner types). One row per school × survey
year × grade (``trinn``) with

- ``share``: the published share (a fraction, 0.082 for 8.2 %), **null** where Udir suppressed
  the cell or nothing was published: missing cells are never imputed. For a 1–5 index of the
  survey (``trivsel``, ``stotte_larer``… where loaded: :data:`INDICATORS`) the column holds the
  published school mean score (1–5) instead; it keeps its name so that every design reads one
  column, and every estimate on it is in scale points;
- ``n_answered``: ``AntallBesvart``, the weight of every mean over schools;
- ``series_version`` and ``segment``: the segment a comparison may stay inside. Each confirmed
  series break (``lmp_analytics/reference/series_breaks.csv``: 2013, 2016) starts a new segment;
  ``bridge_breaks=True`` puts every year in one segment ``"bridged"`` (the caller's explicit
  choice, flagged in every result built on it).

School results are keyed by organisation number, which does not change when a municipality is
renumbered; the roster's municipality numbers are mapped to their current successor with
:func:`lmp_analytics.registry.successor_map`. A school that closed or merged simply has no
rows after its last survey (the panel is unbalanced; nothing is carried forward).

Treatment (:func:`lmp_treatment`): an LMP school's first treated survey year is the first
national survey whose term is not before the term of its phase 1 (the autumn survey runs in
November, after phase 1 began with the staff day at the start of the term; see the README's
methods section).
"""

from __future__ import annotations

import os

import duckdb
import polars as pl

from lmp_analytics.errors import LmpError
from lmp_analytics.frames import each_value
from lmp_analytics.national import indicator_catalogue
from lmp_analytics.national.series import survey_term
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.registry import successor_map
from lmp_analytics.terms import parse_term, term_index
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.queries import named

__all__ = [
    "GRADES",
    "INDICATORS",
    "PANEL_COLUMNS",
    "apply_school_changes",
    "first_treated_survey_year",
    "indicator_code",
    "is_index",
    "lmp_treatment",
    "panel_means",
    "pooled_panel",
    "school_panel",
]

def _indicators() -> dict[str, str]:
    catalogue = indicator_catalogue()
    indices = catalogue.filter(pl.col("value_type") == "score_1_5")["indicator_code"]
    return {"mobbet": "EU_MOBBING"} | {
        code.removeprefix("EU_").lower(): code for code in indices.to_list()}


#: CLI indicator name -> indicator_code of the statistics bank catalogue (eu_indicators.csv):
#: ``mobbet`` (the bullying share) and the survey's 1–5 indices (``trivsel`` = EU_TRIVSEL,
#: ``stotte_larer`` = EU_STOTTE_LARER, …), usable wherever their school results are loaded.
INDICATORS = _indicators()
#: Grades with public school results (the mandatory grades of the primary school).
GRADES = (7, 10)
BRIDGED = "bridged"
PANEL_COLUMNS = ["skole_orgnr", "survey_year", "trinn", "share", "n_answered", "suppressed",
                 "series_version", "segment"]

Warehouse = str | os.PathLike[str] | duckdb.DuckDBPyConnection | None


def indicator_code(indicator: str) -> str:
    """The catalogue code of a panel indicator name (``mobbet`` -> ``EU_MOBBING``)."""
    if indicator not in INDICATORS:
        raise refusal(LmpError, "national_unknown_indicator", indicator=indicator,
                      indicators=", ".join(INDICATORS))
    return INDICATORS[indicator]


def is_index(indicator: str) -> bool:
    """Whether ``indicator`` is a 1–5 index (mean score) rather than a share in percent."""
    code = indicator_code(indicator)
    catalogue = indicator_catalogue()
    return catalogue.filter(pl.col("indicator_code") == code)["value_type"].item() == "score_1_5"


def school_panel(warehouse: Warehouse = None, indicator: str = "mobbet", *,
                 bridge_breaks: bool = False) -> pl.DataFrame:
    """School × survey year × grade panel (:data:`PANEL_COLUMNS`) of grades 7 and 10.

    ``share`` is null where the cell is suppressed or has no value (never imputed). Raises
    :class:`~lmp_analytics.errors.LmpError` when the warehouse holds no school-level results
    of ``indicator``.
    """
    code = indicator_code(indicator)
    scale = 1.0 if is_index(indicator) else 100.0  # a mean score as published; % -> fraction
    with reading(warehouse) as con:
        raw = con.sql(named("national_panel", "school_results"), params=[code]).pl()
    raw = raw.filter(pl.col("trinn").is_in(list(GRADES)))
    if raw.is_empty():
        raise refusal(LmpError, "national_no_school_results", indicator_code=code)
    return raw.select(
        pl.col("skole_orgnr").cast(pl.Utf8),
        pl.col("survey_year").cast(pl.Int64),
        pl.col("trinn").cast(pl.Int64),
        pl.when(pl.col("suppressed")).then(None)
        .otherwise(pl.col("value") / scale).cast(pl.Float64).alias("share"),
        pl.col("n_answered").cast(pl.Int64),
        pl.col("suppressed").cast(pl.Boolean),
        pl.col("series_version"),
        (pl.lit(BRIDGED) if bridge_breaks else pl.col("series_version")).alias("segment"),
    ).sort("skole_orgnr", "survey_year", "trinn")


def pooled_panel(panel: pl.DataFrame) -> pl.DataFrame:
    """Grades pooled per school and survey year: the ``n_answered``-weighted mean of the
    published grade shares (``trinn`` = 0). A year where every grade is suppressed stays
    null; ``n_answered`` is the sum over the grades with a published share."""
    published = pl.col("share").is_not_null() & pl.col("n_answered").is_not_null()
    return (
        panel.group_by("skole_orgnr", "survey_year", "series_version", "segment")
        .agg(
            ((pl.col("share") * pl.col("n_answered")).filter(published).sum()
             / pl.col("n_answered").filter(published).sum()).alias("share"),
            pl.col("n_answered").filter(published).sum().alias("n_answered"),
            (~published).all().alias("suppressed"),
        )
        .with_columns(
            pl.lit(0, pl.Int64).alias("trinn"),
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("share")).alias("share"),
        )
        .select(PANEL_COLUMNS)
        .sort("skole_orgnr", "survey_year")
    )


def panel_means(panel: pl.DataFrame) -> pl.DataFrame:
    """``n_answered``-weighted mean share per survey year and grade over the published cells
    (columns survey_year, trinn, share, n_answered, schools)."""
    published = panel.filter(pl.col("share").is_not_null() & pl.col("n_answered").is_not_null())
    return (
        published.group_by("survey_year", "trinn")
        .agg(
            ((pl.col("share") * pl.col("n_answered")).sum() / pl.col("n_answered").sum())
            .alias("share"),
            pl.col("n_answered").sum(),
            pl.col("skole_orgnr").n_unique().alias("schools"),
        )
        .sort("survey_year", "trinn")
    )


def first_treated_survey_year(phase1_term: str) -> int:
    """First national survey year not before the term of phase 1.

    From 2013 the survey runs in the autumn (November): phase 1 in ``2015V`` -> 2015 (the
    survey half a year later), phase 1 in ``2018H`` -> 2018 (that November, about three months
    after the first staff day). Before 2013 it ran at the end of the spring term:
    ``2011V`` -> 2011, ``2011H`` -> 2012.
    """
    index = term_index(parse_term(phase1_term))
    year = int(phase1_term[:4])
    while term_index(survey_term(year)) < index:
        year += 1
    return year


def lmp_treatment(warehouse: Warehouse = None) -> pl.DataFrame:
    """LMP schools of the roster (rolle ``deltaker``) with skole_orgnr, kommunenummer (current
    number: a retired one is mapped to its successor), pulje, phase1_term and
    ``first_treated_year`` (:func:`first_treated_survey_year`)."""
    with reading(warehouse) as con:
        raw = con.sql(named("national_panel", "lmp_phase1")).pl()
    successors = successor_map()
    return raw.select(
        pl.col("skole_orgnr").cast(pl.Utf8),
        pl.col("kommunenummer").replace(successors),
        pl.col("pulje").cast(pl.Int64),
        pl.col("phase1_term"),
        each_value(raw, "phase1_term", first_treated_survey_year, pl.Int64)
        .alias("first_treated_year"),
    )


#: Columns of a school-change table (:func:`apply_school_changes`).
SCHOOL_CHANGE_COLUMNS = ["skole_orgnr", "event", "survey_year", "successor_orgnr"]
SCHOOL_EVENTS = ("nedlagt", "sammenslatt")


def apply_school_changes(panel: pl.DataFrame, changes: pl.DataFrame, *,
                         bridge_mergers: bool = False) -> pl.DataFrame:
    """Schools that closed or merged, by the rule of the national panel.

    ``changes`` has :data:`SCHOOL_CHANGE_COLUMNS`: ``event`` ``nedlagt`` (closed) or
    ``sammenslatt`` (merged into ``successor_orgnr``), ``survey_year`` the first survey in which
    the school no longer exists as itself (from the Enhetsregisteret/NSR history of the school).

    - A **closed** school leaves the panel: its rows from ``survey_year`` on are dropped (there
      should be none; a late row of a closed unit is not carried into the panel).
    - A **merged** school's series ends at the merger (its rows from ``survey_year`` on are
      dropped), and the successor's series is **split** there: its rows from ``survey_year``
      on become a new unit ``<successor>@<year>``, a different school (other pupils, other
      staff), so no before/after comparison spans the merger. ``bridge_mergers=True`` keeps the
      successor's series whole (the caller's explicit choice).
    """
    if changes.is_empty():
        return panel
    bad = changes.filter(~pl.col("event").is_in(list(SCHOOL_EVENTS)))
    if bad.height:
        raise refusal(LmpError, "school_change_event", event=bad["event"][0],
                      orgnr=bad["skole_orgnr"][0], events=", ".join(SCHOOL_EVENTS))
    missing = changes.filter((pl.col("event") == "sammenslatt")
                             & pl.col("successor_orgnr").is_null())
    if missing.height:
        raise refusal(LmpError, "school_merged_no_successor", orgnr=missing["skole_orgnr"][0])
    ended = changes.select("skole_orgnr", pl.col("survey_year").alias("_end"))
    out = panel.join(ended, on="skole_orgnr", how="left").filter(
        pl.col("_end").is_null() | (pl.col("survey_year") < pl.col("_end"))).drop("_end")
    if bridge_mergers:
        return out
    splits = (changes.filter(pl.col("event") == "sammenslatt")
              .group_by(pl.col("successor_orgnr").alias("skole_orgnr"))
              .agg(pl.col("survey_year").min().alias("_split")))
    return out.join(splits, on="skole_orgnr", how="left").with_columns(
        pl.when(pl.col("_split").is_not_null() & (pl.col("survey_year") >= pl.col("_split")))
        .then(pl.col("skole_orgnr") + "@" + pl.col("_split").cast(pl.Utf8))
        .otherwise(pl.col("skole_orgnr")).alias("skole_orgnr"),
    ).drop("_split").sort("skole_orgnr", "survey_year", "trinn")
