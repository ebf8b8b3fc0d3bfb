"""Tables written for spreadsheets (CSV, XLSX) that a spreadsheet cannot turn into formulas.

School, group and municipality names come from the roster and the survey exports, so a name can
be ``=HYPERLINK("http://…","klikk")``. Excel and LibreOffice evaluate a CSV cell that starts with
``=``, ``+``, ``-`` or ``@`` (and act on a leading tab or carriage return) as a formula. Every CSV
and XLSX writer of the package and the dashboards goes through this module, which applies
OWASP's CSV-injection rule: a **text** cell starting with one of those characters gets a single
quote ``'`` in front, so it is read as text. Numeric columns are never touched (``-0.03`` in a
numeric column stays a number), and a text cell that is exactly a plain number (``-3``,
``-0,03``) is left as it is: a spreadsheet reads it as that number and it cannot hold a formula.
Column names get the same treatment. XLSX workbooks are opened with xlsxwriter's
``strings_to_formulas`` and ``strings_to_urls`` off, so every text cell is stored as a string.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import IO, Any

import polars as pl

__all__ = [
    "FORMULA_START",
    "XLSX_OPTIONS",
    "csv_bytes",
    "neutralise",
    "safe_frame",
    "write_csv",
    "xlsx_sheet",
    "xlsx_workbook",
]

#: The first characters that make a spreadsheet treat a cell as a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: xlsxwriter Workbook options: text is always a string cell, never a formula or a hyperlink.
XLSX_OPTIONS: dict[str, Any] = {"strings_to_formulas": False, "strings_to_urls": False,
                                "strings_to_numbers": False}
_TRIGGER_RE = "^[=+\\-@\t\r]"
_PLAIN_NUMBER_RE = r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$"
_TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)


def neutralise(value: Any) -> Any:
    """One cell: text starting with ``= + - @``, tab or CR gets a leading ``'`` unless it is a
    plain number; anything else (numbers, None, ordinary text) is returned unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    if re.fullmatch(_PLAIN_NUMBER_RE, value):
        return value
    return "'" + value


def _neutralise_expr(column: str) -> pl.Expr:
    col = pl.col(column).cast(pl.String)
    risky = col.str.contains(_TRIGGER_RE) & ~col.str.contains(_PLAIN_NUMBER_RE)
    return pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(column)


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell and column name neutralised (:func:`neutralise`);
    numeric, boolean and date columns keep their type and values."""
    text = [name for name, dtype in frame.schema.items() if dtype.base_type() in _TEXT_TYPES]
    out = frame.with_columns(_neutralise_expr(c) for c in text) if text else frame
    renamed = {c: neutralise(c) for c in out.columns if neutralise(c) != c}
    return out.rename(renamed) if renamed else out


def write_csv(frame: pl.DataFrame, target: str | Path | IO[bytes] | None = None,
              **options: Any) -> str | None:
    """``frame.write_csv(target, **options)`` of :func:`safe_frame` (``None``: return text)."""
    return safe_frame(frame).write_csv(target, **options)


def csv_bytes(frame: pl.DataFrame, **options: Any) -> bytes:
    """The safe CSV as bytes (UTF-8, polars' ``write_csv`` options)."""
    buf = io.BytesIO()
    safe_frame(frame).write_csv(buf, **options)
    return buf.getvalue()


def xlsx_workbook(target: str | Path | IO[bytes], **options: Any):
    """An ``xlsxwriter.Workbook`` that stores text as strings (:data:`XLSX_OPTIONS`; ``options``
    may add others, not switch those off)."""
    import xlsxwriter

    unsafe = {k for k in XLSX_OPTIONS if k in options and options[k] != XLSX_OPTIONS[k]}
    if unsafe:
        raise ValueError(f"spreadsheet: {sorted(unsafe)} must stay False")
    return xlsxwriter.Workbook(target, {**options, **XLSX_OPTIONS})


def xlsx_sheet(frame: pl.DataFrame, workbook, worksheet: str, **options: Any) -> None:
    """Write :func:`safe_frame` of ``frame`` to a sheet of a workbook from
    :func:`xlsx_workbook` (``options``: polars' ``write_excel`` options)."""
    if workbook.strings_to_formulas or workbook.strings_to_urls:
        raise ValueError("spreadsheet: open the workbook with xlsx_workbook()")
    safe_frame(frame).write_excel(workbook, worksheet=worksheet, **options)
