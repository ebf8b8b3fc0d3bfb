"""Read one CSV file: the polars fast path when the text is plain, else the ``csv`` module
with its checks (garbled quotes, too many fields, truncation, oversized cells)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import polars as pl

from lmp_analytics.ingest.readers.csv_text import (
    check_csv_header,
    decode_text,
    first_line,
    simple_frame,
    sniff_delimiter,
)
from lmp_analytics.ingest.readers.limits import Limits
from lmp_analytics.ingest.readers.table import RawTable, finish_table, is_blank, normalise_column
from lmp_analytics.presentation.messages import rejection

_LINE_END = ("\n", "\r")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


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
            if not is_blank(fields):
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
            raise rejection(path, "cell_over_limit", limit=limits.cell_chars, row=start,
                            column=column) from exc
        raise rejection(path, "csv_unparsable", delimiter=delimiter, line=start, detail=exc,
                        row=start) from exc
    finally:
        csv.field_size_limit(field_limit)
    return records, lines


def _check_field_counts(path: Path, text: str, records: list[list[str]], lines: list[int],
                        delimiter: str) -> None:
    """Too many fields anywhere, or a short last line without a line end, reject the file."""
    width = len(records[0])
    for fields, line in zip(records[1:], lines[1:], strict=True):
        if len(fields) > width and not is_blank(fields[width:]):
            raise rejection(path, "csv_field_count", fields=len(fields), width=width,
                            delimiter=delimiter, row=line)
    last = records[-1]
    if len(records) > 1 and len(last) < width and not text.endswith(_LINE_END):
        raise rejection(path, "csv_truncated", fields=len(last), width=width, row=lines[-1])


def read_csv(path: Path, data: bytes, limits: Limits) -> RawTable:
    text, encoding = decode_text(path, data)
    if not text.strip():
        raise rejection(path, "empty")
    delimiter = sniff_delimiter(first_line(text))
    check_csv_header(path, text, delimiter, limits)
    simple = simple_frame(text, delimiter)
    if simple is not None:
        header, frame = simple
        return finish_table(path, header, frame, "csv", header_line=1,
                       lines=list(range(2, frame.height + 2)), encoding=encoding,
                       delimiter=delimiter)
    records, lines = _parse_records(path, text, delimiter, limits)
    if not records:
        raise rejection(path, "empty")
    _check_field_counts(path, text, records, lines, delimiter)
    header, body = records[0], records[1:]
    width = len(header)
    padded = [(r + [""] * (width - len(r)))[:width] for r in body]
    columns = list(zip(*padded, strict=True)) if padded else [()] * width
    frame = pl.DataFrame(
        {f"c{j}": list(col) for j, col in enumerate(columns)},
        schema=dict.fromkeys((f"c{j}" for j in range(width)), pl.String),
    )
    return finish_table(path, header, frame, "csv", header_line=lines[0], lines=lines[1:],
                   encoding=encoding, delimiter=delimiter)

