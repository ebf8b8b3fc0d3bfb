"""File formats: Spekter exports (CSV in two dialects, XLSX), roster files, Elevundersøkelsen.

Every writer is byte-deterministic: no timestamps except the fixed XLSX document date passed in.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl
import xlsxwriter

from lmp_analytics.synth.params import (
    FORMAT_CSV_COMMA_UTF8_BOM,
    FORMAT_CSV_SEMICOLON_CP1252,
    FORMAT_XLSX,
)

BOM = b"\xef\xbb\xbf"
EXTENSION = {
    FORMAT_CSV_SEMICOLON_CP1252: "csv",
    FORMAT_CSV_COMMA_UTF8_BOM: "csv",
    FORMAT_XLSX: "xlsx",
}
XLSX_SHEET = "Spekter"


def csv_bytes(frame: pl.DataFrame, fmt: str) -> bytes:
    """A Spekter CSV: ``;`` + Windows-1252 + CRLF, or ``,`` + UTF-8 with BOM + LF."""
    buf = io.BytesIO()
    if fmt == FORMAT_CSV_SEMICOLON_CP1252:
        frame.write_csv(buf, separator=";", line_terminator="\r\n", null_value="")
        return buf.getvalue().decode("utf-8").encode("cp1252")
    if fmt == FORMAT_CSV_COMMA_UTF8_BOM:
        frame.write_csv(buf, separator=",", line_terminator="\n", null_value="")
        return BOM + buf.getvalue()
    raise ValueError(f"not a CSV format: {fmt}")


def xlsx_bytes(frame: pl.DataFrame, created: dt.datetime) -> bytes:
    """First-sheet XLSX: strings as text cells, integers as numbers, nulls as empty cells."""
    buf = io.BytesIO()
    workbook = xlsxwriter.Workbook(buf, {"in_memory": True})
    workbook.set_properties({"created": created, "author": "Spekter", "title": "Spekter eksport"})
    sheet = workbook.add_worksheet(XLSX_SHEET)
    sheet.write_row(0, 0, frame.columns)
    for r, row in enumerate(frame.iter_rows(), start=1):
        sheet.write_row(r, 0, row)
    workbook.close()
    return buf.getvalue()


def spekter_bytes(frame: pl.DataFrame, fmt: str, created: dt.datetime) -> bytes:
    """A Spekter export in format ``fmt``."""
    if fmt == FORMAT_XLSX:
        return xlsx_bytes(frame, created)
    return csv_bytes(frame, fmt)


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def semicolon_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A plain ``;``-separated UTF-8 CSV (roster files, Elevundersøkelsen); no quoting needed."""
    lines = [";".join(header)]
    for row in rows:
        cells = ["" if v is None else str(v) for v in row]
        if any(";" in c or '"' in c or "\n" in c for c in cells):
            raise ValueError(f"cell needs quoting in a plain CSV: {cells}")
        lines.append(";".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def decimal_comma(value: float, decimals: int = 1) -> str:
    """``10.45`` -> ``10,5`` (Udir style)."""
    return f"{value:.{decimals}f}".replace(".", ",")


def thousands(n: int) -> str:
    """``61234`` -> ``61 234`` (space as thousands separator)."""
    return f"{n:,}".replace(",", " ")
