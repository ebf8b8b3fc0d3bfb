"""The table every reader returns: text cells, normalised column names, file lines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from lmp_analytics.presentation.messages import message, rejection

_TRANSLIT = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e"})
_NON_WORD = re.compile(r"[\s\-\u2013\u2014]+")
HEAD_ROWS = 20


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



def is_blank(cells: Sequence[str | None]) -> bool:
    return not any(c is not None and str(c).strip() for c in cells)



def finish_table(path: Path, header: Sequence[object], frame: pl.DataFrame, fmt: str,
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
                warnings.append(message("notice.unnamed_column_ignored", path=path,
                                        position=position, line=header_line))
            continue
        positions.setdefault(name, []).append(position)
        if len(positions[name]) == 1:
            keep.append((raw_col, name))
    head_lines = kwargs.get("lines") or range(header_line + 1, header_line + frame.height + 1)
    head = [(header_line, tuple(None if h is None else str(h) for h in header))]
    head += list(zip(head_lines, frame.head(HEAD_ROWS).iter_rows(), strict=False))
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
        where = message("notice.and", head=", ".join(str(p) for p in places[:-1]),
                        last=places[-1])
        if name in used:
            raise rejection(table.path, "duplicate_column", name=name, where=where,
                            line=table.header_line, row=table.header_line, column=name)
        table.warnings.append(message("notice.duplicate_column_ignored", path=table.path,
                                      name=name, where=where))

