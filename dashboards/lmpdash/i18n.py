"""Dashboard wiring of the package's presentation layer: texts, numbers and names per language.

The strings live as data in ``lmp_analytics/presentation/strings/<lang>.toml`` (section
``dashboard``), and every number is formatted by :mod:`lmp_analytics.presentation.fmt`, the same
functions the school report uses. This module only fixes the dashboard's layout choices: a
missing number shows an en dash, a share's interval carries its percent sign, and the helpers
keep the short ``fmt_*`` names the pages use.
"""

from __future__ import annotations

from lmp_analytics.presentation import fmt, labels
from lmp_analytics.presentation import strings as _strings
from lmp_analytics.presentation.fmt import DASH, MINUS, vega_locale  # noqa: F401  (re-export)

LANGS = _strings.LANGS

_SEASON_KEY = {"H": "autumn", "V": "spring"}
_KJONN = {"jente": "jente", "gutt": "gutt", "annet": "annet", "ukjent": "ukjent"}


def t(key: str, lang: str = "nb", **kwargs) -> str:
    """The dashboard text for ``key`` in ``lang`` with ``{placeholders}`` filled in."""
    return _strings.text(f"dashboard.{key}", lang if lang in LANGS else "nb", **kwargs)


def lang_name(code: str) -> str:
    """A language's own name for the picker: 'Norsk (bokmål)', 'Norsk (nynorsk)', 'English'."""
    return _strings.text("language_name", code)


def picker_label() -> str:
    """The picker's title in every language, without repeats: 'Språk / Language'."""
    return " / ".join(dict.fromkeys(t("language", code) for code in LANGS))


def has(key: str) -> bool:
    """Whether ``key`` is a dashboard text."""
    return _strings.has(f"dashboard.{key}")


def fmt_num(x, lang: str = "nb", decimals: int = 0) -> str:
    """12345 -> '12 345' (nb) / '12,345' (en)."""
    return fmt.number(x, lang, decimals, empty=DASH)


def fmt_pct(share, lang: str = "nb", decimals: int = 1) -> str:
    """A fraction as a percentage: 0.123 -> '12,3 %' (nb) / '12.3%' (en)."""
    return fmt.percent(share, lang, decimals, empty=DASH)


def fmt_pct_value(pct, lang: str = "nb", decimals: int = 1) -> str:
    """A number already in percent: 12.3 -> '12,3 %' / '12.3%'."""
    return fmt.percent(None if pct is None else float(pct) / 100, lang, decimals, empty=DASH)


def fmt_pp(diff, lang: str = "nb", decimals: int = 1, signed: bool = True) -> str:
    """A difference of fractions in percentage points: -0.021 -> '−2,1 p.p.'."""
    return fmt.points(diff, lang, decimals, signed=signed, empty=DASH)


def fmt_mean(x, lang: str = "nb", decimals: int = 2, signed: bool = False) -> str:
    """A scale mean: '3,41'."""
    return fmt.mean(x, lang, decimals, signed=signed, empty=DASH)


def fmt_p(p, lang: str = "nb") -> str:
    """A p-value: '0,041' or '< 0,001'."""
    return fmt.p_value(p, lang, empty=DASH)


def p_phrase(p, lang: str = "nb") -> str:
    """'p = 0,055' or 'p < 0,001'."""
    return fmt.p_phrase(p, lang, empty=DASH)


def fmt_value(x, kind: str, lang: str = "nb") -> str:
    """Share as percent, scale as a mean with two decimals."""
    return fmt.value(x, kind, lang, empty=DASH)


def fmt_change(x, kind: str, lang: str = "nb") -> str:
    """A change: percentage points for a share, a signed difference of means for a scale."""
    return fmt.change(x, kind, lang, empty=DASH)


def fmt_interval(low, high, kind: str, lang: str = "nb") -> str:
    """'9,8–15,1 %' for shares, '3,41–3,77' for means."""
    return fmt.interval(low, high, lang, kind=kind, unit=True, empty=DASH)


def fmt_change_interval(low, high, kind: str, lang: str = "nb") -> str:
    """'−3,0 p.p. til +1,2 p.p.'."""
    return fmt.change_interval(low, high, kind, lang, empty=DASH)


def fmt_value_ci(x, low, high, kind: str, lang: str = "nb") -> str:
    """'12,3 % (9,8–15,1)' - the value with its interval in one cell."""
    return fmt.value_ci(x, low, high, kind, lang, empty=DASH)


def hidden_label(n_display: str | None, lang: str = "nb") -> str:
    """The text of a suppressed cell: 'skjult' / 'hidden' (every hidden cell reads the same;
    an ``n_display`` other than the engine's one mark '*' is shown in brackets)."""
    word = t("hidden", lang)
    return f"{word} ({n_display})" if n_display and n_display != "*" else word


def term_label(term: str, lang: str = "nb") -> str:
    """'2024H' -> 'Høst 2024' / 'Autumn 2024'."""
    if not term or len(term) != 5 or term[4] not in _SEASON_KEY:
        return str(term)
    return f"{t(_SEASON_KEY[term[4]], lang)} {term[:4]}"


def term_short(term: str, lang: str = "nb") -> str:
    """'2024H' -> 'H24' (nb) / 'A24' (en), for compact tables and axes."""
    if not term or len(term) != 5:
        return str(term)
    season = {"H": ("H", "A"), "V": ("V", "S")}[term[4]]
    return f"{season[1] if lang == 'en' else season[0]}{term[2:4]}"


def breakdown_label(breakdown: str, value: str, lang: str = "nb") -> str:
    if breakdown == "trinn":
        try:
            k = int(value)
        except (TypeError, ValueError):
            return str(value)
        return t("vg_n", lang, n=k - 10) if k > 10 else t("grade_n", lang, n=k)
    if breakdown == "kjonn":
        return t(_KJONN.get(value, "ukjent"), lang)
    return str(value)


def rolle_label(rolle: str | None, lang: str = "nb") -> str:
    """One school's type: 'LMP-skole' / 'Sammenligningsskole'."""
    if rolle in ("deltaker", "sammenligning"):
        return t(f"{rolle}_one", lang)
    return str(rolle or "")


def verdict_text(verdict: str | None, lang: str = "nb") -> str:
    """A verdict code in words (an en dash when there is none)."""
    return labels.verdict_name(verdict, lang, none=DASH)


def test_label(test: str | None, lang: str = "nb") -> str:
    """A test id in words ('ikke testet' when there is none), as in the school report."""
    return labels.test_name(test, lang, none=labels.not_tested(lang))
