"""The verdict on a change, read off its interval (its words and caveats are in
:mod:`lmp_analytics.presentation.labels`).

The verdict is read off the interval only: entirely below 0 → clear decrease, entirely above 0 →
clear increase, otherwise no clear change. It names the direction of the indicator, not whether
that is good (a fall in ``mobbet`` is good, a fall in ``trivsel_skala`` is not).
"""

from __future__ import annotations

import math
from enum import StrEnum

import polars as pl

from lmp_analytics.stats._common import StatsInputError

__all__ = [
    "Verdict",
    "verdict_expr",
    "verdict_from_interval",
]

class Verdict(StrEnum):
    """Verdict on a change. The value is the stored code (it reads as the bokmål label);
    :func:`lmp_analytics.presentation.labels.verdict_label` gives the words per language."""

    DECREASE = "tydelig nedgang"
    NO_CLEAR_CHANGE = "ingen tydelig endring"
    INCREASE = "tydelig økning"



def verdict_from_interval(
    ci_low: float | None, ci_high: float | None, *, tested: bool = True
) -> Verdict | None:
    """Verdict from a two-sided interval for a change; None if untested or no interval."""
    if not tested or ci_low is None or ci_high is None:
        return None
    if math.isnan(ci_low) or math.isnan(ci_high):
        return None
    if ci_low > ci_high:
        raise StatsInputError(f"interval ({ci_low}, {ci_high}) has its limits in the wrong order")
    if ci_high < 0:
        return Verdict.DECREASE
    if ci_low > 0:
        return Verdict.INCREASE
    return Verdict.NO_CLEAR_CHANGE


def verdict_expr(ci_low: str, ci_high: str, tested: str) -> pl.Expr:
    """:func:`verdict_from_interval` as a polars expression over columns (its bokmål value as
    text; null when untested or the interval is missing or NaN). The caller checks that no
    interval has its limits in the wrong order."""
    low, high = pl.col(ci_low), pl.col(ci_high)
    usable = (pl.col(tested).fill_null(False) & low.is_not_null() & high.is_not_null()
              & ~low.is_nan() & ~high.is_nan())
    return (pl.when(~usable).then(pl.lit(None, pl.String))
            .when(high < 0).then(pl.lit(Verdict.DECREASE.value))
            .when(low > 0).then(pl.lit(Verdict.INCREASE.value))
            .otherwise(pl.lit(Verdict.NO_CLEAR_CHANGE.value)))
