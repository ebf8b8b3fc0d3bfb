"""Shape the valid typed rows for the warehouse: responses, wide answer blocks (unpivoted where
they are stored), nominations one row per nominee."""

from __future__ import annotations

import polars as pl

from lmp_analytics.codebook import Codebook
from lmp_analytics.ingest import protect
from lmp_analytics.ingest.mapped import (
    FILE_COL,
    LINE_COL,
    NOMINATION_SCHEMA,
    RESPONSE_SCHEMA,
    WideAnswers,
)


def long_format(
    good: pl.DataFrame,
    files: list[int],
    columns_of: dict[int, tuple[list[str], list[str]]],
    nomination_cols: list[str],
    books: dict[str, Codebook],
    versions: tuple[str, ...],
) -> tuple[pl.DataFrame, list[WideAnswers], pl.DataFrame]:
    """(responses, wide answer blocks, nominations) of the valid rows ``good`` of ``files``."""
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

