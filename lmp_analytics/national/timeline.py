"""The shipped national series on the term axis, beside Spekter terms.

The autumn survey of year Y belongs to term ``YH`` (school year ``Y-(Y+1)``); the old spring
surveys (up to 2012) to ``YV``. Spring terms after 2012 have no national figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from lmp_analytics.config import REFERENCE_DIR
from lmp_analytics.frames import each_value
from lmp_analytics.national.reference import (
    NATIONAL_BULLYING_FILE,
    indicator_catalogue,
    national_bullying_raw,
)
from lmp_analytics.national.schema import RESULT_SCHEMA
from lmp_analytics.national.series import series_version, survey_term
from lmp_analytics.terms import parse_term, school_year

#: Measure in ``national_bullying.csv`` -> indicator code in ``eu_indicators.csv``.
MEASURE_INDICATOR = {
    "mobbing_paa_skolen": "EU_MOBBING",
    "mobbet_av_elever": "EU_MOBBET_ELEVER",
    "mobbet_av_voksne": "EU_MOBBET_VOKSNE",
    "mobbet_digitalt": "EU_MOBBET_DIGITALT",
}


def _term_columns(frame: pl.DataFrame, year: str) -> list[pl.Series]:
    terms = each_value(frame, year, survey_term).alias("term")
    return [
        terms,
        each_value(terms.to_frame(), "term", school_year).alias("school_year"),
        each_value(terms.to_frame(), "term", series_version).alias("series_version"),
    ]


def national_bullying() -> pl.DataFrame:
    """All shipped national figures with their term, school year and series version.

    Columns: survey_year, term, school_year, series_version, trinn_from, trinn_to, trinn
    (the single grade, null for ranges), sex, measure, value_pct, approximate, source, note,
    source_row (line in ``national_bullying.csv``).
    """
    raw = national_bullying_raw().with_row_index("source_row", offset=2)
    return raw.select(
        "survey_year",
        *_term_columns(raw, "survey_year"),
        "trinn_from",
        "trinn_to",
        pl.when(pl.col("trinn_from") == pl.col("trinn_to"))
        .then(pl.col("trinn_from"))
        .alias("trinn"),
        "sex",
        "measure",
        "value_pct",
        "approximate",
        "source",
        "note",
        pl.col("source_row").cast(pl.Int64),
    )


def national_series_by_term(
    measure: str = "mobbing_paa_skolen",
    *,
    trinn: int | None = None,
    terms: Sequence[str] | None = None,
) -> pl.DataFrame:
    """One national series (both sexes) by term, for plotting beside Spekter terms.

    ``trinn`` None selects the all-grades (5-Vg3) figures, else that single grade. With
    ``terms`` (e.g. the Spekter terms on a chart) the result has exactly one row per given term,
    in the given order, with null values where no national survey ran (spring terms from 2013).
    Columns: term, school_year, survey_year, series_version, measure, trinn, value_pct,
    approximate, source.
    """
    figures = national_bullying().filter(pl.col("measure") == measure, pl.col("sex").is_null())
    if trinn is None:
        figures = figures.filter(pl.col("trinn_from") == 5, pl.col("trinn_to") == 13)
    else:
        figures = figures.filter(pl.col("trinn") == trinn)
    series = figures.select(
        "term",
        "school_year",
        "survey_year",
        "series_version",
        "measure",
        pl.lit(trinn, dtype=pl.Int8).alias("trinn"),
        "value_pct",
        "approximate",
        "source",
    ).sort("survey_year")
    if terms is None:
        return series
    wanted = pl.DataFrame({"term": [parse_term(t) for t in terms]}, schema={"term": pl.String})
    aligned = wanted.join(series.drop("school_year"), on="term", how="left", maintain_order="left")
    return aligned.with_columns(
        each_value(aligned, "term", school_year).alias("school_year"),
        pl.col("measure").fill_null(measure),
        pl.lit(trinn, dtype=pl.Int8).alias("trinn"),
    ).select(series.columns)


def national_reference_results(*, include_approximate: bool = False) -> pl.DataFrame:
    """The shipped national figures shaped like the reader's results (level ``nasjon``).

    Only figures that map to a catalogue indicator and to one grade or all grades are included
    (sex-specific and grade-range figures are not); approximate figures only on request. Pass
    the result as ``national=`` to :func:`~lmp_analytics.national.benchmark_changes`.
    """
    catalogue = indicator_catalogue().select("indicator_code", "indicator", "value_type")
    figures = national_bullying().filter(
        pl.col("measure").is_in(list(MEASURE_INDICATOR)),
        pl.col("sex").is_null(),
        pl.col("trinn").is_not_null() | ((pl.col("trinn_from") == 5) & (pl.col("trinn_to") == 13)),
        pl.lit(include_approximate) | ~pl.col("approximate"),
    )
    frame = figures.with_columns(
        pl.col("measure").replace_strict(MEASURE_INDICATOR).alias("indicator_code")
    ).join(catalogue, on="indicator_code", how="left")
    return (
        frame.select(
            pl.lit("nasjon").alias("level"),
            pl.lit(None, dtype=pl.String).alias("unit_code"),
            pl.lit("Norge").alias("unit_name"),
            "school_year",
            pl.col("survey_year").cast(pl.Int32),
            "term",
            "series_version",
            pl.col("trinn").cast(pl.Int8),
            "indicator_code",
            "indicator",
            "value_type",
            pl.col("value_pct").alias("value"),
            pl.lit(None, dtype=pl.Int64).alias("n_answered"),
            pl.lit(False).alias("suppressed"),
            pl.lit(str(REFERENCE_DIR / NATIONAL_BULLYING_FILE)).alias("source_file"),
            "source_row",
            pl.lit("alle").alias("kjonn"),
            pl.lit("alle").alias("eierform"),
            pl.lit(False).alias("preliminary"),
        )
        .cast(RESULT_SCHEMA)
        .sort("survey_year", "indicator_code", "trinn", nulls_last=True)
    )
