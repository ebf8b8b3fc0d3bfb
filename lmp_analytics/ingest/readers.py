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

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

from lmp_analytics import config
from lmp_analytics.errors import FileRejected

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SUPPORTED_SUFFIXES = CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_MAGIC = {b"PK\x03\x04": "an Excel workbook or another zip file", b"PAR1": "a Parquet file",
          b"\xd0\xcf\x11\xe0": "an old Excel (.xls) workbook"}
_TRANSLIT = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e"})
_NON_WORD = re.compile(r"[\s\-\u2013\u2014]+")
_LINE_END = ("\n", "\r")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HEAD_ROWS = 20
_XLSX_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}


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


def _megabytes(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _too_many_columns(path: Path, width: int, limits: Limits, line: int = 1) -> FileRejected:
    return FileRejected(
        str(path), f"has {width:,} columns in its header row, more than the limit of "
        f"{limits.columns:,} (LMP_MAX_COLUMNS); a Spekter export has about 30", row=line)


def _too_many_rows(path: Path, rows: int, limits: Limits) -> FileRejected:
    return FileRejected(
        str(path), f"has {rows:,} data rows, more than the limit of {limits.rows:,} per file "
        "(LMP_MAX_ROWS); split it into smaller files")


def check_csv_header(path: Path, text: str, delimiter: str, limits: Limits) -> None:
    """The CSV header line within the column and cell limits, before the body is parsed."""
    header = _first_line(text)
    width = header.count(delimiter) + 1
    if width > limits.columns:
        raise _too_many_columns(path, width, limits)
    if len(header) > limits.cell_chars:
        longest = max(header.split(delimiter), key=len)
        if len(longest) > limits.cell_chars:
            raise FileRejected(
                str(path), f"has a column name of {len(longest):,} characters in its header row, "
                f"more than the limit of {limits.cell_chars:,} per cell (LMP_MAX_CELL_CHARS)",
                row=1)


def check_cells(table: RawTable, limits: Limits) -> None:
    """Row count and cell length of a parsed table within the limits; FileRejected (with row and
    column of the first cell that is too long) otherwise."""
    frame = table.frame
    if frame.height > limits.rows:
        raise _too_many_rows(table.path, frame.height, limits)
    if frame.width > limits.columns:
        raise _too_many_columns(table.path, frame.width, limits, table.header_line)
    if not frame.height or not frame.width:
        return
    longest = frame.select(pl.all().str.len_chars().max().fill_null(0)).row(0)
    for name, length in zip(frame.columns, longest, strict=True):
        if length > limits.cell_chars:
            index = int(frame.get_column(name).str.len_chars().arg_max())
            raise FileRejected(
                str(table.path), f"has a cell of {length:,} characters, more than the limit of "
                f"{limits.cell_chars:,} per cell (LMP_MAX_CELL_CHARS); is the file garbled, or "
                "is a quote missing its closing quote?",
                row=table.line_of(index), column=name)


def check_xlsx_size(path: Path, limits: Limits) -> None:
    """The workbook's decompressed size within ``limits.xlsx_bytes``, before it is opened: first
    the sizes its zip directory declares, then the bytes its members really inflate to (counted
    while streaming, stopping at the limit), so that a zip bomb is refused with bounded memory."""
    limit = limits.xlsx_bytes

    def refuse(size: int, what: str) -> FileRejected:
        return FileRejected(
            str(path), f"decompresses to {what}{_megabytes(size)}, more than the limit of "
            f"{_megabytes(limit)} for a workbook (LMP_MAX_XLSX_BYTES); save the sheet as CSV, "
            "or split it")

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
                            raise refuse(total, "more than ")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError, zlib.error) as exc:  # a broken or encrypted zip
        raise FileRejected(
            str(path), f"cannot be read as an Excel workbook ({type(exc).__name__}: {exc})"
        ) from exc


def check_parquet_metadata(path: Path, limits: Limits) -> None:
    """Row count, width and uncompressed size from the Parquet footer, before any data is read."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow raises several error types for broken files
        raise FileRejected(str(path), f"cannot be read as Parquet ({exc})") from exc
    if meta.num_columns > limits.columns:
        raise _too_many_columns(path, meta.num_columns, limits)
    if meta.num_rows > limits.rows:
        raise _too_many_rows(path, meta.num_rows, limits)
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > limits.parquet_bytes:
        raise FileRejected(
            str(path), f"holds {_megabytes(size)} of uncompressed data, more than the limit of "
            f"{_megabytes(limits.parquet_bytes)} (LMP_MAX_PARQUET_BYTES); split it")


def normalise_column(name: str) -> str:
    """``' Kjønn '`` -> ``kjonn``; ``'Skole orgnr'`` -> ``skole_orgnr``."""
    text = str(name).replace("\ufeff", "").strip().casefold().translate(_TRANSLIT)
    return _NON_WORD.sub("_", text).strip("_")


@dataclass
class RawTable:
    """One input file as text cells, with what the sniffing found.

    ``lines`` holds the 1-based line (CSV) or sheet row (XLSX) of every data row, header = 1;
    without it data row ``i`` (0-based) is line ``first_row + i``. ``head`` keeps the first raw
    rows (line, cells; header included) to explain a header that is not where it should be.
    ``duplicates``: normalised column names that occur more than once (1-based positions); the
    first is kept, and :func:`check_duplicate_columns` decides whether that is fatal.
    """

    path: Path
    frame: pl.DataFrame
    file_format: str
    encoding: str | None = None
    delimiter: str | None = None
    first_row: int = 2
    original_columns: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    lines: list[int] | None = None
    head: list[tuple[int, tuple[str | None, ...]]] = field(default_factory=list)
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    header_line: int = 1

    def line_of(self, index: int) -> int:
        """The file line (header = 1) of 0-based data row ``index``."""
        if self.lines is not None:
            return self.lines[index]
        return self.first_row + index

    def line_numbers(self) -> pl.Series:
        """The file line of every data row, in row order."""
        if self.lines is not None:
            return pl.Series("_line", self.lines, dtype=pl.Int64)
        return pl.int_range(self.first_row, self.first_row + self.frame.height,
                            dtype=pl.Int64, eager=True).alias("_line")


def decode_text(path: Path, data: bytes) -> tuple[str, str]:
    """Sniff the encoding: BOM -> UTF-8-BOM, valid UTF-8, else Windows-1252; else reject."""
    if data.startswith(_UTF16_BOMS):
        raise FileRejected(
            str(path),
            "is UTF-16 text (Excel's 'Unicode text'), which is not supported; expected UTF-8, "
            "UTF-8 with BOM or Windows-1252: save it as 'CSV UTF-8' or 'CSV (semicolon)'",
        )
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise FileRejected(
                str(path), f"is {what}, not CSV text; give it the right extension (.xlsx or "
                ".parquet) or save it as 'CSV UTF-8'",
            )
    if b"\x00" in data[:4096]:
        raise FileRejected(
            str(path),
            "is not a text file in UTF-8 or Windows-1252 (it contains NUL bytes; UTF-16 "
            "exports and binary files are not supported: save it as CSV UTF-8)",
        )
    if data.startswith(_UTF8_BOM):
        try:
            return data[len(_UTF8_BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise FileRejected(
                str(path), f"starts with a UTF-8 byte-order mark but is not valid UTF-8 ({exc})"
            ) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise FileRejected(
            str(path),
            "is neither UTF-8 nor Windows-1252 text (byte "
            f"0x{data[exc.start]:02x} at offset {exc.start} is undefined in both); "
            "save it as CSV UTF-8 or CSV (semicolon) from Excel",
        ) from exc


def sniff_delimiter(header_line: str) -> str:
    """The most frequent of ``;``, ``,`` and tab in the header line (``;`` on a tie)."""
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] > 0 else ";"


def _is_blank(cells: Sequence[str | None]) -> bool:
    return not any(c is not None and str(c).strip() for c in cells)


def _first_line(text: str) -> str:
    """The first line with a value (lines end at CRLF, CR or LF), without splitting the text."""
    pos = 0
    while True:
        end = _LINE_BREAK.search(text, pos)
        line = text[pos:end.start()] if end else text[pos:]
        if line.strip(" ;,\t"):
            return line
        if end is None:
            return ""
        pos = end.end()


def _simple_split(text: str, delimiter: str) -> tuple[list[str], str, int] | None:
    """(header cells, body text, body lines) of a CSV text without quotes, lone CRs or NULs
    whose delimiters add up to full lines and that ends with a line end; None otherwise."""
    if '"' in text or "\x00" in text or not text.endswith("\n"):
        return None
    if text.count("\r") != text.count("\r\n"):
        return None
    body_start = text.find("\n") + 1
    header = text[: body_start - 1].removesuffix("\r").split(delimiter)
    width = len(header)
    if not "".join(header).strip():
        return None
    body = text[body_start:]
    lines = body.count("\n")
    if text.count(delimiter) != (lines + 1) * (width - 1):
        return None
    return header, body, lines


def _parse_simple(body: str, delimiter: str, width: int, lines: int) -> pl.DataFrame | None:
    """The cells of simple CSV body lines, exactly as ``csv`` would split them; None when a line
    is not (ragged, blank, or polars disagrees about the line count)."""
    names = [f"c{j}" for j in range(width)]
    if lines == 0:
        return pl.DataFrame(schema=dict.fromkeys(names, pl.String))
    try:
        frame = pl.read_csv(body.encode("utf-8"), has_header=False, separator=delimiter,
                            quote_char=None, infer_schema=False, new_columns=names,
                            raise_if_empty=False, empty_string_is_null=False)
    except pl.exceptions.PolarsError:
        return None
    if frame.height != lines or frame.width != width:
        return None
    # Delimiters add up, but every line must have exactly width - 1 of them and a value.
    # (Python's str.strip, which decides blank records, also strips \x1c-\x1f.)
    row = pl.concat_str(pl.all(), separator="")
    if frame.select(row.str.contains(r"^[\s\x1c-\x1f]*$").any()).item():
        return None
    return frame


def _simple_frame(text: str, delimiter: str) -> tuple[list[str], pl.DataFrame] | None:
    """Header and body of a CSV text without quotes, blank lines, lone CRs or ragged lines, parsed
    by polars (cells exactly as ``csv`` would split them); None when any of that does not hold, and
    :func:`_parse_records` with its checks and messages reads the file instead."""
    split = _simple_split(text, delimiter)
    if split is None:
        return None
    header, body, lines = split
    frame = _parse_simple(body, delimiter, len(header), lines)
    return None if frame is None else (header, frame)


def read_many(items: Sequence[tuple[Path, bytes]],
              limits: Limits | None = None) -> list[RawTable | FileRejected]:
    """:func:`read_cells` of many files (path, bytes): plain CSV files with the same header line
    and delimiter are parsed in one go (a national school year is ~5,000 small exports with a
    handful of different headers), every other file on its own. Same tables, same refusals."""
    limits = limits or Limits.current()
    out: list[RawTable | FileRejected | None] = [None] * len(items)
    groups: dict[tuple[str, str], list[tuple[int, str, int, str]]] = {}
    for i, (path, data) in enumerate(items):
        if path.suffix.lower() in CSV_SUFFIXES and path.is_file():
            try:
                text, encoding = decode_text(path, data)
            except FileRejected as exc:
                out[i] = exc
                continue
            if text.strip():
                delimiter = sniff_delimiter(_first_line(text))
                try:
                    check_csv_header(path, text, delimiter, limits)
                except FileRejected as exc:
                    out[i] = exc
                    continue
                split = _simple_split(text, delimiter)
                if split is not None:
                    header_line = delimiter.join(split[0])
                    groups.setdefault((header_line, delimiter), []).append(
                        (i, split[1], split[2], encoding))
                    continue
        out[i] = _read_or_refusal(path, data, limits)
    for (header_line, delimiter), members in groups.items():
        tables = _read_group(header_line.split(delimiter), delimiter,
                             [(items[i][0], body, lines, enc) for i, body, lines, enc in members],
                             limits)
        for (i, *_), table in zip(members, tables or [None] * len(members), strict=True):
            out[i] = table if table is not None else _read_or_refusal(*items[i], limits)
    return out  # type: ignore[return-value]


def _read_or_refusal(path: Path, data: bytes, limits: Limits) -> RawTable | FileRejected:
    try:
        return read_cells(path, data, limits)
    except FileRejected as exc:
        return exc


def _read_group(header: list[str], delimiter: str, members: list[tuple[Path, str, int, str]],
                limits: Limits) -> list[RawTable | FileRejected] | None:
    """Tables of files that share a header line: one parse, one naming, a slice per file. None
    (read each file alone) when the header has an unnamed column or a line is not simple."""
    names = [normalise_column(h) for h in header]
    if "" in names:  # unnamed columns warn per file about their data: read those files alone
        return None
    total = sum(lines for _, _, lines, _ in members)
    frame = _parse_simple("".join(body for _, body, _, _ in members), delimiter, len(header),
                          total)
    if frame is None:
        return None
    longest = frame.select(pl.all().str.len_chars().max().fill_null(0)).row(0) if total else ()
    oversized = any(length > limits.cell_chars for length in longest)
    template = _finish(members[0][0], header, frame.clear(), "csv")
    named = frame.select([pl.col(f"c{names.index(n)}").alias(n)  # first of repeated names
                          for n in template.frame.columns])
    out, offset = [], 0
    head0 = [(1, tuple(header))]
    for path, _, lines, encoding in members:
        numbers = list(range(2, lines + 2))
        head = head0 + list(zip(numbers, frame.slice(offset, _HEAD_ROWS).iter_rows(),
                                strict=False))
        table = RawTable(
            path=path, frame=named.slice(offset, lines), file_format="csv", encoding=encoding,
            delimiter=delimiter, original_columns=dict(template.original_columns),
            warnings=[], lines=numbers, head=head,
            duplicates={n: list(p) for n, p in template.duplicates.items()}, header_line=1,
        )
        offset += lines
        try:
            if oversized or lines > limits.rows:  # else every file is within the limits
                check_cells(table, limits)
        except FileRejected as exc:
            out.append(exc)
            continue
        out.append(table)
    return out


def _oversized_field(text: str, line: int, delimiter: str, limit: int) -> int | None:
    """0-based position of the first field longer than ``limit`` characters in the CSV record
    that starts on ``line`` (None if there is none); reads at most that record."""
    pos = 0
    for _ in range(line - 1):
        end = _LINE_BREAK.search(text, pos)
        if end is None:
            return None
        pos = end.end()
    field, length, quoted, i, n = 0, 0, False, pos, len(text)
    while i < n:
        char = text[i]
        if quoted:
            if char == '"' and text[i + 1:i + 2] == '"':
                i += 1
            elif char == '"':
                quoted, length = False, length - 1
            length += 1
        elif char == '"':
            quoted = True
        elif char == delimiter:
            field, length = field + 1, 0
        elif char in _LINE_END:
            return None
        else:
            length += 1
        if length > limit:
            return field
        i += 1
    return None


def _parse_records(path: Path, text: str, delimiter: str,
                   limits: Limits) -> tuple[list[list[str]], list[int]]:
    """CSV records (blank ones dropped) with the line each starts on; FileRejected if garbled or
    a cell is longer than the limit (the parser stops at the limit, so memory stays bounded)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    start = 1
    field_limit = csv.field_size_limit(limits.cell_chars)
    try:
        for fields in reader:
            if not _is_blank(fields):
                records.append(fields)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            index = _oversized_field(text, start, delimiter, limits.cell_chars)
            header = records[0] if records and lines[0] < start else None
            column = (normalise_column(header[index]) or None
                      if header is not None and index is not None and index < len(header)
                      else None)
            raise FileRejected(
                str(path), f"has a cell of more than {limits.cell_chars:,} characters, the "
                "limit per cell (LMP_MAX_CELL_CHARS); is the file garbled, or is a quote missing "
                "its closing quote?", row=start, column=column) from exc
        raise FileRejected(
            str(path),
            f"cannot be parsed as a '{delimiter}'-separated CSV file from line {start} on "
            f"({exc}); is it truncated or garbled, or does a quote lack its closing quote?",
            row=start,
        ) from exc
    finally:
        csv.field_size_limit(field_limit)
    return records, lines


def _check_field_counts(path: Path, text: str, records: list[list[str]], lines: list[int],
                        delimiter: str) -> None:
    """Too many fields anywhere, or a short last line without a line end, reject the file."""
    width = len(records[0])
    for fields, line in zip(records[1:], lines[1:], strict=True):
        if len(fields) > width and not _is_blank(fields[width:]):
            raise FileRejected(
                str(path),
                f"has {len(fields)} fields on this line but {width} columns in the header; "
                f"is a value with '{delimiter}' in it missing its quotes, or is the line garbled?",
                row=line,
            )
    last = records[-1]
    if len(records) > 1 and len(last) < width and not text.endswith(_LINE_END):
        raise FileRejected(
            str(path),
            f"looks truncated: its last line has {len(last)} of {width} fields and no line end",
            row=lines[-1],
        )


def _read_csv(path: Path, data: bytes, limits: Limits) -> RawTable:
    text, encoding = decode_text(path, data)
    if not text.strip():
        raise FileRejected(str(path), "is empty (no header row and no data)")
    delimiter = sniff_delimiter(_first_line(text))
    check_csv_header(path, text, delimiter, limits)
    simple = _simple_frame(text, delimiter)
    if simple is not None:
        header, frame = simple
        return _finish(path, header, frame, "csv", header_line=1,
                       lines=list(range(2, frame.height + 2)), encoding=encoding,
                       delimiter=delimiter)
    records, lines = _parse_records(path, text, delimiter, limits)
    if not records:
        raise FileRejected(str(path), "is empty (no header row and no data)")
    _check_field_counts(path, text, records, lines, delimiter)
    header, body = records[0], records[1:]
    width = len(header)
    padded = [(r + [""] * (width - len(r)))[:width] for r in body]
    columns = list(zip(*padded, strict=True)) if padded else [()] * width
    frame = pl.DataFrame(
        {f"c{j}": list(col) for j, col in enumerate(columns)},
        schema=dict.fromkeys((f"c{j}" for j in range(width)), pl.String),
    )
    return _finish(path, header, frame, "csv", header_line=lines[0], lines=lines[1:],
                   encoding=encoding, delimiter=delimiter)


def _finish(path: Path, header: Sequence[object], frame: pl.DataFrame, fmt: str,
            header_line: int = 1, **kwargs) -> RawTable:
    """Name the columns from ``header``; unnamed columns are dropped (with a warning if they hold
    data), repeated names are recorded in ``duplicates`` (the first one is kept)."""
    names = [normalise_column(h) if h is not None else "" for h in header]
    warnings: list[str] = []
    keep: list[tuple[str, str]] = []
    positions: dict[str, list[int]] = {}
    for position, (raw_col, name) in enumerate(zip(frame.columns, names, strict=True), 1):
        if name == "":
            if frame.get_column(raw_col).str.strip_chars().fill_null("").str.len_chars().sum():
                warnings.append(f"{path}: ignored column {position}, which has data but no name "
                                f"in the header row (line {header_line})")
            continue
        positions.setdefault(name, []).append(position)
        if len(positions[name]) == 1:
            keep.append((raw_col, name))
    head_lines = kwargs.get("lines") or range(header_line + 1, header_line + frame.height + 1)
    head = [(header_line, tuple(None if h is None else str(h) for h in header))]
    head += list(zip(head_lines, frame.head(_HEAD_ROWS).iter_rows(), strict=False))
    table = RawTable(
        path=path, frame=frame.select([pl.col(c).alias(n) for c, n in keep]), file_format=fmt,
        original_columns={n: str(header[p[0] - 1]) for n, p in positions.items()},
        warnings=warnings, head=head, header_line=header_line,
        duplicates={n: p for n, p in positions.items() if len(p) > 1}, **kwargs,
    )
    return table


def check_duplicate_columns(table: RawTable, used: set[str]) -> None:
    """A column the ingest uses must occur once; other repeated columns are ignored (warning)."""
    for name, places in table.duplicates.items():
        where = " and ".join(str(p) for p in places)
        if name in used:
            raise FileRejected(
                str(table.path),
                f"has the column '{name}' more than once in the header row (columns {where}, "
                f"line {table.header_line}); expected each column once",
                row=table.header_line, column=name,
            )
        table.warnings.append(f"{table.path}: the column '{name}' occurs more than once "
                              f"(columns {where}); it is not used and was ignored")


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


def _read_excel(path: Path, limits: Limits) -> RawTable:
    import fastexcel

    check_xlsx_size(path, limits)
    try:
        sheet = fastexcel.read_excel(path).load_sheet(0, header_row=None, dtypes="string")
        grid = sheet.to_polars()
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise FileRejected(
            str(path), f"cannot be read as an Excel workbook ({type(exc).__name__}: {exc})"
        ) from exc
    if grid.height == 0 or _is_blank(grid.row(0)):
        raise FileRejected(str(path), "has an empty first sheet (no header row and no data)")
    grid = grid.select(pl.all().cast(pl.String))
    body = grid.slice(1)
    top = _sheet_first_row(path)  # sheet rows, even when the sheet starts with empty rows
    return _finish(path, grid.row(0), body, "xlsx", header_line=top,
                   lines=list(range(top + 1, top + 1 + body.height)))


def _parquet_text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.Date:
        return col.dt.strftime("%Y-%m-%d")
    if dtype == pl.Datetime:
        return col.dt.strftime("%Y-%m-%d %H:%M:%S")
    if dtype.is_float():  # 974590123.0 -> '974590123'
        whole = pl.when(col.is_finite() & (col == col.round())).then(
            col.cast(pl.Int64, strict=False).cast(pl.String))
        return pl.coalesce(whole, col.cast(pl.String))
    return col.cast(pl.String)


def _read_parquet(path: Path, limits: Limits) -> RawTable:
    check_parquet_metadata(path, limits)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several error types for broken files
        raise FileRejected(str(path), f"cannot be read as Parquet ({exc})") from exc
    nested = [n for n, t in frame.schema.items() if t.is_nested()]
    if nested:
        raise FileRejected(
            str(path), f"has column(s) {', '.join(nested)} of a nested type (list/struct); "
            "expected one plain value per cell", column=nested[0],
        )
    columns = []
    for i, (name, dtype) in enumerate(frame.schema.items()):
        try:
            columns.append(frame.select(_parquet_text(name, dtype).alias(f"c{i}")).to_series())
        except pl.exceptions.PolarsError as exc:
            raise FileRejected(
                str(path), f"has a column of type {dtype} that cannot be read as text "
                f"({str(exc).splitlines()[0]}); expected text, numbers or dates", column=name,
            ) from exc
    return _finish(path, frame.columns, pl.DataFrame(columns), "parquet")


def _blank_to_null(table: RawTable) -> RawTable:
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
    return _blank_to_null(read_cells(path))


def read_cells(path: str | Path, data: bytes | None = None,
               limits: Limits | None = None) -> RawTable:
    """:func:`read_table` without its last step (blank cells to null, all-blank rows dropped),
    which :func:`lmp_analytics.ingest.mapping.map_tables` does for many files at once. ``data``:
    the file's bytes when the caller has read them already; ``limits`` default to the settings."""
    limits = limits or Limits.current()
    path = Path(path)
    if not path.exists():
        raise FileRejected(str(path), "does not exist")
    if path.is_dir():
        raise FileRejected(str(path), "is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        table = _read_csv(path, path.read_bytes() if data is None else data, limits)
    elif suffix in EXCEL_SUFFIXES:
        table = _read_excel(path, limits)
    elif suffix in PARQUET_SUFFIXES:
        table = _read_parquet(path, limits)
    else:
        raise FileRejected(
            str(path),
            f"has the unsupported extension '{path.suffix}'; expected .csv, .xlsx or .parquet"
            + (" (save an old .xls workbook as .xlsx)" if suffix == ".xls" else ""),
        )
    if not table.frame.columns:
        raise FileRejected(str(path), "has no named columns in its header row (line 1)", row=1)
    check_cells(table, limits)
    return table
