"""Test guards: assert that an output path shows no hidden number and only numbers the
engine released (moved out of the package: only tests use them)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from lmp_analytics.privacy.declarations import (
    HIDDEN_MARK,
    META_COLUMNS,
    N_DISPLAY,
    SUPPRESSED,
    describe,
)


def assert_no_hidden_numbers(
    frame: pl.DataFrame, *, keys: Sequence[str], labels: Sequence[str] = ()
) -> None:
    """Raise AssertionError if a suppressed row carries any number (or the frame never went
    through :func:`suppress`)."""
    missing = [c for c in (SUPPRESSED, N_DISPLAY) if c not in frame.columns]
    if missing:
        raise AssertionError(f"frame was not suppressed: no column(s) {missing}")
    keep = set(keys) | set(labels) | set(META_COLUMNS)
    values = [c for c in frame.columns if c not in keep]
    hidden = frame.filter(pl.col(SUPPRESSED).fill_null(True))
    for col in values:
        leak = hidden.filter(pl.col(col).is_not_null())
        if leak.height:
            raise AssertionError(
                f"suppressed cell {describe(leak, 0, keys)} shows '{col}' = {leak[col][0]!r}"
            )
    bad = [s for s in hidden[N_DISPLAY].to_list() if s != HIDDEN_MARK]
    if bad:
        raise AssertionError(
            f"suppressed cells show n as {bad[:3]!r}, expected {HIDDEN_MARK!r} (one mark for "
            "every hidden cell)"
        )


def assert_matches_suppressed(
    shown: pl.DataFrame,
    suppressed: pl.DataFrame,
    *,
    keys: Sequence[str],
    columns: Sequence[str] | None = None,
) -> None:
    """Raise AssertionError unless every number ``shown`` (an export, chart data) is a visible
    number of the engine's result: hidden cells must be blank or absent there."""
    keys = list(keys)
    cols = list(columns) if columns is not None else [
        c for c in shown.columns if c not in keys and c not in META_COLUMNS
    ]
    ref = suppressed.select(*keys, SUPPRESSED, *[pl.col(c).alias(f"{c}__ref") for c in cols])
    joined = shown.select(*keys, *cols).join(ref, on=keys, how="left", nulls_equal=True)
    unknown = joined.filter(pl.col(SUPPRESSED).is_null())
    if unknown.height:
        raise AssertionError(f"cell {describe(unknown, 0, keys)} is not in the suppressed result")
    for c in cols:
        bad = joined.filter(
            pl.col(c).is_not_null()
            & (pl.col(SUPPRESSED) | pl.col(f"{c}__ref").is_null()
               | (pl.col(c) != pl.col(f"{c}__ref")).fill_null(True))
        )
        if bad.height:
            raise AssertionError(
                f"cell {describe(bad, 0, keys)} shows '{c}' = {bad[c][0]!r}, which the "
                "suppression engine did not release"
            )
