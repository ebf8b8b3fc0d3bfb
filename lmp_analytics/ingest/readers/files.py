"""Read one input file of any supported format (by its extension) as text cells."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.readers.csv_file import read_csv
from lmp_analytics.ingest.readers.excel import read_excel
from lmp_analytics.ingest.readers.limits import Limits, check_cells
from lmp_analytics.ingest.readers.parquet import read_parquet
from lmp_analytics.ingest.readers.table import RawTable
from lmp_analytics.presentation.messages import rejection

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SUPPORTED_SUFFIXES = CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES


def blank_to_null(table: RawTable) -> RawTable:
    """Empty strings (from Excel or Parquet) mean missing, as in CSV; all-empty rows go."""
    frame = table.frame.with_columns(
        pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in table.frame.columns
    )
    lines = table.line_numbers()
    keep = ~pl.all_horizontal(pl.all().is_null()) if frame.columns else pl.lit(True)
    mask = frame.select(keep.alias("keep")).get_column("keep")
    if frame.height and not mask.all():
        frame = frame.filter(mask)
        table.lines = lines.filter(mask).to_list()
    table.frame = frame
    return table


def read_table(path: str | Path) -> RawTable:
    """Read one input file as text cells; FileRejected if it cannot be read as a table."""
    return blank_to_null(read_cells(path))


def read_cells(path: str | Path, data: bytes | None = None,
               limits: Limits | None = None) -> RawTable:
    """:func:`read_table` without its last step (blank cells to null, all-blank rows dropped),
    which :func:`lmp_analytics.ingest.mapping.map_tables` does for many files at once. ``data``:
    the file's bytes when the caller has read them already; ``limits`` default to the settings."""
    limits = limits or Limits.current()
    path = Path(path)
    if not path.exists():
        raise rejection(path, "missing")
    if path.is_dir():
        raise rejection(path, "folder")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        table = read_csv(path, path.read_bytes() if data is None else data, limits)
    elif suffix in EXCEL_SUFFIXES:
        table = read_excel(path, limits)
    elif suffix in PARQUET_SUFFIXES:
        table = read_parquet(path, limits)
    else:
        raise rejection(path, "extension_xls" if suffix == ".xls" else "extension",
                        suffix=path.suffix)
    if not table.frame.columns:
        raise rejection(path, "no_named_columns", row=1)
    check_cells(table, limits)
    return table


def read_or_refusal(path: Path, data: bytes, limits: Limits) -> RawTable | FileRejected:
    try:
        return read_cells(path, data, limits)
    except FileRejected as exc:
        return exc

