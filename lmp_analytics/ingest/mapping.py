"""Map Spekter exports onto the codebook: typed columns, answer codes, rounds, long format.

The steps, wired here in order: file checks (:mod:`~lmp_analytics.ingest.file_checks`: header,
version, roster, nominations), protect (:mod:`~lmp_analytics.ingest.protect`: names dropped, ids
pseudonymised before any row check, so that no raw id ever reaches a stored table, the quarantine
included), typing (:mod:`~lmp_analytics.ingest.values`), validation
(:mod:`~lmp_analytics.ingest.validate`) and the shape the warehouse stores
(:mod:`~lmp_analytics.ingest.long_format`). File-level problems raise or record
:class:`~lmp_analytics.errors.FileRejected` (nothing of the file is stored). Row-level problems
become quarantine records; the other rows go on.

:func:`map_tables` maps many files in one pass (one polars pipeline and one pandera validation for
all of them, which is what makes a national ingest fast); every rule still applies to each file on
its own, with the file's own line numbers, rejections and warnings. :func:`map_spekter` is the same
for one file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from lmp_analytics.codebook import Codebook
from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest import file_checks, protect, validate
from lmp_analytics.ingest.long_format import long_format
from lmp_analytics.ingest.mapped import (
    ANSWER_SCHEMA,
    FILE_COL,
    INDEX_COL,
    LINE_COL,
    NOMINATION_SCHEMA,
    OPTIONAL_COLUMNS,
    QUARANTINE_SCHEMA,
    REQUIRED_COLUMNS,
    RESPONSE_SCHEMA,
    MappedBatch,
    MappedFile,
    WideAnswers,
    assemble,
    long_answers,
    valid_item_pairs,
)
from lmp_analytics.ingest.readers import RawTable
from lmp_analytics.ingest.schemas import spekter_schema
from lmp_analytics.ingest.values import (
    DEFAULT_RUNDE,
    clean_number_text,
    code_expr,
    date_expr,
    normalised,
    per_value,
    term_expr,
    trinn_expr,
)

__all__ = [
    "ANSWER_SCHEMA", "FILE_COL", "INDEX_COL", "LINE_COL", "NOMINATION_SCHEMA",
    "OPTIONAL_COLUMNS", "QUARANTINE_SCHEMA", "REQUIRED_COLUMNS", "RESPONSE_SCHEMA",
    "MappedBatch", "MappedFile", "WideAnswers", "long_answers", "map_spekter", "map_tables",
    "valid_item_pairs",
]


def map_spekter(
    table: RawTable,
    *,
    books: dict[str, Codebook],
    roster_orgnrs: set[str],
    key: bytes,
    today: dt.date | None = None,
) -> MappedFile:
    """Check, pseudonymise and map one export. Raises FileRejected for file-level problems."""
    batch = map_tables([table], books=books, roster_orgnrs=roster_orgnrs, key=key, today=today)
    if batch.rejected[0] is not None:
        raise batch.rejected[0]
    return batch.file(0)


def _concat_frames(tables: Sequence[RawTable]) -> pl.DataFrame:
    """All files' cells in one frame with ``_file`` and ``_line``; blank cells are null and rows
    with no value in any of their file's columns are gone (as ``read_table`` leaves them)."""
    frames = [t.frame for t in tables]
    heights = np.array([f.height for f in frames], dtype=np.int64)
    lines = np.concatenate(
        [np.asarray(t.lines, dtype=np.int64) if t.lines is not None
         else np.arange(t.first_row, t.first_row + f.height, dtype=np.int64)
         for t, f in zip(tables, frames, strict=True)] or [np.zeros(0, dtype=np.int64)]
    )
    data = pl.concat(frames, how="diagonal") if len(frames) > 1 else frames[0]
    columns = data.columns
    data = data.with_columns(
        pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in columns
    ).with_columns(
        pl.Series(FILE_COL, np.repeat(np.arange(len(frames), dtype=np.int64), heights)),
        pl.Series(LINE_COL, lines),
    )
    if columns:
        data = data.filter(~pl.all_horizontal(pl.col(columns).is_null()))
    return data.with_row_index(INDEX_COL).with_columns(pl.col(INDEX_COL).cast(pl.Int64))


def map_tables(
    tables: Sequence[RawTable],
    *,
    books: dict[str, Codebook],
    roster_orgnrs: set[str],
    key: bytes,
    today: dt.date | None = None,
    pseudonymiser: protect.Pseudonymiser | None = None,
) -> MappedBatch:
    """Check, pseudonymise and map many exports at once; each file is judged on its own.

    ``pseudonymiser`` (made from ``key`` when not given) may be shared between calls so that each
    pupil id is hashed once per run.
    """
    today = today or dt.date.today()
    tables = list(tables)
    n = len(tables)
    warnings: list[list[str]] = [[] for _ in range(n)]
    pseudo = pseudonymiser or protect.Pseudonymiser(key)
    sets = file_checks.column_sets(books)

    data = _concat_frames(tables) if n else pl.DataFrame()
    counts = dict(data.group_by(FILE_COL).len().iter_rows()) if n else {}
    rows_read = [int(counts.get(i, 0)) for i in range(n)]
    rejected = file_checks.check_headers(tables, rows_read, sets.known)
    if all(r is not None for r in rejected):
        return assemble(tables, rejected, rows_read, warnings, [], books)

    dropped = protect.identifying_columns(data.columns)
    data = data.drop(dropped)
    # Versions decide which items exist; an unknown version makes the whole file unreadable.
    data = data.with_columns(pl.col("versjon").str.strip_chars().str.to_lowercase(),
                             pl.col("skole_orgnr").str.strip_chars())
    file_checks.check_versions_and_schools(data, tables, books, roster_orgnrs, rejected)
    live = data.filter(file_checks.alive(rejected))
    versions_of: dict[int, tuple[str, ...]] = {
        f: tuple(sorted(vs)) for f, vs in
        live.group_by(FILE_COL).agg(pl.col("versjon").drop_nulls().unique()).iter_rows()
    }
    item_sets: dict[tuple[str, ...], tuple] = {}
    columns_of = file_checks.file_columns(tables, live, books, sets, dropped, versions_of,
                                          item_sets, rejected, warnings)
    if not columns_of:
        return assemble(tables, rejected, rows_read, warnings, [], books)

    # Protect: raw ids are replaced by pseudonyms before anything else reads them.
    data = protect.pseudonymise_cells(data, pseudo,
                                      [c for c in data.columns if c in sets.nominations])
    raw_cells = data  # text cells (pseudonymised) for quarantine values; row i has _i == i
    for col in OPTIONAL_COLUMNS:
        if col not in data.columns:
            data = data.with_columns(pl.lit(None, pl.String).alias(col))

    # Files with the same versions share label maps and the schema: one pass for each such group.
    groups: dict[tuple[str, ...], list[int]] = {}
    for i in columns_of:
        groups.setdefault(versions_of.get(i, ()), []).append(i)
    parts = []
    for versions, files in groups.items():
        part = data if len(groups) == 1 and len(files) == n else data.filter(
            pl.col(FILE_COL).is_in(files))
        parts.append(_map_group(part, raw_cells, tables, files, item_sets[versions], versions,
                                columns_of, books, today, rejected))
    return assemble(tables, rejected, rows_read, warnings, parts, books)


def _ordered_union(lists) -> list[str]:
    return list(dict.fromkeys(c for cols in lists for c in cols))


def _typed(frame: pl.DataFrame, answer_cols: list[str], nomination_cols: list[str],
           label_maps: dict[str, dict[str, int]]) -> pl.DataFrame:
    """The contract columns typed (codes, grades, dates, normalised text); ``_i``, ``_line`` and
    ``_file`` kept; nomination cells as they are (pseudonyms)."""
    return frame.select(
        INDEX_COL,
        LINE_COL,
        FILE_COL,
        pl.col("skole_orgnr"),
        per_value(frame, "gruppe", pl.col("gruppe").str.strip_chars(), pl.String),
        per_value(frame, "trinn", trinn_expr(), pl.Int16),
        pl.col("elev"),
        per_value(frame, "dato", date_expr(), pl.Date),
        pl.col("versjon"),
        per_value(frame, "kjonn", normalised(pl.col("kjonn")), pl.String),
        per_value(frame, "formal", normalised(pl.col("formal")), pl.String),
        per_value(frame, "runde", pl.coalesce(clean_number_text(pl.col("runde")),
                                              pl.lit(DEFAULT_RUNDE)), pl.String),
        *[per_value(frame, c, code_expr(c, label_maps[c]), pl.Int16) for c in answer_cols],
        *[pl.col(c) for c in nomination_cols],
    )


def _map_group(
    frame: pl.DataFrame,
    raw_cells: pl.DataFrame,
    tables: list[RawTable],
    files: list[int],
    item_sets: tuple,
    versions: tuple[str, ...],
    columns_of: dict[int, tuple[list[str], list[str]]],
    books: dict[str, Codebook],
    today: dt.date,
    rejected: list[FileRejected | None],
) -> tuple[pl.DataFrame, list[WideAnswers], pl.DataFrame, pl.DataFrame]:
    """Type, validate and lengthen the rows of files with the same versions."""
    item_codes, item_labels, label_maps = item_sets
    answer_cols = _ordered_union(columns_of[i][0] for i in files)
    nomination_cols = _ordered_union(columns_of[i][1] for i in files)
    typed = _typed(frame, answer_cols, nomination_cols, label_maps)
    schema = spekter_schema({c: item_codes[c] for c in answer_cols}, list(books), today,
                            item_labels)
    failures = validate.schema_failures(frame, typed, schema)
    failures += validate.purpose_failures(typed, books)  # cross-column rules
    typed = typed.with_columns(term_expr())
    failures += validate.duplicate_failures(typed)
    quarantine = validate.quarantine_records(raw_cells, failures)
    good, quarantine, keep = validate.split_valid(typed, quarantine, tables, files, rejected)
    return (*long_format(good, keep, columns_of, nomination_cols, books, versions),
            quarantine.drop(INDEX_COL))
