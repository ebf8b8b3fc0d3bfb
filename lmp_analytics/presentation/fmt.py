"""Numbers as text, the one place any surface (report, dashboard, CLI) turns a number into text.

Bokmål writes ``12,3 %`` (decimal comma, a no-break space before the percent sign and as the
thousands separator), English ``12.3%``. Negative numbers use the minus sign U+2212, and changes
always carry their sign.

Percentage points are written ``p.p.`` in bokmål and ``pp`` in English: the cells are narrow
(tables in a two-column A4 report and the dashboard), so the full word *prosentpoeng* is kept for
axis titles and running text, and ``p.p.`` is the abbreviation Norwegian statistics publications
(SSB) use; it also cannot be misread as the English-looking ``pp``. The units come from the
language's string file (``unit.*``), so a new language brings its own.

Every function returns ``empty`` ('' unless told) for a missing value (None or NaN): reports
leave the cell blank, dashboards pass ``empty=DASH``.
"""

from __future__ import annotations

import math

from lmp_analytics.presentation.strings import LANGS, Lang, check_lang, text

NBSP = "\u00a0"
MINUS = "\u2212"
DASH = "\u2013"  # en dash between interval limits
HIDDEN = "\u2013"  # what a hidden or missing number shows in a report


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(x: float | None, lang: str, digits: int = 1, *, signed: bool = False,
           empty: str = "") -> str:
    """``x`` with ``digits`` decimals in the language's style."""
    if _missing(x):
        return empty
    value = round(float(x), digits)
    if value == 0:
        value = 0.0  # no "-0,0"
    out = f"{abs(value):,.{digits}f}"
    if lang != "en":
        out = out.replace(",", " ").replace(".", ",").replace(" ", NBSP)
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    return sign + out


def integer(n: int | None, lang: str, *, empty: str = "") -> str:
    """A count: ``1 234`` (nb, no-break space) or ``1,234`` (en)."""
    return empty if _missing(n) else number(float(n), lang, 0)


def percent(share: float | None, lang: str, digits: int = 1, *, empty: str = "") -> str:
    """A share (0-1) as a percentage: ``12,3 %`` / ``12.3%``."""
    if _missing(share):
        return empty
    return number(100 * float(share), lang, digits) + text("unit.percent", lang)


def points(diff: float | None, lang: str, digits: int = 1, *, signed: bool = True,
           empty: str = "") -> str:
    """A change in a share (fraction) in percentage points: ``−2,1 p.p.`` / ``−2.1 pp``."""
    if _missing(diff):
        return empty
    return (f"{number(100 * float(diff), lang, digits, signed=signed)}{NBSP}"
            f"{text('unit.points', lang)}")


def mean(x: float | None, lang: str, digits: int = 2, *, signed: bool = False,
         empty: str = "") -> str:
    """A scale mean (or a difference of means): ``3,41``."""
    return number(x, lang, digits, signed=signed, empty=empty)


def interval(low: float | None, high: float | None, lang: str, *, kind: str = "share",
             change: bool = False, unit: bool = False, empty: str = "") -> str:
    """Interval limits: ``9,1–16,4`` (a share in percent, a change in points, a mean with two
    decimals); ``unit=True`` adds the percent sign after a share's interval."""
    if _missing(low) or _missing(high):
        return empty
    if kind == "share":
        lo = number(100 * float(low), lang, 1, signed=change)
        hi = number(100 * float(high), lang, 1, signed=change)
        tail = text("unit.percent", lang) if unit and not change else ""
    else:
        lo = number(low, lang, 2, signed=change)
        hi = number(high, lang, 2, signed=change)
        tail = ""
    return f"{lo}{DASH}{hi}{tail}"


def value(x: float | None, kind: str, lang: str, *, empty: str = "") -> str:
    """A level: a share in percent or a scale mean (two decimals)."""
    return percent(x, lang, empty=empty) if kind == "share" else mean(x, lang, empty=empty)


def change(diff: float | None, kind: str, lang: str, *, empty: str = "") -> str:
    """A change: percentage points for a share, a signed difference of means for a scale."""
    if kind == "share":
        return points(diff, lang, empty=empty)
    return mean(diff, lang, signed=True, empty=empty)


def change_interval(low: float | None, high: float | None, kind: str, lang: str, *,
                    empty: str = "") -> str:
    """A change's interval in words, each limit with its unit: ``−3,0 p.p. til +1,2 p.p.``."""
    if _missing(low) or _missing(high):
        return empty
    return (f"{change(low, kind, lang)} {text('unit.interval_to', lang)} "
            f"{change(high, kind, lang)}")


def value_ci(x: float | None, low: float | None, high: float | None, kind: str, lang: str, *,
             empty: str = "") -> str:
    """The value with its interval in one cell: ``12,3 % (9,8–15,1)``."""
    if _missing(x):
        return empty
    inner = interval(low, high, lang, kind=kind)
    return f"{value(x, kind, lang)} ({inner})" if inner else value(x, kind, lang)


def term(code: str | None, lang: str, *, empty: str = "") -> str:
    """A term code in words: ``2025V`` → ``våren 2025``, ``2025H`` → ``høsten 2025`` (nb),
    ``spring 2025`` / ``autumn 2025`` (en). Anything that is not a term code is returned as
    it is."""
    if code is None or code == "":
        return empty
    code = str(code)
    if len(code) != 5 or not code[:4].isdigit() or code[4] not in "VH":
        return code
    key = "term.spring" if code[4] == "V" else "term.autumn"
    return text(key, lang).format(year=code[:4])


def p_value(p: float | None, lang: str, *, empty: str = "") -> str:
    """``0,041``, ``0,81`` or ``< 0,001`` (three decimals below 0.1, else two)."""
    if _missing(p):
        return empty
    if p < 0.001:
        return f"<{NBSP}{number(0.001, lang, 3)}"
    return number(p, lang, 3 if p < 0.1 else 2)


def p_phrase(p: float | None, lang: str, *, empty: str = "") -> str:
    """``p = 0,055`` or ``p < 0,001``."""
    out = p_value(p, lang)
    if not out:
        return empty
    return f"p {out}" if out.startswith("<") else f"p = {out}"


def vega_locale(lang: str) -> dict:
    """Vega's locale for charts (``{"number": {...}}``), so axes use the language's decimal
    mark, thousands separator, percent sign and minus sign."""
    if lang == "en":
        return {"number": {"decimal": ".", "thousands": ",", "grouping": [3],
                           "currency": ["", ""], "percent": "%", "minus": MINUS}}
    return {"number": {"decimal": ",", "thousands": NBSP, "grouping": [3],
                       "currency": ["", f"{NBSP}kr"], "percent": text("unit.percent", lang),
                       "minus": MINUS}}


__all__ = [
    "DASH", "HIDDEN", "LANGS", "MINUS", "NBSP", "Lang", "change", "change_interval",
    "check_lang", "integer", "interval", "mean", "number", "p_phrase", "p_value", "percent",
    "points", "term", "value", "value_ci", "vega_locale",
]
