"""Shipped reference data for Elevundersøkelsen, read from ``lmp_analytics/reference/*.csv``.

The files are data, not code: every row carries a ``source`` (the public page it was copied
from). Correcting a figure or confirming a series break is an edit of the CSV, not of the code.

- ``national_bullying.csv``: published national bullying shares (long format, one figure a row).
- ``series_breaks.csv``: breaks in the national series; ``status`` is ``confirmed`` (enforced)
  or ``placeholder`` (announced revision, only flagged).
- ``eu_indicators.csv``: indicator catalogue (name, value type ``pct``/``score_1_5``, direction).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

import polars as pl

from lmp_analytics.config import REFERENCE_DIR
from lmp_analytics.errors import LmpError
from lmp_analytics.frames import each_value

NATIONAL_BULLYING_FILE = "national_bullying.csv"
SERIES_BREAKS_FILE = "series_breaks.csv"
INDICATOR_FILE = "eu_indicators.csv"

VALUE_TYPES = ("pct", "score_1_5")
BREAK_STATUSES = ("confirmed", "placeholder")

_NATIONAL_SCHEMA = {
    "survey_year": pl.Int32,
    "trinn_from": pl.Int8,
    "trinn_to": pl.Int8,
    "sex": pl.String,
    "measure": pl.String,
    "value_pct": pl.Float64,
    "approximate": pl.Boolean,
    "source": pl.String,
    "note": pl.String,
}
_BREAK_SCHEMA = {
    "from_year": pl.Int32,
    "from_term": pl.String,
    "series_version": pl.String,
    "status": pl.String,
    "change": pl.String,
    "source": pl.String,
}
_INDICATOR_SCHEMA = {
    "indicator_code": pl.String,
    "indicator": pl.String,
    "value_type": pl.String,
    "higher_is_better": pl.Boolean,
    "udir_code": pl.String,
    "source": pl.String,
}


class ReferenceDataError(LmpError):
    """A shipped reference file is missing or inconsistent (a packaging or editing mistake)."""


def normalise_name(text: str) -> str:
    """Case-, whitespace- and Unicode-form-insensitive key for column and indicator names."""
    folded = unicodedata.normalize("NFC", str(text)).replace("_", " ").casefold()
    return " ".join(folded.split())


def _read(name: str, schema: dict[str, pl.DataType], directory: Path | None) -> pl.DataFrame:
    path = (directory or REFERENCE_DIR) / name
    if not path.is_file():
        raise ReferenceDataError(f"{path}: reference file missing (is the package installed?)")
    try:
        frame = pl.read_csv(path, schema=schema, comment_prefix="#")
    except Exception as exc:  # polars raises several types; the file is ours, so name it
        raise ReferenceDataError(
            f"{path}: cannot be read with the expected columns: {exc}"
        ) from exc
    if frame["source"].null_count():
        raise ReferenceDataError(f"{path}: every row needs a source")
    return frame


@cache
def _national_bullying(directory: Path | None) -> pl.DataFrame:
    frame = _read(NATIONAL_BULLYING_FILE, _NATIONAL_SCHEMA, directory)
    bad = frame.filter(
        ~pl.col("value_pct").is_between(0, 100)
        | (pl.col("trinn_from") > pl.col("trinn_to"))
        | ~pl.col("trinn_from").is_between(5, 13)
        | ~pl.col("trinn_to").is_between(5, 13)
    )
    if bad.height:
        raise ReferenceDataError(f"{NATIONAL_BULLYING_FILE}: rows out of range: {bad.rows()}")
    keys = ["survey_year", "trinn_from", "trinn_to", "sex", "measure"]
    if frame.select(keys).is_duplicated().any():
        raise ReferenceDataError(f"{NATIONAL_BULLYING_FILE}: duplicate figures for {keys}")
    return frame


def national_bullying_raw(directory: Path | None = None) -> pl.DataFrame:
    """``national_bullying.csv`` as stored: one published figure per row, with its source.

    Columns: survey_year, trinn_from, trinn_to (5-13; Vg1 = 11), sex (null = both), measure,
    value_pct, approximate, source, note. Use :func:`lmp_analytics.national.national_bullying`
    for the enriched view (term, school year, series version).
    """
    return _national_bullying(directory)


@cache
def _series_breaks(directory: Path | None) -> pl.DataFrame:
    frame = _read(SERIES_BREAKS_FILE, _BREAK_SCHEMA, directory).sort("from_year")
    if not frame["status"].is_in(BREAK_STATUSES).all():
        raise ReferenceDataError(f"{SERIES_BREAKS_FILE}: status must be one of {BREAK_STATUSES}")
    expected = frame["from_year"].cast(pl.String) + "H"
    if (expected != frame["from_term"]).any():
        raise ReferenceDataError(
            f"{SERIES_BREAKS_FILE}: from_term must be the autumn term of from_year (YYYYH)"
        )
    return frame


def series_breaks(directory: Path | None = None) -> pl.DataFrame:
    """``series_breaks.csv``: from_year, from_term, series_version, status, change, source."""
    return _series_breaks(directory)


@cache
def _indicator_catalogue(directory: Path | None) -> pl.DataFrame:
    frame = _read(INDICATOR_FILE, _INDICATOR_SCHEMA, directory)
    if not frame["value_type"].is_in(VALUE_TYPES).all():
        raise ReferenceDataError(f"{INDICATOR_FILE}: value_type must be one of {VALUE_TYPES}")
    frame = frame.with_columns(
        each_value(frame, "indicator", normalise_name).alias("name_key")
    )
    if frame["name_key"].is_duplicated().any() or frame["indicator_code"].is_duplicated().any():
        raise ReferenceDataError(f"{INDICATOR_FILE}: indicator names and codes must be unique")
    return frame


def indicator_catalogue(directory: Path | None = None) -> pl.DataFrame:
    """``eu_indicators.csv`` plus ``name_key`` (normalised name used to match export labels)."""
    return _indicator_catalogue(directory)
