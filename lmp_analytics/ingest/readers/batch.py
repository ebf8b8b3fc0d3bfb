"""Read many files at once: plain CSV files that share a header line are parsed together."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.readers.csv_text import (
    check_csv_header,
    decode_text,
    first_line,
    parse_simple,
    simple_split,
    sniff_delimiter,
)
from lmp_analytics.ingest.readers.files import CSV_SUFFIXES, read_or_refusal
from lmp_analytics.ingest.readers.limits import Limits, check_cells
from lmp_analytics.ingest.readers.table import HEAD_ROWS, RawTable, finish_table, normalise_column


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
                delimiter = sniff_delimiter(first_line(text))
                try:
                    check_csv_header(path, text, delimiter, limits)
                except FileRejected as exc:
                    out[i] = exc
                    continue
                split = simple_split(text, delimiter)
                if split is not None:
                    header_line = delimiter.join(split[0])
                    groups.setdefault((header_line, delimiter), []).append(
                        (i, split[1], split[2], encoding))
                    continue
        out[i] = read_or_refusal(path, data, limits)
    for (header_line, delimiter), members in groups.items():
        tables = _read_group(header_line.split(delimiter), delimiter,
                             [(items[i][0], body, lines, enc) for i, body, lines, enc in members],
                             limits)
        for (i, *_), table in zip(members, tables or [None] * len(members), strict=True):
            out[i] = table if table is not None else read_or_refusal(*items[i], limits)
    return out  # type: ignore[return-value]



def _read_group(header: list[str], delimiter: str, members: list[tuple[Path, str, int, str]],
                limits: Limits) -> list[RawTable | FileRejected] | None:
    """Tables of files that share a header line: one parse, one naming, a slice per file. None
    (read each file alone) when the header has an unnamed column or a line is not simple."""
    names = [normalise_column(h) for h in header]
    if "" in names:  # unnamed columns warn per file about their data: read those files alone
        return None
    total = sum(lines for _, _, lines, _ in members)
    frame = parse_simple("".join(body for _, body, _, _ in members), delimiter, len(header),
                          total)
    if frame is None:
        return None
    longest = frame.select(pl.all().str.len_chars().max().fill_null(0)).row(0) if total else ()
    oversized = any(length > limits.cell_chars for length in longest)
    template = finish_table(members[0][0], header, frame.clear(), "csv")
    named = frame.select([pl.col(f"c{names.index(n)}").alias(n)  # first of repeated names
                          for n in template.frame.columns])
    out, offset = [], 0
    head0 = [(1, tuple(header))]
    for path, _, lines, encoding in members:
        numbers = list(range(2, lines + 2))
        head = head0 + list(zip(numbers, frame.slice(offset, HEAD_ROWS).iter_rows(),
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

