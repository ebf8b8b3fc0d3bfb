"""What mapping yields: the contract columns of an export, the schemas of the mapped frames, and
:class:`MappedFile` / :class:`MappedBatch` (answers kept wide until they reach DuckDB)."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from lmp_analytics.codebook import Codebook
from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.readers import RawTable

REQUIRED_COLUMNS = ["skole_orgnr", "gruppe", "trinn", "elev_id", "dato", "versjon"]
OPTIONAL_COLUMNS = ["kjonn", "formal", "runde"]

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


ANSWER_SCHEMA = {"round_id": pl.String, "gruppe": pl.String, "elev": pl.String,
                 "item": pl.String, "value": pl.Int16, FILE_COL: pl.Int64}
NOMINATION_SCHEMA = {"round_id": pl.String, "gruppe": pl.String, "elev": pl.String,
                     "item": pl.String, "nominee": pl.String, FILE_COL: pl.Int64}


def assemble(tables, rejected, rows_read, warnings, parts, books) -> MappedBatch:
    """The batch from the mapped parts of each group of files (responses, wide answers,
    nominations, quarantine), with the per-file outcomes."""
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
