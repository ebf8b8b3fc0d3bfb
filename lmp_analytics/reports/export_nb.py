"""The indicator export for Norwegian Excel (``lmp export --excel-nb``).

Norwegian Excel reads a CSV with ``;`` between fields and a decimal comma; with the
machine-readable default (``,`` and a decimal point) it shows every row as one column. This
table is for reading, not for further processing: labelled headers in the chosen language,
values rounded (shares as percent with one decimal, scale means with two), terms in words
("høsten 2025"), and words instead of codes (role, indicator, interval method, yes/no). The
rows and their suppression are exactly those of :func:`lmp_analytics.reports.export.
export_table`; a hidden cell keeps its keys and has empty numbers. Text cells go through
:mod:`lmp_analytics.spreadsheet`, so no cell can become a formula.

The header and code labels live in ``presentation/strings/*.toml`` (``export.*``); the term and
number style in :mod:`lmp_analytics.presentation.fmt`.
"""

from __future__ import annotations

import io

import polars as pl

from lmp_analytics import spreadsheet
from lmp_analytics.codebook import load_codebooks
from lmp_analytics.frames import each_value
from lmp_analytics.presentation import fmt
from lmp_analytics.presentation.strings import check_lang, has, text

#: Exported columns, in order: (source column, how the value is written).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("level", "code"), ("kommunenummer", "text"), ("skole_orgnr", "text"), ("skole", "text"),
    ("rolle", "code"), ("pulje", "term"), ("term", "term"), ("indicator", "indicator"),
    ("breakdown", "code"), ("breakdown_value", "text"), ("n", "int"), ("count", "int"),
    ("share", "percent"), ("ci_low", "percent"), ("ci_high", "percent"),
    ("mean", "mean"), ("mean_ci_low", "mean"), ("mean_ci_high", "mean"),
    ("n_schools", "int"), ("ci_method", "code"), ("suppressed", "yesno"),
    ("suppression_reason", "code"),
)
SEPARATOR = ";"


def _indicator_labels(lang: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for book in sorted(load_codebooks().values(), key=lambda b: b.version):
        labels.update({i: ind.label(lang) for i, ind in book.indicators.items()})
    return labels


def _code(value: str | None, lang: str) -> str | None:
    """A code in words where the language files have it (``export.code.<value>``)."""
    if value is None or value == "":
        return value
    key = f"export.code.{value}"
    return text(key, lang) if has(key) else value


def excel_table(frame: pl.DataFrame, lang: str = "nb") -> pl.DataFrame:
    """``frame`` (the rows of ``export_table``) as the labelled, rounded table for reading:
    numbers stay numbers (floats rounded, counts as integers), codes and terms become words,
    headers come from ``export.column.*``."""
    check_lang(lang)
    labels = _indicator_labels(lang)
    exprs = []
    for column, how in COLUMNS:
        if column not in frame.columns:
            continue
        col = pl.col(column)
        if how == "percent":
            expr = (col.cast(pl.Float64) * 100).round(1)
        elif how == "mean":
            expr = col.cast(pl.Float64).round(2)
        elif how == "int":
            expr = col.cast(pl.Int64)
        elif how == "term":
            expr = each_value(frame.select(col.cast(pl.String)), column,
                              lambda t: fmt.term(t, lang))
        elif how == "indicator":
            expr = col.cast(pl.String).replace(labels)
        elif how == "code":
            expr = each_value(frame.select(col.cast(pl.String)), column,
                              lambda v: _code(v, lang))
        elif how == "yesno":
            expr = (pl.when(col).then(pl.lit(text("export.yes", lang)))
                    .otherwise(pl.lit(text("export.no", lang))))
        else:
            expr = col.cast(pl.String)
        exprs.append(expr.alias(text(f"export.column.{column}", lang)))
    return frame.select(exprs)


def excel_csv_bytes(frame: pl.DataFrame, lang: str = "nb") -> bytes:
    """:func:`excel_table` as CSV for Norwegian Excel: UTF-8 with a byte-order mark (so Excel
    reads æøå), ``;`` between fields, decimal comma, formula-safe text cells."""
    table = excel_table(frame, lang)
    buf = io.BytesIO()
    buf.write(b"\xef\xbb\xbf")
    buf.write(spreadsheet.csv_bytes(table, separator=SEPARATOR, decimal_comma=True))
    return buf.getvalue()
