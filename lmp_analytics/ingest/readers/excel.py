"""Read the first sheet of an XLSX workbook (calamine), after a zip-bomb-safe size check."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.readers.limits import Limits, megabytes
from lmp_analytics.ingest.readers.table import RawTable, finish_table, is_blank
from lmp_analytics.presentation.messages import rejection

_XLSX_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}



def check_xlsx_size(path: Path, limits: Limits) -> None:
    """The workbook's decompressed size within ``limits.xlsx_bytes``, before it is opened: first
    the sizes its zip directory declares, then the bytes its members really inflate to (counted
    while streaming, stopping at the limit), so that a zip bomb is refused with bounded memory."""
    limit = limits.xlsx_bytes

    def refuse(size: int, what: str) -> FileRejected:
        return rejection(path, f"xlsx_over_limit{what}", size=megabytes(size),
                         limit=megabytes(limit))

    try:
        with zipfile.ZipFile(path) as book:
            members = book.infolist()
            declared = sum(m.file_size for m in members)
            if declared > limit:
                raise refuse(declared, "")
            total = 0
            for member in members:
                with book.open(member) as stream:
                    while chunk := stream.read(1 << 20):
                        total += len(chunk)
                        if total > limit:
                            raise refuse(total, "_more")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError, zlib.error) as exc:  # a broken or encrypted zip
        raise rejection(path, "not_xlsx", detail=f"{type(exc).__name__}: {exc}") from exc



def _sheet_first_row(path: Path) -> int:
    """The sheet row of the first cell with a value in the first sheet, where calamine starts
    reading (rows above it are empty); 1 when the workbook does not say."""
    try:
        with zipfile.ZipFile(path) as book:
            sheets = ElementTree.fromstring(book.read("xl/workbook.xml"))
            rid = sheets.find("m:sheets/m:sheet", _XLSX_NS).get(f"{{{_XLSX_NS['r']}}}id")
            rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
            target = next(r.get("Target") for r in rels if r.get("Id") == rid)
            name = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            with book.open(name) as sheet:
                for _, cell in ElementTree.iterparse(sheet):
                    if cell.tag == f"{{{_XLSX_NS['m']}}}c" and (
                        cell.find("m:v", _XLSX_NS) is not None
                        or cell.find("m:is", _XLSX_NS) is not None
                    ):
                        return int(re.sub(r"^[A-Z]+", "", cell.get("r", "")) or 1)
    except (OSError, KeyError, AttributeError, StopIteration, ValueError, zipfile.BadZipFile,
            ElementTree.ParseError):
        pass
    return 1


def read_excel(path: Path, limits: Limits) -> RawTable:
    import fastexcel

    check_xlsx_size(path, limits)
    try:
        sheet = fastexcel.read_excel(path).load_sheet(0, header_row=None, dtypes="string")
        grid = sheet.to_polars()
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise rejection(path, "not_xlsx", detail=f"{type(exc).__name__}: {exc}") from exc
    if grid.height == 0 or is_blank(grid.row(0)):
        raise rejection(path, "empty_sheet")
    grid = grid.select(pl.all().cast(pl.String))
    body = grid.slice(1)
    top = _sheet_first_row(path)  # sheet rows, even when the sheet starts with empty rows
    return finish_table(path, grid.row(0), body, "xlsx", header_line=top,
                   lines=list(range(top + 1, top + 1 + body.height)))

