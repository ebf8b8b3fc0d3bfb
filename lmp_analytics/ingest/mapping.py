"""Map Spekter exports onto the codebook: typed columns, answer codes, rounds, long format.

File-level problems raise :class:`~lmp_analytics.errors.FileRejected` (nothing of the file is
stored). Row-level problems become quarantine records; the other rows go on. Pupils are
pseudonymised here, before any check, so that no raw id ever reaches a stored table (the
quarantine included).

:func:`map_tables` maps many files in one pass (one polars pipeline and one pandera validation for
all of them, which is what makes a national ingest fast); every rule still applies to each file on
its own, with the file's own line numbers, rejections and warnings. :func:`map_spekter` is the same
for one file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from lmp_analytics.codebook import (
    NEGATIVE_NOMINATION_RULE_DATE,
    NEGATIVE_NOMINATION_RULE_NB,
    Codebook,
)
from lmp_analytics.errors import FileRejected, keyed
from lmp_analytics.ingest import protect
from lmp_analytics.ingest.readers import RawTable, check_duplicate_columns, normalise_column
from lmp_analytics.ingest.schemas import (
    EARLIEST_DATE,
    UNKNOWN_CODE,
    RowFailure,
    collect_failures,
    early_date_reason,
    item_scale_codes,
    item_scale_labels,
    spekter_schema,
)
from lmp_analytics.registry import orgnr_problem

REQUIRED_COLUMNS = ["skole_orgnr", "gruppe", "trinn", "elev_id", "dato", "versjon"]
OPTIONAL_COLUMNS = ["kjonn", "formal", "runde"]
DEFAULT_RUNDE = "1"
_DASH_RE = r"[\-\u2010\u2011\u2012\u2013\u2014\u2212]"

QUARANTINE_SCHEMA = {
    "row_number": pl.Int64,
    "column_name": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "reason_code": pl.String,
}
RESPONSE_SCHEMA = {
    "round_id": pl.String,
    "skole_orgnr": pl.String,
    "term": pl.String,
    "versjon": pl.String,
    "runde": pl.String,
    "formal": pl.String,
    "gruppe": pl.String,
    "trinn": pl.Int16,
    "kjonn": pl.String,
    "elev": pl.String,
    "dato": pl.Date,
    "row_number": pl.Int64,
}


@dataclass
class MappedFile:
    """A Spekter export ready to load.

    ``responses``: one row per pupil and round (RESPONSE_SCHEMA). ``answers``: long format
    (round_id, gruppe, elev, item, value); value NULL = asked but skipped; an item not asked has
    no row. ``nominations``: (round_id, gruppe, elev, item, nominee), pseudonyms only.
    ``quarantine``: failed rows, one record per failing cell (QUARANTINE_SCHEMA).
    """

    rows_read: int
    responses: pl.DataFrame
    answers: pl.DataFrame
    nominations: pl.DataFrame
    quarantine: pl.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_quarantined(self) -> int:
        return self.quarantine.get_column("row_number").n_unique()

    def round_groups(self) -> pl.DataFrame:
        """The (round_id, gruppe) pairs this file holds: the part of the warehouse it replaces."""
        return self.responses.select("round_id", "gruppe").unique().sort("round_id", "gruppe")


def _clean_number_text(expr: pl.Expr) -> pl.Expr:
    """``' 3 '`` / ``'3.0'`` (Excel) -> ``'3'``."""
    return expr.str.strip_chars().str.replace(r"^(\d+)\.0+$", "${1}")


def _normalised(expr: pl.Expr) -> pl.Expr:
    return (
        _clean_number_text(expr)
        .str.to_lowercase()
        .str.replace_all(_DASH_RE, " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def _code_expr(column: str, label_map: dict[str, int]) -> pl.Expr:
    norm = _normalised(pl.col(column))
    return (
        pl.when(pl.col(column).is_null())
        .then(None)
        .otherwise(norm.replace_strict(label_map, default=UNKNOWN_CODE, return_dtype=pl.Int16))
        .alias(column)
    )


def _trinn_expr() -> pl.Expr:
    raw = (_clean_number_text(pl.col("trinn")).str.to_lowercase().str.replace_all(r"\s+", "")
           .str.replace(r"^(\d+)\.?(trinn)?$", "${1}"))  # '5. trinn' -> '5'
    vg = raw.str.extract(r"^vg([1-3])$").cast(pl.Int16) + 10
    return (
        pl.when(pl.col("trinn").is_null()).then(None)
        .otherwise(pl.coalesce(vg, raw.cast(pl.Int16, strict=False), pl.lit(-1, pl.Int16)))
        .cast(pl.Int16)
        .alias("trinn")
    )


def _date_expr() -> pl.Expr:
    raw = pl.col("dato").str.strip_chars()
    return pl.coalesce(
        raw.str.to_date("%Y-%m-%d", strict=False),
        raw.str.to_date("%d.%m.%Y", strict=False),
        raw.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
    ).alias("dato")


def _term_expr() -> pl.Expr:
    return pl.concat_str(
        pl.col("dato").dt.year().cast(pl.String),
        pl.when(pl.col("dato").dt.month() >= 8).then(pl.lit("H")).otherwise(pl.lit("V")),
    ).alias("term")


def _header_hint(table: RawTable) -> str:
    """Why the required columns may be missing: header further down, a transposed sheet, or a
    wrong delimiter."""
    wanted = set(REQUIRED_COLUMNS)
    for line, cells in table.head[1:]:
        if len({normalise_column(c) for c in cells if c is not None} & wanted) >= 3:
            return (f"; the header seems to be on line {line}: delete the rows above it so that "
                    "the header is the first row")
    first_cells = {normalise_column(cells[0]) for _, cells in table.head if cells and cells[0]}
    if len(first_cells & wanted) >= 3:
        return ("; the field names run down the first column: the sheet seems to be transposed "
                "(one row per field), expected one column per field with the names in row 1")
    if table.file_format == "xlsx":
        return "; the header must be row 1 of the first sheet, one column per field"
    if len(table.frame.columns) == 1:
        return f"; the delimiter was read as '{table.delimiter}'"
    return ""


FILE_COL, INDEX_COL, LINE_COL = "_file", "_i", "_line"


@dataclass(frozen=True)
class WideAnswers:
    """Answers of files with the same answer columns, one row per pupil: ``frame`` has round_id,
    gruppe, elev, versjon, ``_file`` and ``columns`` (codes). The long rows are every (row, column)
    pair, kept only where (versjon, item) is an item of the version when ``check_pairs`` (files
    with several versions); loaders unpivot it where the rows go (DuckDB), not in memory."""

    frame: pl.DataFrame
    columns: list[str]
    check_pairs: bool


@dataclass
class MappedBatch:
    """Many exports mapped in one pass.

    ``rejected[i]`` is the FileRejected of ``tables[i]`` (None when the file maps); ``rows_read``
    and ``warnings`` (the mapping's own; the reader's stay in ``tables[i].warnings``) are per
    file. The frames hold the rows of every file that maps, with ``_file`` (index into ``tables``)
    added to the schemas of :class:`MappedFile`; ``quarantine`` is in each file's record order.
    Answers are kept wide (``wide``); :attr:`answers` makes the long rows when asked.
    """

    tables: list[RawTable]
    rejected: list[FileRejected | None]
    rows_read: list[int]
    warnings: list[list[str]]
    responses: pl.DataFrame
    wide: list[WideAnswers]
    nominations: pl.DataFrame
    quarantine: pl.DataFrame
    valid_pairs: pl.DataFrame

    @property
    def answers(self) -> pl.DataFrame:
        """Long format (round_id, gruppe, elev, item, value, ``_file``)."""
        frames = [long_answers(w, self.valid_pairs) for w in self.wide]
        frames = [f for f in frames if f.height]
        if not frames:
            return pl.DataFrame(schema=ANSWER_SCHEMA)
        return pl.concat(frames) if len(frames) > 1 else frames[0]

    def file(self, i: int) -> MappedFile:
        """One file's part, as :func:`map_spekter` returns it."""
        mine = pl.col(FILE_COL) == i
        wide = [WideAnswers(w.frame.filter(mine), w.columns, w.check_pairs) for w in self.wide]
        wide = [w for w in wide if w.frame.height]
        answers = [long_answers(w, self.valid_pairs) for w in wide]
        return MappedFile(
            rows_read=self.rows_read[i],
            responses=self.responses.filter(mine).drop(FILE_COL),
            answers=(pl.concat(answers) if answers else pl.DataFrame(schema=ANSWER_SCHEMA)
                     ).drop(FILE_COL),
            nominations=self.nominations.filter(mine).drop(FILE_COL),
            quarantine=self.quarantine.filter(mine).drop(FILE_COL),
            warnings=self.warnings[i],
        )


def long_answers(wide: WideAnswers, valid_pairs: pl.DataFrame) -> pl.DataFrame:
    """The long answer rows of ``wide`` (ANSWER_SCHEMA, ``_file`` included)."""
    index = ["round_id", "gruppe", "elev", "versjon", FILE_COL]
    out = wide.frame.unpivot(index=index, on=wide.columns, variable_name="item",
                             value_name="value")
    if wide.check_pairs:
        out = out.join(valid_pairs, on=["versjon", "item"], how="semi", maintain_order="left")
    return out.select("round_id", "gruppe", "elev", "item", pl.col("value").cast(pl.Int16),
                      FILE_COL)


def valid_item_pairs(books: dict[str, Codebook]) -> pl.DataFrame:
    """(versjon, item) of every answer item of every version."""
    return pl.DataFrame(
        [(v, i.code) for v, b in books.items() for i in b.answer_items],
        schema={"versjon": pl.String, "item": pl.String},
        orient="row",
    )


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


def _item_sets(books: dict[str, Codebook], versions: tuple[str, ...]) -> tuple:
    """Allowed codes, readable labels and label maps of the answer items of ``versions``."""
    chosen = {v: books[v] for v in versions}
    label_maps: dict[str, dict[str, int]] = {}
    for v in versions:
        for item in books[v].answer_items:
            label_maps.setdefault(item.code, books[v].scales[item.scale].label_map())
    return item_scale_codes(chosen), item_scale_labels(chosen), label_maps


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


def _first_per_file(frame: pl.DataFrame, mask: pl.Expr, value: pl.Expr) -> dict[int, tuple]:
    """file -> (line, value) of its first row where ``mask`` holds."""
    hits = frame.filter(mask).group_by(FILE_COL, maintain_order=True).agg(
        pl.first(LINE_COL), value.first().alias("value"))
    return {f: (line, v) for f, line, v in hits.iter_rows()}


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
    rejected: list[FileRejected | None] = [None] * n
    warnings: list[list[str]] = [[] for _ in range(n)]
    pseudo = pseudonymiser or protect.Pseudonymiser(key)
    item_sets: dict[tuple[str, ...], tuple] = {}
    nomination_items = {i.code for b in books.values() for i in b.nomination_items}
    negative_items = {i.code for b in books.values() for i in b.negative_nomination_items}
    all_items = {i.code for b in books.values() for i in b.items.values()}
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | all_items

    data = _concat_frames(tables) if n else pl.DataFrame()
    counts = dict(data.group_by(FILE_COL).len().iter_rows()) if n else {}
    rows_read = [int(counts.get(i, 0)) for i in range(n)]

    # File-level checks that need only the header, in map order: columns, duplicates, rows.
    for i, table in enumerate(tables):
        path = str(table.path)
        missing = [c for c in REQUIRED_COLUMNS if c not in table.frame.columns]
        try:
            if missing:
                found = ", ".join(table.frame.columns) or "(none)"
                raise FileRejected(
                    path,
                    f"lacks the required column(s) {', '.join(missing)} in its header row (line "
                    f"{table.header_line}) (found: {found}{_header_hint(table)})",
                    row=table.header_line,
                    column=missing[0],
                )
            check_duplicate_columns(table, known)
            if rows_read[i] == 0:
                raise FileRejected(path, "has a header row but no data rows")
        except FileRejected as exc:
            rejected[i] = exc
    if all(r is not None for r in rejected):
        return _result(tables, rejected, rows_read, warnings, [], books)

    def alive() -> pl.Expr:
        return pl.col(FILE_COL).is_in([i for i in range(n) if rejected[i] is None])

    dropped = protect.identifying_columns(data.columns)
    data = data.drop(dropped)

    # Versions decide which items exist; an unknown version makes the whole file unreadable.
    versjon = pl.col("versjon").str.strip_chars().str.to_lowercase()
    data = data.with_columns(versjon.alias("versjon"),
                             pl.col("skole_orgnr").str.strip_chars().alias("skole_orgnr"))
    unknown = pl.col("versjon").is_not_null() & ~pl.col("versjon").is_in(list(books))
    for i, (line, value) in _first_per_file(data.filter(alive()), unknown,
                                            pl.col("versjon")).items():
        rejected[i] = keyed(FileRejected(
            str(tables[i].path),
            f"unknown instrument version '{value}'; expected one of {', '.join(sorted(books))}",
            row=line,
            column="versjon",
        ), "unknown_version", value=value, expected=", ".join(sorted(books)))
    outside = pl.col("skole_orgnr").is_not_null() & ~pl.col("skole_orgnr").is_in(
        sorted(roster_orgnrs))
    for i, (line, value) in _first_per_file(data.filter(alive()), outside,
                                            pl.col("skole_orgnr")).items():
        typo = orgnr_problem(value)  # a wrong check digit is a typing error, not a new school
        rejected[i] = keyed(FileRejected(
            str(tables[i].path),
            f"school '{value}' is not in the programme roster (program.csv); "
            + (f"expected {typo}" if typo else "add it to the roster first"),
            row=line,
            column="skole_orgnr",
        ), "not_in_roster_typo" if typo else "not_in_roster", value=value, typo=typo)
    live = data.filter(alive())
    versions_of: dict[int, tuple[str, ...]] = {
        f: tuple(sorted(vs)) for f, vs in
        live.group_by(FILE_COL).agg(pl.col("versjon").drop_nulls().unique()).iter_rows()
    }

    # Per file: its columns decide nominations, answer items and warnings.
    columns_of: dict[int, tuple[list[str], list[str]]] = {}
    for i, table in enumerate(tables):
        if rejected[i] is not None:
            continue
        path = str(table.path)
        versions = versions_of.get(i, ())
        cols = [c for c in table.frame.columns if c not in set(dropped)]
        nomination_cols = [c for c in cols if c in nomination_items]
        negative_cols = [c for c in nomination_cols if c in negative_items]
        preventive = {v for v in versions if books[v].formal == "forebyggende"
                      and not books[v].negative_nomination_items}
        if negative_cols:
            try:
                frame = live.filter(pl.col(FILE_COL) == i)
                _check_nomination_rule(path, frame, negative_cols, books)
                if preventive:
                    _check_nominations(path, frame, negative_cols, preventive)
            except FileRejected as exc:
                rejected[i] = exc
                continue
        if versions not in item_sets:
            item_sets[versions] = _item_sets(books, versions)
        item_codes = item_sets[versions][0]
        extra = [c for c in cols if c not in known]
        if extra:
            warnings[i].append(f"{path}: ignored unknown column(s) {', '.join(extra)} "
                               "(not stored)")
        answer_cols = [c for c in cols if c in item_codes]
        not_in_versions = [c for c in cols
                           if c in all_items and c not in item_codes and c not in nomination_items]
        if not_in_versions:
            warnings[i].append(
                f"{path}: column(s) {', '.join(not_in_versions)} are not items of "
                f"{', '.join(versions)}; ignored"
            )
        columns_of[i] = (answer_cols, nomination_cols)
    if not columns_of:
        return _result(tables, rejected, rows_read, warnings, [], books)

    # Protect: raw ids are replaced by pseudonyms before anything else reads them.
    nomination_union = [c for c in data.columns if c in nomination_items]
    data = data.with_columns(pseudo.column(data.get_column("elev_id")).alias("elev")).drop(
        "elev_id")
    for col in nomination_union:
        data = data.with_columns(pseudo.nominations(data.get_column(col)))
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
    return _result(tables, rejected, rows_read, warnings, parts, books)


def _check_nominations(path: str, frame: pl.DataFrame, nomination_cols: list[str],
                       preventive: set[str]) -> None:
    is_prev = frame.get_column("versjon").is_in(sorted(preventive))
    for col in nomination_cols:
        filled = is_prev & frame.get_column(col).is_not_null()
        if filled.any() or is_prev.all():
            raise FileRejected(
                path,
                f"has the negative-nomination column '{col}' in a "
                f"'{sorted(preventive)[0]}' export; naming pupils in negative relations is "
                "only lawful in the concrete-suspicion version (spekter-2022-mistanke). "
                "Remove the column and its contents before importing",
                row=int(frame.get_column(LINE_COL).filter(filled)[0]) if filled.any() else None,
                column=col,
            )


def _check_nomination_rule(path: str, frame: pl.DataFrame, negative_cols: list[str],
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
             & (_date_expr() >= pl.lit(NEGATIVE_NOMINATION_RULE_DATE))).fill_null(False)
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
            raise FileRejected(
                path,
                f"has the negative-nomination column '{col}' in a round dated {at['dato']} "
                f"(version '{at['versjon']}'), on or after {rule}: under the "
                f"{NEGATIVE_NOMINATION_RULE_NB} pupils may be named in negative relations only in "
                "a concrete-suspicion survey (spekter-2022-mistanke), whatever the version "
                "label says. Remove the column and its contents before importing, or import "
                "the round as a concrete-suspicion round if it was one",
                row=int(at[LINE_COL]),
                column=col,
            )


def _ordered_union(lists) -> list[str]:
    return list(dict.fromkeys(c for cols in lists for c in cols))


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
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Type, validate and lengthen the rows of files with the same versions."""
    item_codes, item_labels, label_maps = item_sets
    answer_cols = _ordered_union(columns_of[i][0] for i in files)
    nomination_cols = _ordered_union(columns_of[i][1] for i in files)
    typed = frame.select(
        INDEX_COL,
        LINE_COL,
        FILE_COL,
        pl.col("skole_orgnr"),
        _per_value(frame, "gruppe", pl.col("gruppe").str.strip_chars(), pl.String),
        _per_value(frame, "trinn", _trinn_expr(), pl.Int16),
        pl.col("elev"),
        _per_value(frame, "dato", _date_expr(), pl.Date),
        pl.col("versjon"),
        _per_value(frame, "kjonn", _normalised(pl.col("kjonn")), pl.String),
        _per_value(frame, "formal", _normalised(pl.col("formal")), pl.String),
        _per_value(frame, "runde", pl.coalesce(_clean_number_text(pl.col("runde")),
                                               pl.lit(DEFAULT_RUNDE)), pl.String),
        *[_per_value(frame, c, _code_expr(c, label_maps[c]), pl.Int16) for c in answer_cols],
        *[pl.col(c) for c in nomination_cols],
    )
    schema = spekter_schema({c: item_codes[c] for c in answer_cols}, list(books), today,
                            item_labels)
    failures = _unparsed_failures(frame, typed)
    explained = {(f.index, f.column) for f in failures}
    position = typed.get_column(INDEX_COL)
    failures += [
        RowFailure(int(position[f.index]), f.column, f.reason, f.code)
        for f in collect_failures(schema, typed.drop(INDEX_COL, LINE_COL, FILE_COL),
                                  default_code="value_out_of_range")
        if (int(position[f.index]), f.column) not in explained
    ]

    # Cross-column rules.
    expected_formal = pl.col("versjon").replace_strict(
        {v: b.formal for v, b in books.items()}, default=None
    )
    bad_formal = typed.filter(
        pl.col("formal").is_not_null() & (pl.col("formal") != expected_formal)
    )
    failures += [RowFailure(int(i), "formal", "the purpose that matches versjon "
                            "(forebyggende or mistanke)", "purpose_mismatch")
                 for i in bad_formal.get_column(INDEX_COL)]
    typed = typed.with_columns(_term_expr())
    key_cols = [FILE_COL, "skole_orgnr", "term", "versjon", "runde", "elev"]
    dups = typed.filter(
        pl.col("elev").is_not_null() & pl.col("dato").is_not_null()
        & pl.struct(key_cols).is_duplicated()
    )
    if dups.height:
        lines = dups.group_by(key_cols).agg(pl.col(INDEX_COL), pl.col(LINE_COL))
        for group, group_lines in lines.select(INDEX_COL, LINE_COL).iter_rows():
            where = ", ".join(str(line) for line in group_lines)
            for i in group:
                failures.append(RowFailure(int(i), "elev", "each pupil once per round "
                                           f"(the same elev_id is on lines {where})",
                                           "duplicate_pupil"))

    quarantine = _quarantine_records(raw_cells, failures)
    bad = quarantine.select(INDEX_COL, FILE_COL).unique()
    bad_per_file = dict(bad.group_by(FILE_COL).len().iter_rows())
    rows_per_file = dict(typed.group_by(FILE_COL).len().iter_rows())
    for i in files:
        n_bad = bad_per_file.get(i, 0)
        if n_bad and n_bad == rows_per_file.get(i, 0):
            first = quarantine.filter(pl.col(FILE_COL) == i).row(0, named=True)
            rejected[i] = FileRejected(
                str(tables[i].path),
                f"every row failed validation ({n_bad} rows); the first: got "
                f"{first['value']!r}, {first['reason']}",
                row=first["row_number"],
                column=first["column_name"],
            )
    keep = [i for i in files if rejected[i] is None]
    good = typed.join(bad.select(INDEX_COL), on=INDEX_COL, how="anti") if bad.height else typed
    if len(keep) < len(files):
        good = good.filter(pl.col(FILE_COL).is_in(keep))
        quarantine = quarantine.filter(pl.col(FILE_COL).is_in(keep))
    return (*_long_format(good, keep, columns_of, nomination_cols, books, versions),
            quarantine.drop(INDEX_COL))


def _per_value(frame: pl.DataFrame, name: str, expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """``expr`` (a function of column ``name`` alone) evaluated once per distinct value and
    looked up for every row: answer labels, dates and grades repeat thousands of times."""
    values = frame.get_column(name).unique()
    out = pl.DataFrame({name: values}).select(expr.cast(dtype).alias(name)).to_series()
    known = values.is_not_null()
    at_null = out.filter(~known)
    return pl.col(name).replace_strict(
        values.filter(known), out.filter(known),
        default=at_null[0] if len(at_null) else None, return_dtype=dtype,
    ).alias(name)


def _unparsed_failures(raw: pl.DataFrame, typed: pl.DataFrame) -> list[RowFailure]:
    """Cells with text that could not be read as a date (the schema would only see 'empty'), and
    dates before :data:`~lmp_analytics.ingest.schemas.EARLIEST_DATE` (``0999-05-05``,
    ``1900-01-01``: typos that would make a term no term code can name)."""
    bad = typed.filter(pl.col("dato").is_null() & raw.get_column("dato").is_not_null())
    early = typed.filter(pl.col("dato") < EARLIEST_DATE)
    return [RowFailure(int(i), "dato", "a date as YYYY-MM-DD or DD.MM.YYYY", "invalid_date")
            for i in bad.get_column(INDEX_COL)] + [
        RowFailure(int(i), "dato", early_date_reason(), "early_date")
        for i in early.get_column(INDEX_COL)]


def _quarantine_records(raw_cells: pl.DataFrame, failures: list[RowFailure]) -> pl.DataFrame:
    """One record per failed cell, in (row, column) order, with ``_i`` and ``_file``."""
    schema = {INDEX_COL: pl.Int64, FILE_COL: pl.Int64, **QUARANTINE_SCHEMA}
    if not failures:
        return pl.DataFrame(schema=schema)
    ordered = sorted(failures, key=lambda f: (f.index, f.column))
    index = pl.Series([f.index for f in ordered], dtype=pl.Int64)
    values: list[str | None] = [None] * len(ordered)
    by_column: dict[str, list[int]] = {}
    for k, f in enumerate(ordered):
        by_column.setdefault(f.column, []).append(k)
    for column, ks in by_column.items():
        if column not in raw_cells.columns:
            continue
        cells = raw_cells.get_column(column).gather(index.gather(ks)).to_list()
        for k, value in zip(ks, cells, strict=True):
            values[k] = None if value is None else str(value)[:80]
    meta = raw_cells.select(FILE_COL, LINE_COL).gather(index)
    return pl.DataFrame({
        INDEX_COL: index,
        FILE_COL: meta.get_column(FILE_COL),
        "row_number": meta.get_column(LINE_COL),
        "column_name": ["elev_id" if f.column == "elev" else f.column for f in ordered],
        "value": values,
        "reason": [f"expected {f.reason}" for f in ordered],
        "reason_code": [f.code for f in ordered],
    }, schema=schema)


def _long_format(
    good: pl.DataFrame,
    files: list[int],
    columns_of: dict[int, tuple[list[str], list[str]]],
    nomination_cols: list[str],
    books: dict[str, Codebook],
    versions: tuple[str, ...],
) -> tuple[pl.DataFrame, list[WideAnswers], pl.DataFrame]:
    round_id = pl.concat_str(
        ["skole_orgnr", "term", "versjon", "runde"], separator=":"
    ).alias("round_id")
    good = good.with_columns(round_id)
    responses = good.select(
        *[pl.col(c).cast(t) if c != "row_number" else pl.col(LINE_COL).alias("row_number")
          for c, t in RESPONSE_SCHEMA.items()],
        FILE_COL,
    )
    # An item is stored where the file has its column and the row's version has the item; with
    # one version in the files that is a choice of columns, with several a check per row.
    by_columns: dict[tuple[str, ...], list[int]] = {}
    for i in files:
        by_columns.setdefault(tuple(columns_of[i][0]), []).append(i)
    single = len(versions) == 1
    valid = {i.code for i in books[versions[0]].answer_items} if single else None
    wide = []
    for columns, group in by_columns.items():
        columns = [c for c in columns if c in valid] if single else list(columns)
        if not columns:
            continue
        part = good if len(by_columns) == 1 else good.filter(pl.col(FILE_COL).is_in(group))
        frame = part.select("round_id", "gruppe", "elev", "versjon", FILE_COL, *columns)
        if frame.height:
            wide.append(WideAnswers(frame, columns, check_pairs=not single))
    nom_frames = []
    for col in nomination_cols:
        nom_frames.append(
            good.select("round_id", "gruppe", "elev", pl.lit(col).alias("item"),
                        pl.col(col).str.split(protect.NOMINATION_SEPARATOR).alias("nominee"),
                        FILE_COL)
            .explode("nominee")
            .filter(pl.col("nominee").is_not_null() & (pl.col("nominee") != ""))
        )
    nominations = pl.concat(nom_frames) if nom_frames else pl.DataFrame(schema=NOMINATION_SCHEMA)
    return responses, wide, nominations


ANSWER_SCHEMA = {"round_id": pl.String, "gruppe": pl.String, "elev": pl.String,
                 "item": pl.String, "value": pl.Int16, FILE_COL: pl.Int64}
NOMINATION_SCHEMA = {"round_id": pl.String, "gruppe": pl.String, "elev": pl.String,
                     "item": pl.String, "nominee": pl.String, FILE_COL: pl.Int64}


def _result(tables, rejected, rows_read, warnings, parts, books) -> MappedBatch:
    response_schema = {**RESPONSE_SCHEMA, FILE_COL: pl.Int64}
    quarantine_schema = {FILE_COL: pl.Int64, **QUARANTINE_SCHEMA}

    def cat(k: int, schema: dict) -> pl.DataFrame:
        frames = [p[k] for p in parts if p[k].height]
        if not frames:
            return pl.DataFrame(schema=schema)
        return pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]

    quarantine = cat(3, quarantine_schema)
    return MappedBatch(
        tables=tables, rejected=rejected, rows_read=rows_read, warnings=warnings,
        responses=cat(0, response_schema), wide=[w for p in parts for w in p[1]],
        nominations=cat(2, NOMINATION_SCHEMA),
        quarantine=quarantine.select(*QUARANTINE_SCHEMA, FILE_COL),
        valid_pairs=valid_item_pairs(books),
    )
