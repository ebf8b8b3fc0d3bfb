"""Read the files people export into all-text polars frames.

Formats: CSV (``;`` or ``,``, sniffed; UTF-8, UTF-8 with BOM or Windows-1252, sniffed), XLSX (first
sheet) and Parquet. Every cell is read as text so that nothing is guessed before the mapping step
(leading zeros of ``kommunenummer`` survive). Column names are normalised (case, surrounding and
inner white space, Norwegian letters) so that ``Kjønn `` and ``kjonn`` are the same column.
Problems with the file as a whole raise :class:`~lmp_analytics.errors.FileRejected`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from lmp_analytics.errors import FileRejected

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SUPPORTED_SUFFIXES = CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES

_UTF8_BOM = b"\xef\xbb\xbf"
_TRANSLIT = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e"})
_NON_WORD = re.compile(r"[\s\-\u2013\u2014]+")


def normalise_column(name: str) -> str:
    """``' Kjønn '`` -> ``kjonn``; ``'Skole orgnr'`` -> ``skole_orgnr``."""
    text = str(name).replace("\ufeff", "").strip().casefold().translate(_TRANSLIT)
    return _NON_WORD.sub("_", text).strip("_")


@dataclass
class RawTable:
    """One input file as text cells, with what the sniffing found.

    ``first_row`` is the 1-based line of the first data row in the file (the header is line 1),
    so data row ``i`` (0-based) is line ``first_row + i``.
    """

    path: Path
    frame: pl.DataFrame
    file_format: str
    encoding: str | None = None
    delimiter: str | None = None
    first_row: int = 2
    original_columns: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def line_of(self, index: int) -> int:
        """The file line (header = 1) of 0-based data row ``index``."""
        return self.first_row + index


def decode_text(path: Path, data: bytes) -> tuple[str, str]:
    """Sniff the encoding: BOM -> UTF-8-BOM, valid UTF-8, else Windows-1252; else reject."""
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


def _finish(path: Path, frame: pl.DataFrame, fmt: str, **kwargs) -> RawTable:
    original = {normalise_column(c): c for c in frame.columns}
    names = [normalise_column(c) for c in frame.columns]
    seen: set[str] = set()
    for raw_name, name in zip(frame.columns, names, strict=True):
        if name == "":
            if frame.get_column(raw_name).null_count() == frame.height:
                continue
            raise FileRejected(str(path), "has a column with no name in the header row (line 1)")
        if name in seen:
            raise FileRejected(
                str(path), f"has the column '{name}' twice in the header row", column=name
            )
        seen.add(name)
    keep = [(c, n) for c, n in zip(frame.columns, names, strict=True) if n]
    frame = frame.select([pl.col(c).alias(n) for c, n in keep])
    return RawTable(path=path, frame=frame, file_format=fmt, original_columns=original, **kwargs)


def _read_csv(path: Path, data: bytes) -> RawTable:
    text, encoding = decode_text(path, data)
    if not text.strip():
        raise FileRejected(str(path), "is empty (no header row and no data)")
    lines = text.splitlines()
    header = lines[0]
    delimiter = sniff_delimiter(header)
    body = text.encode("utf-8")
    try:
        frame = pl.read_csv(
            io.BytesIO(body),
            separator=delimiter,
            infer_schema=False,
            truncate_ragged_lines=False,
            raise_if_empty=True,
            quote_char='"',
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        first = str(exc).splitlines()[0]
        raise FileRejected(
            str(path),
            f"cannot be parsed as a '{delimiter}'-separated CSV file ({first}); is it truncated, "
            "garbled or does a quote lack its closing quote?",
        ) from exc
    table = _finish(path, frame, "csv", encoding=encoding, delimiter=delimiter)
    # A last line with fewer fields than the header means the export was cut off.
    last = lines[-1] if lines else ""
    if len(lines) > 1 and last.strip() and not text.endswith(("\n", "\r")):
        n_fields = last.count(delimiter) + 1
        if n_fields < len(header.split(delimiter)) and '"' not in last:
            raise FileRejected(
                str(path),
                f"looks truncated: its last line has {n_fields} of "
                f"{len(header.split(delimiter))} fields and no line end",
                row=table.line_of(frame.height - 1),
            )
    return table


def _read_excel(path: Path) -> RawTable:
    try:
        frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise FileRejected(
            str(path), f"cannot be read as an Excel workbook ({type(exc).__name__}: {exc})"
        ) from exc
    frame = frame.select(pl.all().cast(pl.String))
    return _finish(path, frame, "xlsx")


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several error types for broken files
        raise FileRejected(str(path), f"cannot be read as Parquet ({exc})") from exc
    casts = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            casts.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif dtype.is_temporal():
            casts.append(pl.col(name).dt.strftime("%Y-%m-%d %H:%M:%S"))
        else:
            casts.append(pl.col(name).cast(pl.String))
    return _finish(path, frame.select(casts), "parquet")


def read_table(path: str | Path) -> RawTable:
    """Read one input file as text cells; FileRejected if it cannot be read as a table."""
    path = Path(path)
    if not path.exists():
        raise FileRejected(str(path), "does not exist")
    if path.is_dir():
        raise FileRejected(str(path), "is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        table = _read_csv(path, path.read_bytes())
    elif suffix in EXCEL_SUFFIXES:
        table = _read_excel(path)
    elif suffix in PARQUET_SUFFIXES:
        table = _read_parquet(path)
    else:
        raise FileRejected(
            str(path),
            f"has the unsupported extension '{path.suffix}'; expected .csv, .xlsx or .parquet",
        )
    if not table.frame.columns:
        raise FileRejected(str(path), "has no columns")
    # Empty strings (from Excel or Parquet) mean missing, as in CSV.
    table.frame = table.frame.with_columns(
        pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in table.frame.columns
    )
    return table
