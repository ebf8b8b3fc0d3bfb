"""Indicator tables for municipality leaders and the programme: CSV, XLSX or Parquet.

The rows are exactly :func:`lmp_analytics.api.indicators` (suppressed and scoped to the role):
a hidden cell keeps its keys, every number is empty and ``suppressed`` is true. Nothing is
recomputed here. Writers are deterministic (the XLSX workbook carries a fixed creation date).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

import polars as pl

from lmp_analytics import api, spreadsheet
from lmp_analytics.codebook import indicator_ids
from lmp_analytics.config import DEFAULT_MIN_N
from lmp_analytics.privacy.roles import Role
from lmp_analytics.terms import term_order

from .data import WarehouseArg

EXPORT_FORMATS = ("csv", "xlsx", "parquet")
#: CLI level names -> API level names.
LEVELS = {"school": "skole", "skole": "skole", "kommune": "kommune", "pulje": "pulje",
          "program": "program"}
#: The XLSX core properties' date (fixed: the same table gives the same bytes).
XLSX_DATE = dt.datetime(2000, 1, 1)


def export_table(
    *,
    level: str = "school",
    indicators: Sequence[str] | None = None,
    by: str | None = None,
    term: str | None = None,
    role: str | Role | None = "program",
    warehouse: WarehouseArg = None,
) -> pl.DataFrame:
    """The indicator table to export: API columns, suppressed and scoped, stable row order."""
    if level not in LEVELS:
        raise ValueError(f"level must be school, kommune, pulje or program; got {level!r}")
    wanted = list(indicators) if indicators else None
    if wanted:
        known = set(indicator_ids())
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise ValueError(f"unknown indicator(s) {unknown}; known: {', '.join(sorted(known))}")
    frame = api.indicators(LEVELS[level], indicator=wanted, by=by, role=role,
                           warehouse=warehouse, surface="export")
    if term is not None and frame.height:
        frame = frame.filter(pl.col("term") == term)
    return stable_order(frame)


def stable_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Indicator cells in one row order whatever order the publication stores them in (an
    incremental build appends the re-suppressed terms): indicator, unit, term in time."""
    if frame.height == 0:
        return frame
    return frame.sort("indicator", "kommunenummer", "pulje", "rolle", "skole_orgnr",
                      term_order(), "round", "gruppe", "breakdown_value", nulls_last=True)


def _about(frame: pl.DataFrame, *, role: str, level: str, lang_note: str,
           min_n: int) -> pl.DataFrame:
    rows = [
        ("role", role),
        ("level", level),
        ("rows", str(frame.height)),
        ("suppressed_rows", str(int(frame["suppressed"].sum())) if frame.height else "0"),
        ("min_n", str(min_n)),
        ("note", lang_note),
    ]
    return pl.DataFrame(rows, schema={"key": pl.String, "value": pl.String}, orient="row")


NOTE = ("Shares are fractions (0-1). A suppressed cell has every number empty, suppressed = "
        "true and n_display = '*': n < min_n, or hidden so that other hidden numbers cannot be "
        "worked out (one mark for both, so the small cells cannot be told apart). / Andeler er "
        "brøker (0-1). En skjult celle har alle tall tomme, suppressed = true og n_display = "
        "'*'.")


def to_bytes(
    frame: pl.DataFrame, fmt: str, *, role: str = "program", level: str = "skole",
    min_n: int = DEFAULT_MIN_N,
) -> bytes:
    """The table as CSV (UTF-8, empty = null), XLSX (sheet 'indikatorer' + 'om') or Parquet.
    CSV and XLSX go through :mod:`lmp_analytics.spreadsheet` (no cell can become a formula).

    ``min_n``: the threshold the cells were suppressed with (:func:`lmp_analytics.api.
    threshold`), stated in the XLSX sheet 'om' and the Parquet file's key-value metadata."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be csv, xlsx or parquet; got {fmt!r}")
    buf = io.BytesIO()
    if fmt == "csv":
        spreadsheet.write_csv(frame, buf)
    elif fmt == "parquet":
        frame.write_parquet(buf, statistics=False,
                            metadata={"lmp.min_n": str(min_n), "lmp.role": role})
    else:
        with spreadsheet.xlsx_workbook(buf, in_memory=True) as wb:
            wb.set_properties({"title": "LMP indicators", "author": "lmp_analytics",
                               "created": XLSX_DATE})
            spreadsheet.xlsx_sheet(frame, wb, "indikatorer", autofit=False,
                                   float_precision=6)
            about = _about(frame, role=role, level=level, lang_note=NOTE, min_n=min_n)
            spreadsheet.xlsx_sheet(about, wb, "om", autofit=False)
    return buf.getvalue()


__all__ = ["EXPORT_FORMATS", "LEVELS", "export_table", "stable_order", "to_bytes"]
