"""File-level checks of a batch of exports: each raises or records a
:class:`~lmp_analytics.errors.FileRejected` for its file (nothing of that file is stored) and
decides which columns of a file are read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from lmp_analytics.codebook import (
    NEGATIVE_NOMINATION_RULE_DATE,
    Codebook,
)
from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.mapped import (
    FILE_COL,
    LINE_COL,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
)
from lmp_analytics.ingest.readers import RawTable, check_duplicate_columns, normalise_column
from lmp_analytics.ingest.values import date_expr, item_sets
from lmp_analytics.presentation.messages import message, rejection
from lmp_analytics.registry import orgnr_problem


@dataclass(frozen=True)
class ColumnSets:
    """The codebooks' column names: nomination items, negative ones, every item, every column
    the ingest knows."""

    nominations: set[str]
    negative: set[str]
    items: set[str]
    known: set[str]


def column_sets(books: dict[str, Codebook]) -> ColumnSets:
    """:class:`ColumnSets` of ``books``."""
    items = {i.code for b in books.values() for i in b.items.values()}
    return ColumnSets(
        nominations={i.code for b in books.values() for i in b.nomination_items},
        negative={i.code for b in books.values() for i in b.negative_nomination_items},
        items=items,
        known=set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | items,
    )


def check_headers(tables: Sequence[RawTable], rows_read: list[int],
                  known: set[str]) -> list[FileRejected | None]:
    """File-level checks that need only the header, in map order: columns, duplicates, rows."""
    rejected: list[FileRejected | None] = [None] * len(tables)
    for i, table in enumerate(tables):
        path = str(table.path)
        missing = [c for c in REQUIRED_COLUMNS if c not in table.frame.columns]
        try:
            if missing:
                found = ", ".join(table.frame.columns) or message("notice.none")
                raise rejection(path, "required_columns", missing=", ".join(missing),
                                line=table.header_line, found=found, hint=header_hint(table),
                                row=table.header_line, column=missing[0])
            check_duplicate_columns(table, known)
            if rows_read[i] == 0:
                raise rejection(path, "no_data_rows")
        except FileRejected as exc:
            rejected[i] = exc
    return rejected


def alive(rejected: list[FileRejected | None]) -> pl.Expr:
    """Rows of the files not rejected so far."""
    return pl.col(FILE_COL).is_in([i for i in range(len(rejected)) if rejected[i] is None])


def check_versions_and_schools(data: pl.DataFrame, tables: Sequence[RawTable],
                               books: dict[str, Codebook], roster_orgnrs: set[str],
                               rejected: list[FileRejected | None]) -> None:
    """Reject files with an unknown instrument version (it decides which items exist) or a
    school outside the roster; ``data`` has normalised ``versjon`` and ``skole_orgnr``."""
    unknown = pl.col("versjon").is_not_null() & ~pl.col("versjon").is_in(list(books))
    for i, (line, value) in first_per_file(data.filter(alive(rejected)), unknown,
                                           pl.col("versjon")).items():
        rejected[i] = rejection(tables[i].path, "unknown_version", value=value,
                                expected=", ".join(sorted(books)), row=line, column="versjon")
    outside = pl.col("skole_orgnr").is_not_null() & ~pl.col("skole_orgnr").is_in(
        sorted(roster_orgnrs))
    for i, (line, value) in first_per_file(data.filter(alive(rejected)), outside,
                                           pl.col("skole_orgnr")).items():
        typo = orgnr_problem(value)  # a wrong check digit is a typing error, not a new school
        rejected[i] = rejection(tables[i].path, "not_in_roster_typo" if typo else "not_in_roster",
                                value=value, typo=typo, row=line, column="skole_orgnr")


def file_columns(tables: Sequence[RawTable], live: pl.DataFrame, books: dict[str, Codebook],
                 sets: ColumnSets, dropped: list[str],
                 versions_of: dict[int, tuple[str, ...]], cache: dict[tuple[str, ...], tuple],
                 rejected: list[FileRejected | None],
                 warnings: list[list[str]]) -> dict[int, tuple[list[str], list[str]]]:
    """Per file not rejected: its (answer columns, nomination columns). Checks its nominations
    (may reject it) and warns about columns it ignores; ``cache`` gets the item sets
    (:func:`~lmp_analytics.ingest.values.item_sets`) of each combination of versions."""
    columns_of: dict[int, tuple[list[str], list[str]]] = {}
    for i, table in enumerate(tables):
        if rejected[i] is not None:
            continue
        path = str(table.path)
        versions = versions_of.get(i, ())
        cols = [c for c in table.frame.columns if c not in set(dropped)]
        nomination_cols = [c for c in cols if c in sets.nominations]
        negative_cols = [c for c in nomination_cols if c in sets.negative]
        if negative_cols:
            try:
                _check_negative_columns(path, live.filter(pl.col(FILE_COL) == i), negative_cols,
                                        versions, books)
            except FileRejected as exc:
                rejected[i] = exc
                continue
        if versions not in cache:
            cache[versions] = item_sets(books, versions)
        answer_cols = _column_warnings(path, cols, versions, cache[versions][0], sets,
                                       warnings[i])
        columns_of[i] = (answer_cols, nomination_cols)
    return columns_of


def _check_negative_columns(path: str, frame: pl.DataFrame, negative_cols: list[str],
                            versions: tuple[str, ...], books: dict[str, Codebook]) -> None:
    preventive = {v for v in versions if books[v].formal == "forebyggende"
                  and not books[v].negative_nomination_items}
    check_nomination_rule(path, frame, negative_cols, books)
    if preventive:
        check_nominations(path, frame, negative_cols, preventive)


def _column_warnings(path: str, cols: list[str], versions: tuple[str, ...], item_codes: dict,
                     sets: ColumnSets, warnings: list[str]) -> list[str]:
    """The file's answer columns; warnings for unknown columns and items of other versions."""
    extra = [c for c in cols if c not in sets.known]
    if extra:
        warnings.append(message("notice.unknown_columns_ignored", path=path,
                                columns=", ".join(extra)))
    answer_cols = [c for c in cols if c in item_codes]
    not_in_versions = [c for c in cols
                       if c in sets.items and c not in item_codes and c not in sets.nominations]
    if not_in_versions:
        warnings.append(message("notice.items_of_other_versions", path=path,
                                columns=", ".join(not_in_versions),
                                versions=", ".join(versions)))
    return answer_cols


def header_hint(table: RawTable) -> str:
    """Why the required columns may be missing: header further down, a transposed sheet, or a
    wrong delimiter."""
    wanted = set(REQUIRED_COLUMNS)
    for line, cells in table.head[1:]:
        if len({normalise_column(c) for c in cells if c is not None} & wanted) >= 3:
            return message("notice.hint_header_below", line=line)
    first_cells = {normalise_column(cells[0]) for _, cells in table.head if cells and cells[0]}
    if len(first_cells & wanted) >= 3:
        return message("notice.hint_transposed")
    if table.file_format == "xlsx":
        return message("notice.hint_xlsx_header")
    if len(table.frame.columns) == 1:
        return message("notice.hint_delimiter", delimiter=table.delimiter)
    return ""


def first_per_file(frame: pl.DataFrame, mask: pl.Expr, value: pl.Expr) -> dict[int, tuple]:
    """file -> (line, value) of its first row where ``mask`` holds."""
    hits = frame.filter(mask).group_by(FILE_COL, maintain_order=True).agg(
        pl.first(LINE_COL), value.first().alias("value"))
    return {f: (line, v) for f, line, v in hits.iter_rows()}


def check_nominations(path: str, frame: pl.DataFrame, nomination_cols: list[str],
                      preventive: set[str]) -> None:
    """Reject negative-nomination columns in a preventive ('forebyggende') export."""
    is_prev = frame.get_column("versjon").is_in(sorted(preventive))
    for col in nomination_cols:
        filled = is_prev & frame.get_column(col).is_not_null()
        if filled.any() or is_prev.all():
            raise rejection(
                path, "negative_nominations_preventive", name=col, version=sorted(preventive)[0],
                row=int(frame.get_column(LINE_COL).filter(filled)[0]) if filled.any() else None,
                column=col)


def check_nomination_rule(path: str, frame: pl.DataFrame, negative_cols: list[str],
                           books: dict[str, Codebook]) -> None:
    """Reject a round dated on or after :data:`NEGATIVE_NOMINATION_RULE_DATE` that carries
    negative nominations and is not a concrete-suspicion round, whatever its version label.

    A row is bound by the rule when its version is not a ``mistanke`` version and its date is on
    or after the rule's date; the file is rejected when such a row names anyone, or when every
    row is bound (the round carries the column). Rows without a readable date are left to the
    row checks. Older rounds keep their nominations: the instrument then asked them.
    """
    suspicion = sorted(v for v, b in books.items() if b.formal == "mistanke")
    bound = (~pl.col("versjon").is_in(suspicion)
             & (date_expr() >= pl.lit(NEGATIVE_NOMINATION_RULE_DATE))).fill_null(False)
    flags = frame.select(bound.alias("_bound"), pl.col(LINE_COL), "versjon",
                         pl.col("dato"), *negative_cols)
    is_bound = flags.get_column("_bound")
    if not is_bound.any():
        return
    rule = NEGATIVE_NOMINATION_RULE_DATE.isoformat()
    for col in negative_cols:
        filled = is_bound & flags.get_column(col).is_not_null() & (
            flags.get_column(col).str.strip_chars() != "")
        if filled.any() or is_bound.all():
            at = flags.filter(filled if filled.any() else is_bound).row(0, named=True)
            raise rejection(
                path, "negative_nominations_rule", name=col, date=at["dato"],
                version=at["versjon"], rule=rule,
                regulation=message("notice.nomination_regulation"), row=int(at[LINE_COL]),
                column=col)


def _ordered_union(lists) -> list[str]:
    return list(dict.fromkeys(c for cols in lists for c in cols))
