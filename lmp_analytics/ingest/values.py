"""Typed values from text cells as polars expressions: answer labels to codes, grades, dates,
terms; :func:`per_value` evaluates one once per distinct value."""

from __future__ import annotations

import polars as pl

from lmp_analytics.codebook import Codebook
from lmp_analytics.ingest.schemas import UNKNOWN_CODE, item_scale_codes, item_scale_labels

DEFAULT_RUNDE = "1"
_DASH_RE = r"[\-\u2010\u2011\u2012\u2013\u2014\u2212]"


def clean_number_text(expr: pl.Expr) -> pl.Expr:
    """``' 3 '`` / ``'3.0'`` (Excel) -> ``'3'``."""
    return expr.str.strip_chars().str.replace(r"^(\d+)\.0+$", "${1}")


def normalised(expr: pl.Expr) -> pl.Expr:
    return (
        clean_number_text(expr)
        .str.to_lowercase()
        .str.replace_all(_DASH_RE, " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def code_expr(column: str, label_map: dict[str, int]) -> pl.Expr:
    norm = normalised(pl.col(column))
    return (
        pl.when(pl.col(column).is_null())
        .then(None)
        .otherwise(norm.replace_strict(label_map, default=UNKNOWN_CODE, return_dtype=pl.Int16))
        .alias(column)
    )


def trinn_expr() -> pl.Expr:
    raw = (clean_number_text(pl.col("trinn")).str.to_lowercase().str.replace_all(r"\s+", "")
           .str.replace(r"^(\d+)\.?(trinn)?$", "${1}"))  # '5. trinn' -> '5'
    vg = raw.str.extract(r"^vg([1-3])$").cast(pl.Int16) + 10
    return (
        pl.when(pl.col("trinn").is_null()).then(None)
        .otherwise(pl.coalesce(vg, raw.cast(pl.Int16, strict=False), pl.lit(-1, pl.Int16)))
        .cast(pl.Int16)
        .alias("trinn")
    )


def date_expr() -> pl.Expr:
    raw = pl.col("dato").str.strip_chars()
    return pl.coalesce(
        raw.str.to_date("%Y-%m-%d", strict=False),
        raw.str.to_date("%d.%m.%Y", strict=False),
        raw.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
    ).alias("dato")


def term_expr() -> pl.Expr:
    return pl.concat_str(
        pl.col("dato").dt.year().cast(pl.String),
        pl.when(pl.col("dato").dt.month() >= 8).then(pl.lit("H")).otherwise(pl.lit("V")),
    ).alias("term")


def per_value(frame: pl.DataFrame, name: str, expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
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


def item_sets(books: dict[str, Codebook], versions: tuple[str, ...]) -> tuple:
    """Allowed codes, readable labels and label maps of the answer items of ``versions``."""
    chosen = {v: books[v] for v in versions}
    label_maps: dict[str, dict[str, int]] = {}
    for v in versions:
        for item in books[v].answer_items:
            label_maps.setdefault(item.code, books[v].scales[item.scale].label_map())
    return item_scale_codes(chosen), item_scale_labels(chosen), label_maps
