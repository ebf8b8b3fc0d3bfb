"""Read the files people export into all-text polars frames.

Formats: CSV (``;`` or ``,``, sniffed; UTF-8, UTF-8 with BOM or Windows-1252, sniffed), XLSX (first
sheet) and Parquet. Every cell is read as text so that nothing is guessed before the mapping step
(leading zeros of ``kommunenummer`` survive). Column names are normalised (case, surrounding and
inner white space, Norwegian letters) so that ``Kjønn `` and ``kjonn`` are the same column.
Rows whose cells are all empty are ignored; every other row keeps the line it had in the file, so
messages and the quarantine can point at it. Problems with the file as a whole raise
:class:`~lmp_analytics.errors.FileRejected`.

Input limits (:class:`Limits`, from :mod:`lmp_analytics.config`) are checked as early as the
format allows, so that a small hostile file cannot exhaust memory: the CSV header's width before
its body is parsed, an XLSX workbook's decompressed size before calamine opens it, a Parquet
file's row count, width and uncompressed size from its metadata before it is read; cell length
and row count right after parsing, before anything else touches the cells.
"""

from lmp_analytics.ingest.readers.batch import read_many
from lmp_analytics.ingest.readers.csv_text import check_csv_header, decode_text, sniff_delimiter
from lmp_analytics.ingest.readers.excel import check_xlsx_size
from lmp_analytics.ingest.readers.files import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    PARQUET_SUFFIXES,
    SUPPORTED_SUFFIXES,
    read_cells,
    read_table,
)
from lmp_analytics.ingest.readers.limits import Limits, check_cells
from lmp_analytics.ingest.readers.parquet import check_parquet_metadata
from lmp_analytics.ingest.readers.table import RawTable, check_duplicate_columns, normalise_column

__all__ = [
    "CSV_SUFFIXES", "EXCEL_SUFFIXES", "PARQUET_SUFFIXES", "SUPPORTED_SUFFIXES", "Limits",
    "RawTable", "check_cells", "check_csv_header", "check_duplicate_columns",
    "check_parquet_metadata", "check_xlsx_size", "decode_text", "normalise_column",
    "read_cells", "read_many", "read_table", "sniff_delimiter",
]
