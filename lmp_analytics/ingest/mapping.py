"""Map one Spekter export onto the codebook: typed columns, answer codes, rounds, long format.

File-level problems raise :class:`~lmp_analytics.errors.FileRejected` (nothing of the file is
stored). Row-level problems become quarantine records; the other rows go on. Pupils are
pseudonymised here, before any check, so that no raw id ever reaches a stored table (the
quarantine included).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from lmp_analytics.codebook import Codebook
from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest import protect
from lmp_analytics.ingest.readers import RawTable, check_duplicate_columns, normalise_column
from lmp_analytics.ingest.schemas import (
    UNKNOWN_CODE,
    RowFailure,
    collect_failures,
    item_scale_codes,
    item_scale_labels,
    spekter_schema,
)

REQUIRED_COLUMNS = ["skole_orgnr", "gruppe", "trinn", "elev_id", "dato", "versjon"]
OPTIONAL_COLUMNS = ["kjonn", "formal", "runde"]
DEFAULT_RUNDE = "1"
_DASH_RE = r"[\-\u2010\u2011\u2012\u2013\u2014\u2212]"

QUARANTINE_SCHEMA = {
    "row_number": pl.Int64,
    "column_name": pl.String,
    "value": pl.String,
    "reason": pl.String,
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


def _first_line(table: RawTable, mask: pl.Series) -> int | None:
    idx = mask.arg_true()
    return table.line_of(int(idx[0])) if len(idx) else None


def map_spekter(
    table: RawTable,
    *,
    books: dict[str, Codebook],
    roster_orgnrs: set[str],
    key: bytes,
    today: dt.date | None = None,
) -> MappedFile:
    """Check, pseudonymise and map one export. Raises FileRejected for file-level problems."""
    today = today or dt.date.today()
    path = str(table.path)
    frame = table.frame
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        found = ", ".join(frame.columns) or "(none)"
        raise FileRejected(
            path,
            f"lacks the required column(s) {', '.join(missing)} in its header row (line "
            f"{table.header_line}) (found: {found}{_header_hint(table)})",
            row=table.header_line,
            column=missing[0],
        )
    nomination_items = {i.code for b in books.values() for i in b.nomination_items}
    all_items = {i.code for b in books.values() for i in b.items.values()}
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | all_items
    check_duplicate_columns(table, known)
    if frame.height == 0:
        raise FileRejected(path, "has a header row but no data rows")

    warnings: list[str] = []
    dropped = protect.identifying_columns(frame.columns)
    frame = frame.drop(dropped)

    # Versions decide which items exist; an unknown version makes the whole file unreadable.
    versjon = frame.get_column("versjon").str.strip_chars().str.to_lowercase()
    unknown = versjon.is_not_null() & ~versjon.is_in(list(books))
    if unknown.any():
        line = _first_line(table, unknown)
        value = versjon.filter(unknown)[0]
        raise FileRejected(
            path,
            f"unknown instrument version '{value}'; expected one of {', '.join(sorted(books))}",
            row=line,
            column="versjon",
        )
    frame = frame.with_columns(versjon.alias("versjon"))
    versions = sorted(set(versjon.drop_nulls().to_list()))

    orgnr = frame.get_column("skole_orgnr").str.strip_chars()
    outside = orgnr.is_not_null() & ~orgnr.is_in(sorted(roster_orgnrs))
    if outside.any():
        raise FileRejected(
            path,
            f"school '{orgnr.filter(outside)[0]}' is not in the programme roster (program.csv); "
            "add it to the roster first",
            row=_first_line(table, outside),
            column="skole_orgnr",
        )
    frame = frame.with_columns(orgnr.alias("skole_orgnr"))

    nomination_cols = [c for c in frame.columns if c in nomination_items]
    preventive = {v for v in versions if books[v].formal == "forebyggende"
                  and not any(i.is_nomination for i in books[v].items.values())}
    if nomination_cols and preventive:
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
                    row=_first_line(table, filled) if filled.any() else None,
                    column=col,
                )

    # Items: the union over the versions in the file; others are unknown extra columns.
    item_codes = item_scale_codes({v: books[v] for v in versions})
    extra = [c for c in frame.columns if c not in known]
    if extra:
        warnings.append(f"{path}: ignored unknown column(s) {', '.join(extra)} (not stored)")
    answer_cols = [c for c in frame.columns if c in item_codes]
    not_in_versions = [c for c in frame.columns
                       if c in all_items and c not in item_codes and c not in nomination_items]
    if not_in_versions:
        warnings.append(
            f"{path}: column(s) {', '.join(not_in_versions)} are not items of "
            f"{', '.join(versions)}; ignored"
        )

    # Protect: raw ids are replaced by pseudonyms before anything else reads them.
    raw_ids = frame.get_column("elev_id")
    frame = frame.with_columns(protect.pseudonymise_column(raw_ids, key).alias("elev")).drop(
        "elev_id"
    )
    for col in nomination_cols:
        frame = frame.with_columns(protect.pseudonymise_nominations(frame.get_column(col), key))
    raw_cells = frame  # text cells (pseudonymised) for quarantine values

    label_maps: dict[str, dict[str, int]] = {}
    for v in versions:
        for item in books[v].answer_items:
            label_maps.setdefault(item.code, books[v].scales[item.scale].label_map())
    for col in OPTIONAL_COLUMNS:
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(col))
    typed = frame.with_row_index("_i").with_columns(table.line_numbers()).select(
        "_i",
        "_line",
        pl.col("skole_orgnr"),
        pl.col("gruppe").str.strip_chars(),
        _trinn_expr(),
        pl.col("elev"),
        _date_expr(),
        pl.col("versjon"),
        _normalised(pl.col("kjonn")).alias("kjonn"),
        _normalised(pl.col("formal")).alias("formal"),
        pl.coalesce(_clean_number_text(pl.col("runde")), pl.lit(DEFAULT_RUNDE)).alias("runde"),
        *[_code_expr(c, label_maps[c]) for c in answer_cols],
        *[pl.col(c) for c in nomination_cols],
    )
    schema = spekter_schema({c: item_codes[c] for c in answer_cols}, list(books), today,
                            item_scale_labels({v: books[v] for v in versions}))
    failures = _unparsed_failures(frame, typed)
    explained = {(f.index, f.column) for f in failures}
    failures += [f for f in collect_failures(schema, typed.drop("_i", "_line"))
                 if (f.index, f.column) not in explained]

    # Cross-column rules.
    expected_formal = pl.col("versjon").replace_strict(
        {v: b.formal for v, b in books.items()}, default=None
    )
    bad_formal = typed.filter(
        pl.col("formal").is_not_null() & (pl.col("formal") != expected_formal)
    )
    failures += [RowFailure(int(i), "formal", "the purpose that matches versjon "
                            "(forebyggende or mistanke)") for i in bad_formal.get_column("_i")]
    typed = typed.with_columns(_term_expr())
    key_cols = ["skole_orgnr", "term", "versjon", "runde", "elev"]
    dups = typed.filter(
        pl.col("elev").is_not_null() & pl.col("dato").is_not_null()
        & pl.struct(key_cols).is_duplicated()
    )
    if dups.height:
        lines = dups.group_by(key_cols).agg(pl.col("_i"))
        for group in lines.get_column("_i").to_list():
            where = ", ".join(str(table.line_of(i)) for i in group)
            for i in group:
                failures.append(RowFailure(int(i), "elev", "each pupil once per round "
                                           f"(the same elev_id is on lines {where})"))

    quarantine = _quarantine_records(table, raw_cells, failures)
    bad_rows = sorted({f.index for f in failures})
    good = typed.filter(~pl.col("_i").is_in(bad_rows))
    if good.height == 0:
        first = quarantine.row(0, named=True)
        raise FileRejected(
            path,
            f"every row failed validation ({len(bad_rows)} rows); the first: got "
            f"{first['value']!r}, {first['reason']}",
            row=first["row_number"],
            column=first["column_name"],
        )
    return _long_format(table, good, answer_cols, nomination_cols, books, quarantine, warnings)


def _unparsed_failures(raw: pl.DataFrame, typed: pl.DataFrame) -> list[RowFailure]:
    """Cells with text that could not be read as a date (the schema would only see 'empty')."""
    bad = typed.filter(pl.col("dato").is_null() & raw.get_column("dato").is_not_null())
    return [RowFailure(int(i), "dato", "a date as YYYY-MM-DD or DD.MM.YYYY")
            for i in bad.get_column("_i")]


def _quarantine_records(
    table: RawTable, raw_cells: pl.DataFrame, failures: list[RowFailure]
) -> pl.DataFrame:
    if not failures:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    rows = []
    for f in sorted(failures, key=lambda f: (f.index, f.column)):
        value = raw_cells.get_column(f.column)[f.index] if f.column in raw_cells.columns else None
        column = "elev_id" if f.column == "elev" else f.column
        if value is not None:
            value = str(value)[:80]
        rows.append((table.line_of(f.index), column, value, f"expected {f.reason}"))
    return pl.DataFrame(rows, schema=QUARANTINE_SCHEMA, orient="row")


def _long_format(
    table: RawTable,
    good: pl.DataFrame,
    answer_cols: list[str],
    nomination_cols: list[str],
    books: dict[str, Codebook],
    quarantine: pl.DataFrame,
    warnings: list[str],
) -> MappedFile:
    round_id = pl.concat_str(
        ["skole_orgnr", "term", "versjon", "runde"], separator=":"
    ).alias("round_id")
    good = good.with_columns(round_id)
    responses = good.select(
        *[pl.col(c).cast(t) if c != "row_number" else pl.col("_line").alias("row_number")
          for c, t in RESPONSE_SCHEMA.items()]
    )
    valid_pairs = pl.DataFrame(
        [(v, i.code) for v, b in books.items() for i in b.answer_items],
        schema={"versjon": pl.String, "item": pl.String},
        orient="row",
    )
    if answer_cols:
        answers = (
            good.select("round_id", "gruppe", "elev", "versjon", *answer_cols)
            .unpivot(index=["round_id", "gruppe", "elev", "versjon"], on=answer_cols,
                     variable_name="item", value_name="value")
            .join(valid_pairs, on=["versjon", "item"], how="inner")
            .select("round_id", "gruppe", "elev", "item", pl.col("value").cast(pl.Int16))
        )
    else:
        answers = pl.DataFrame(schema={"round_id": pl.String, "gruppe": pl.String,
                                       "elev": pl.String, "item": pl.String,
                                       "value": pl.Int16})
    nom_frames = []
    for col in nomination_cols:
        nom_frames.append(
            good.select("round_id", "gruppe", "elev", pl.lit(col).alias("item"),
                        pl.col(col).str.split(protect.NOMINATION_SEPARATOR).alias("nominee"))
            .explode("nominee")
            .filter(pl.col("nominee").is_not_null() & (pl.col("nominee") != ""))
        )
    nominations = (
        pl.concat(nom_frames) if nom_frames else
        pl.DataFrame(schema={"round_id": pl.String, "gruppe": pl.String, "elev": pl.String,
                             "item": pl.String, "nominee": pl.String})
    )
    return MappedFile(
        rows_read=table.frame.height,
        responses=responses,
        answers=answers,
        nominations=nominations,
        quarantine=quarantine,
        warnings=warnings,
    )
