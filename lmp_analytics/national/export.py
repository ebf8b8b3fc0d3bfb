"""What reading one Elevundersøkelsen file gives (:class:`EuExport`), in any layout, and the
check every layout shares: a cell given twice is kept once."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lmp_analytics.national.schema import RowProblem

#: The layout name of this package's own CSV layout (Skoleår;Enhetsnivå;…;Indikator;Verdi).
LEGACY = "lmp"


class EuExportWarning(UserWarning):
    """Something in an export was ignored (e.g. an unknown column)."""


@dataclass(frozen=True)
class EuExport:
    """A read export: accepted rows, rejected rows, and how the file was decoded."""

    results: pl.DataFrame
    problems: pl.DataFrame
    source_file: str
    encoding: str | None
    delimiter: str | None
    layout: str = LEGACY
    file_format: str = "csv"
    warnings: tuple[str, ...] = ()
    rows_read: int = 0
    rows_without_data: int = 0



def flag_duplicates(frame: pl.DataFrame, labels: dict[str, str]) -> list[RowProblem]:
    """Problems for the rows that repeat an earlier row's cell (only the first is kept)."""
    keys = ["level", "unit_code", "school_year", "trinn", "indicator_code", "kjonn", "eierform"]
    marked = frame.with_columns(
        pl.col("source_row").min().over(keys).alias("_first"),
    ).filter(pl.col("source_row") != pl.col("_first"))
    what = ", ".join(labels[k] for k in ("level", "unit_code", "school_year", "trinn", "indicator"))
    return [
        RowProblem(
            row["source_file"],
            row["source_row"],
            labels["indicator"],
            row["indicator"],
            f"duplicate of row {row['_first']} (same {what}); only the first is kept",
        )
        for row in marked.iter_rows(named=True)
    ]
