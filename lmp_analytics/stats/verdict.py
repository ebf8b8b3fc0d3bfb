"""Plain-language verdicts and caveats for a change, in bokmål (default) and English.

The verdict is read off the interval only: entirely below 0 → clear decrease, entirely above 0 →
clear increase, otherwise no clear change. It names the direction of the indicator, not whether
that is good (a fall in ``mobbet`` is good, a fall in ``trivsel_skala`` is not).
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Literal

import polars as pl

from lmp_analytics.stats._common import StatsInputError

__all__ = [
    "Verdict",
    "power_caveat",
    "rtm_caveat",
    "verdict_expr",
    "verdict_from_interval",
    "verdict_label",
]

Lang = Literal["nb", "en"]


class Verdict(StrEnum):
    """Verdict on a change; the value is the bokmål label shown by default."""

    DECREASE = "tydelig nedgang"
    NO_CLEAR_CHANGE = "ingen tydelig endring"
    INCREASE = "tydelig økning"


_ENGLISH = {
    Verdict.DECREASE: "clear decrease",
    Verdict.NO_CLEAR_CHANGE: "no clear change",
    Verdict.INCREASE: "clear increase",
}

_POWER_CAVEAT = {
    "nb": (
        "En enkelt skole har sjelden nok elever til å vise en tydelig endring, selv når "
        "programmet virker: i simuleringer med omtrent 180 elever per skole ble en reell nedgang "
        "på 2–3 prosentpoeng fanget opp ved bare rundt 1 av 8 skoler. «Ingen tydelig endring» "
        "betyr at endringen ikke kan skilles fra tilfeldig variasjon – ikke at programmet ikke "
        "virker."
    ),
    "en": (
        "A single school rarely has enough pupils to show a clear change, even when the "
        "programme works: in simulations with about 180 pupils per school, a real decrease of "
        "2–3 percentage points was detected at only about 1 in 8 schools. 'No clear change' means "
        "the change cannot be told apart from chance variation – not that the programme has no "
        "effect."
    ),
}

_RTM_CAVEAT = {
    "nb": (
        "Skolene ble valgt ut fordi de hadde mye mobbing. En del av en nedgang er derfor ventet "
        "også uten programmet (regresjon mot gjennomsnittet). Programmets virkning anslås ved "
        "sammenligning med skoler som ennå ikke har startet (DiD)."
    ),
    "en": (
        "Schools were selected for high bullying, so part of any decrease is expected even "
        "without the programme (regression to the mean). The programme's effect is estimated by "
        "comparison with schools that have not yet started (difference-in-differences)."
    ),
}


def _lang(lang: str) -> str:
    if lang not in ("nb", "en"):
        raise StatsInputError(f"language must be 'nb' or 'en', got {lang!r}")
    return lang


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


def verdict_label(verdict: Verdict | str, lang: Lang = "nb") -> str:
    """The verdict's label in bokmål ('nb') or English ('en')."""
    v = Verdict(verdict)
    return v.value if _lang(lang) == "nb" else _ENGLISH[v]


def power_caveat(lang: Lang = "nb") -> str:
    """Why a single school's 'no clear change' is the normal case, not evidence of no effect."""
    return _POWER_CAVEAT[_lang(lang)]


def rtm_caveat(lang: Lang = "nb") -> str:
    """Regression-to-the-mean warning for before/after views of selected schools."""
    return _RTM_CAVEAT[_lang(lang)]
