"""Rendering of the result: blank the hidden numbers, one mark and one reason for every small
or protecting cell, and the notes readers see (bokmål and English)."""

from __future__ import annotations

import polars as pl

from lmp_analytics.privacy.declarations import (
    COMPLEMENTARY,
    DERIVED,
    HIDDEN_MARK,
    META_COLUMNS,
    N_DISPLAY,
    NOTE_EN,
    NOTE_NB,
    PRIMARY,
    PRIVACY,
    REASON,
    SOURCE,
    SUPPRESSED,
)
from lmp_analytics.privacy.equations import State

NOTES = {
    PRIVACY: (
        "skjult av personvernhensyn: færre enn {} svar, eller skjult for at andre skjulte tall "
        "ikke skal kunne regnes ut",
        "hidden for privacy: fewer than {} responses, or hidden so that other hidden numbers "
        "cannot be worked out",
    ),
    DERIVED: (
        "skjult fordi et tall endringen bygger på er skjult",
        "hidden because a number the change is based on is hidden",
    ),
    SOURCE: ("skjult i kilden", "suppressed at source"),
}


def render(
    cells: pl.DataFrame,
    keys: tuple[str, ...],
    labels: tuple[str, ...],
    n_column: str,
    st: State,
) -> pl.DataFrame:
    hidden = pl.Series(SUPPRESSED, st.hidden, dtype=pl.Boolean)
    reason = pl.Series(REASON, st.reason, dtype=pl.String)
    t = pl.Series("__t", st.threshold, dtype=pl.Int64)
    out = cells.drop([c for c in META_COLUMNS if c in cells.columns])
    values = [c for c in out.columns if c not in keys and c not in labels]
    # small and protecting cells read alike: the reader's reason, note and mark
    out = out.with_columns(
        hidden,
        pl.when(reason.is_in([PRIMARY, COMPLEMENTARY])).then(pl.lit(PRIVACY))
        .otherwise(reason).alias(REASON),
        t,
    )
    blank = pl.col(SUPPRESSED)

    def note(lang: int) -> pl.Expr:
        expr = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
        for reason_, texts in NOTES.items():
            text = (pl.format(texts[lang], pl.col("__t")) if "{}" in texts[lang]
                    else pl.lit(texts[lang]))
            expr = expr.when(pl.col(REASON) == reason_).then(text)
        return expr.otherwise(pl.lit(None, dtype=pl.String))

    return out.with_columns(
        *[pl.when(blank).then(None).otherwise(pl.col(c)).alias(c) for c in values],
        pl.when(~blank)
        .then(pl.col(n_column).cast(pl.String))
        .otherwise(pl.lit(HIDDEN_MARK))
        .alias(N_DISPLAY),
        note(0).alias(NOTE_NB),
        note(1).alias(NOTE_EN),
    ).drop("__t")
