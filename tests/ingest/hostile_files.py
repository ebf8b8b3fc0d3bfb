"""Generators of hostile and unlucky input files (issue 14), small on disk, made in the test.

Each ``build(directory) -> Path`` writes one file. The huge ones are huge only where the attack
needs it: a CSV with one giant cell, an XLSX whose sheet inflates to more than the decompressed
limit (a zip bomb of ~100 KB), a Parquet file of 10 million rows that is a few KB on disk.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import spekter_factory as sf

ORG = "974590247"  # the hostile files are about this school; the base warehouse holds 974590123
DATE = "2024-09-24"
Build = Callable[[Path], Path]


def rows(n: int = 6, **changes: dict[str, str]) -> list[dict[str, str]]:
    """``n`` good rows of ORG gruppe 8A; ``changes={'3': {...}}`` edits the row on file line 3."""
    out = sf.make_rows(ORG, "8A", n=n, trinn=8, dato=DATE)
    for line, cells in changes.items():
        out[int(line) - 2].update(cells)
    return out


def csv_file(name: str, data: list[dict[str, str]] | None = None) -> Build:
    """A UTF-8 ``;`` CSV of ``data`` (default: six good rows)."""
    return lambda d: sf.write_csv(d / name, data if data is not None else rows(),
                                  encoding="utf-8", newline="\n")


def dated(name: str, date: str, line: int = 3) -> Build:
    """Good rows with ``date`` on one line (``0999-05-05``, ``0001-01-01``, ``1900-01-01``)."""
    return csv_file(name, rows(**{str(line): {"dato": date}}))


def huge_cell(name: str, chars: int, *, column: str = "gruppe", line: int = 4,
              quoted: bool = False) -> Build:
    """One cell of ``chars`` characters; ``quoted`` puts delimiters and line breaks in it, so
    that the file takes the careful CSV parser instead of the fast one."""
    def build(d: Path) -> Path:
        data = rows()
        columns = sf.columns_of(data)
        value = ("x;\n" * (chars // 3 + 1))[:chars] if quoted else "x" * chars
        lines = [";".join(columns)]
        for i, row in enumerate(data, start=2):
            cells = [row.get(c, "") for c in columns]
            if i == line:
                cells[columns.index(column)] = f'"{value}"' if quoted else value
            lines.append(";".join(cells))
        path = d / name
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write("\n".join(lines) + "\n")
        return path
    return build


def many_columns(name: str, width: int) -> Build:
    """A header of ``width`` columns (the Spekter columns, then ``extra_1``, ...), two rows."""
    def build(d: Path) -> Path:
        data = rows(2)
        columns = sf.columns_of(data)
        extra = [f"extra_{i}" for i in range(width - len(columns))]
        text = ";".join(columns + extra) + "\n"
        for row in data:
            text += ";".join([row.get(c, "") for c in columns] + [""] * len(extra)) + "\n"
        (d / name).write_text(text, encoding="utf-8")
        return d / name
    return build


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="Spekter" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '</Relationships>')


def xlsx_bomb(name: str, sheet_bytes: int) -> Build:
    """A valid workbook whose one sheet inflates to ``sheet_bytes`` (rows of inline strings), on
    disk about 1/1000 of that: the 1.5 MB XLSX with a 400 MB sheet of issue 14, scaled."""
    def build(d: Path) -> Path:
        path = d / name
        head = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
        cells = "".join(f'<c t="inlineStr"><is><t>{c}</t></is></c>' for c in sf.BASE_COLUMNS)
        row = f"<row>{cells}</row>".encode()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
            book.writestr("[Content_Types].xml", _CONTENT_TYPES)
            book.writestr("_rels/.rels", _RELS)
            book.writestr("xl/workbook.xml", _WORKBOOK)
            book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
            with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
                sheet.write(head.encode())
                block = row * (1_000_000 // len(row))
                written = len(head)
                while written < sheet_bytes:
                    sheet.write(block)
                    written += len(block)
                sheet.write(b"</sheetData></worksheet>")
        return path
    return build


def parquet_rows(name: str, n: int) -> Build:
    """The Spekter columns with ``n`` rows of constant values: a few KB on disk for 10 M rows."""
    def build(d: Path) -> Path:
        columns = ["skole_orgnr", "gruppe", "trinn", "elev_id", "dato", "versjon"]
        frame = pl.select([pl.repeat(1, n, dtype=pl.Int8).alias(c) for c in columns])
        frame.write_parquet(d / name, statistics=False)
        return d / name
    return build
