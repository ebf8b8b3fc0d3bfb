"""Input limits (:class:`Limits`) and the checks of a parsed table against them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lmp_analytics import config
from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.readers.table import RawTable
from lmp_analytics.presentation.messages import rejection


@dataclass(frozen=True)
class Limits:
    """Input limits; :meth:`current` reads them from the settings (environment) at call time."""

    cell_chars: int = config.DEFAULT_MAX_CELL_CHARS
    columns: int = config.DEFAULT_MAX_COLUMNS
    rows: int = config.DEFAULT_MAX_ROWS
    xlsx_bytes: int = config.DEFAULT_MAX_XLSX_BYTES
    parquet_bytes: int = config.DEFAULT_MAX_PARQUET_BYTES

    @classmethod
    def current(cls) -> Limits:
        """The limits in force (``LMP_MAX_*`` environment variables, else the defaults)."""
        return cls(config.max_cell_chars(), config.max_columns(), config.max_rows(),
                   config.max_xlsx_bytes(), config.max_parquet_bytes())


def megabytes(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def too_many_columns(path: Path, width: int, limits: Limits, line: int = 1) -> FileRejected:
    return rejection(path, "columns_over_limit", width=width, limit=limits.columns, row=line)


def too_many_rows(path: Path, rows: int, limits: Limits) -> FileRejected:
    return rejection(path, "rows_over_limit", rows=rows, limit=limits.rows)



def check_cells(table: RawTable, limits: Limits) -> None:
    """Row count and cell length of a parsed table within the limits; FileRejected (with row and
    column of the first cell that is too long) otherwise."""
    frame = table.frame
    if frame.height > limits.rows:
        raise too_many_rows(table.path, frame.height, limits)
    if frame.width > limits.columns:
        raise too_many_columns(table.path, frame.width, limits, table.header_line)
    if not frame.height or not frame.width:
        return
    longest = frame.select(pl.all().str.len_chars().max().fill_null(0)).row(0)
    for name, length in zip(frame.columns, longest, strict=True):
        if length > limits.cell_chars:
            index = int(frame.get_column(name).str.len_chars().arg_max())
            raise rejection(table.path, "cell_length_over_limit", length=length,
                            limit=limits.cell_chars, row=table.line_of(index), column=name)

