"""Validate typed rows: the pandera contract of an export, the cross-column rules (purpose, one
answer per pupil and round), quarantine records of failed cells, files whose every row failed,
and the answer rows' warehouse contract before they are stored."""

from __future__ import annotations

import polars as pl

from lmp_analytics.codebook import Codebook
from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.mapped import (
    FILE_COL,
    INDEX_COL,
    LINE_COL,
    QUARANTINE_SCHEMA,
    WideAnswers,
)
from lmp_analytics.ingest.readers import RawTable
from lmp_analytics.ingest.schemas import (
    EARLIEST_DATE,
    RowFailure,
    answer_table_schema,
    collect_failures,
    early_date_reason,
)
from lmp_analytics.presentation.messages import rejection

KEY_COLS = [FILE_COL, "skole_orgnr", "term", "versjon", "runde", "elev"]


def schema_failures(raw: pl.DataFrame, typed: pl.DataFrame, schema) -> list[RowFailure]:
    """Unreadable and too early dates, then every other cell the export's ``schema`` refuses
    (one failure per cell; indexes are ``_i``)."""
    failures = _unparsed_failures(raw, typed)
    explained = {(f.index, f.column) for f in failures}
    position = typed.get_column(INDEX_COL)
    failures += [
        RowFailure(int(position[f.index]), f.column, f.reason, f.code)
        for f in collect_failures(schema, typed.drop(INDEX_COL, LINE_COL, FILE_COL),
                                  default_code="value_out_of_range")
        if (int(position[f.index]), f.column) not in explained
    ]
    return failures


def purpose_failures(typed: pl.DataFrame, books: dict[str, Codebook]) -> list[RowFailure]:
    """Rows whose ``formal`` is not the purpose of their version."""
    expected_formal = pl.col("versjon").replace_strict(
        {v: b.formal for v, b in books.items()}, default=None
    )
    bad_formal = typed.filter(
        pl.col("formal").is_not_null() & (pl.col("formal") != expected_formal)
    )
    return [RowFailure(int(i), "formal", "the purpose that matches versjon "
                       "(forebyggende or mistanke)", "purpose_mismatch")
            for i in bad_formal.get_column(INDEX_COL)]


def duplicate_failures(typed: pl.DataFrame) -> list[RowFailure]:
    """Every row of a pupil who is on more than one row of the same file and round (``typed``
    has ``term``)."""
    failures: list[RowFailure] = []
    dups = typed.filter(
        pl.col("elev").is_not_null() & pl.col("dato").is_not_null()
        & pl.struct(KEY_COLS).is_duplicated()
    )
    if dups.height:
        lines = dups.group_by(KEY_COLS).agg(pl.col(INDEX_COL), pl.col(LINE_COL))
        for group, group_lines in lines.select(INDEX_COL, LINE_COL).iter_rows():
            where = ", ".join(str(line) for line in group_lines)
            for i in group:
                failures.append(RowFailure(int(i), "elev", "each pupil once per round "
                                           f"(the same elev_id is on lines {where})",
                                           "duplicate_pupil"))
    return failures


def split_valid(typed: pl.DataFrame, quarantine: pl.DataFrame, tables: list[RawTable],
                files: list[int], rejected: list[FileRejected | None],
                ) -> tuple[pl.DataFrame, pl.DataFrame, list[int]]:
    """(valid rows, quarantine, files kept): a file whose every row failed is rejected (nothing
    of it is stored); the rows with a failed cell go to the quarantine."""
    bad = quarantine.select(INDEX_COL, FILE_COL).unique()
    bad_per_file = dict(bad.group_by(FILE_COL).len().iter_rows())
    rows_per_file = dict(typed.group_by(FILE_COL).len().iter_rows())
    for i in files:
        n_bad = bad_per_file.get(i, 0)
        if n_bad and n_bad == rows_per_file.get(i, 0):
            first = quarantine.filter(pl.col(FILE_COL) == i).row(0, named=True)
            rejected[i] = rejection(tables[i].path, "every_row_failed", n=n_bad,
                                    value=repr(first["value"]), reason=first["reason"],
                                    code=first.get("reason_code"), row=first["row_number"],
                                    column=first["column_name"])
    keep = [i for i in files if rejected[i] is None]
    good = typed.join(bad.select(INDEX_COL), on=INDEX_COL, how="anti") if bad.height else typed
    if len(keep) < len(files):
        good = good.filter(pl.col(FILE_COL).is_in(keep))
        quarantine = quarantine.filter(pl.col(FILE_COL).is_in(keep))
    return good, quarantine, keep


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


def quarantine_records(raw_cells: pl.DataFrame, failures: list[RowFailure]) -> pl.DataFrame:
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


def conflict_quarantine(conflicts: pl.DataFrame) -> pl.DataFrame:
    """Quarantine records (QUARANTINE_SCHEMA) of pupils who already answered the round in another
    stored group (``conflicts``: row_number, elev, other_gruppe, other_path)."""
    return conflicts.select(
        pl.col("row_number"),
        pl.lit("elev_id").alias("column_name"),
        pl.col("elev").alias("value"),
        pl.format(
            "expected each pupil once per round (this pupil already answered the round "
            "in gruppe {} from {})", "other_gruppe", "other_path"
        ).alias("reason"),
        pl.lit("pupil_in_other_group").alias("reason_code"),
    ).cast(QUARANTINE_SCHEMA)


def check_answers(path: str, answers: pl.DataFrame) -> None:
    """Long answer rows keep the ``fct_answer`` contract (mapping guarantees it; a failure is a
    bug, not bad data)."""
    failures = collect_failures(answer_table_schema(), answers)
    if failures:
        raise RuntimeError(f"{path}: answer rows broke the warehouse contract: {failures[:3]}")


def check_answer_contract(wide: list[WideAnswers], paths: dict[int, str]) -> None:
    """What :func:`check_answers` checks per file, for many files: every answer row keeps the
    ``fct_answer`` contract (mapping guarantees it; a failure is a bug, not bad data).

    The contract's checks are per cell, so a long row fails exactly when its pupil columns or its
    value fail: the pupil columns are checked once per pupil and the values once per distinct code.
    """
    schema = answer_table_schema()
    for part in wide:
        f = part.frame
        pupils = f.select("round_id", "gruppe", "elev", pl.lit(part.columns[0]).alias("item"),
                          pl.lit(None, pl.Int16).alias("value"), FILE_COL)
        codes = pl.concat([f.select(pl.col(c).alias("value")) for c in part.columns]).unique()
        values = pupils.head(1).drop("value").join(codes, how="cross").select(pupils.columns)
        probe = pl.concat([pupils, values])
        failures = collect_failures(schema, probe.drop(FILE_COL))
        if failures:
            path = paths[int(probe.get_column(FILE_COL)[failures[0].index])]
            raise RuntimeError(f"{path}: answer rows broke the warehouse contract: {failures[:3]}")
