"""Number formatting and fixed texts of the reports, in bokmål (default) and English.

Bokmål writes ``12,3 %`` (decimal comma, a no-break space before the percent sign), English
``12.3%``. Negative numbers use the minus sign U+2212, and changes always carry their sign. These
functions are the only place a report turns a number into text, so the HTML, the PDF and the
tests agree on one spelling.
"""

from __future__ import annotations

import math
from typing import Literal

Lang = Literal["nb", "en"]
LANGS: tuple[Lang, ...] = ("nb", "en")

NBSP = "\u00a0"
MINUS = "\u2212"
DASH = "\u2013"  # en dash between interval limits
HIDDEN = "\u2013"  # what a hidden or missing number shows


def check_lang(lang: str) -> Lang:
    """``lang`` if it is 'nb' or 'en', else ValueError."""
    if lang not in LANGS:
        raise ValueError(f"language must be 'nb' or 'en', got {lang!r}")
    return lang  # type: ignore[return-value]


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(x: float | None, lang: Lang, digits: int = 1, *, signed: bool = False) -> str:
    """``x`` with ``digits`` decimals in the language's style ('' for None/NaN)."""
    if _missing(x):
        return ""
    value = round(float(x), digits)
    if value == 0:
        value = 0.0  # no "-0,0"
    text = f"{abs(value):,.{digits}f}"
    if lang == "nb":
        text = text.replace(",", " ").replace(".", ",").replace(" ", NBSP)
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    return sign + text


def integer(n: int | None, lang: Lang) -> str:
    """A count: ``1 234`` (nb, no-break space) or ``1,234`` (en)."""
    return "" if n is None else number(float(n), lang, 0)


def percent(share: float | None, lang: Lang, digits: int = 1) -> str:
    """A share (0-1) as a percentage: ``12,3 %`` / ``12.3%``."""
    if _missing(share):
        return ""
    text = number(100 * share, lang, digits)
    return f"{text}{NBSP}%" if lang == "nb" else f"{text}%"


def points(diff: float | None, lang: Lang, digits: int = 1) -> str:
    """A change in a share (fraction) in percentage points, signed: ``−2,1 p.p.`` / ``−2.1 pp``."""
    if _missing(diff):
        return ""
    unit = "p.p." if lang == "nb" else "pp"
    return f"{number(100 * diff, lang, digits, signed=True)}{NBSP}{unit}"


def interval(low: float | None, high: float | None, lang: Lang, *, kind: str = "share",
             change: bool = False) -> str:
    """Interval limits without unit: ``9,1–16,4`` (a share in percent, a change in points, a
    mean with two decimals)."""
    if _missing(low) or _missing(high):
        return ""
    if kind == "share":
        lo, hi = number(100 * low, lang, 1, signed=change), number(100 * high, lang, 1,
                                                                   signed=change)
    else:
        lo, hi = number(low, lang, 2, signed=change), number(high, lang, 2, signed=change)
    return f"{lo}{DASH}{hi}"


def value(x: float | None, kind: str, lang: Lang) -> str:
    """A level: a share in percent or a scale mean (two decimals)."""
    return percent(x, lang) if kind == "share" else number(x, lang, 2)


def change(diff: float | None, kind: str, lang: Lang) -> str:
    """A change: percentage points for a share, a signed difference of means for a scale."""
    return points(diff, lang) if kind == "share" else number(diff, lang, 2, signed=True)


def p_value(p: float | None, lang: Lang) -> str:
    """``0,041`` or ``< 0,001``."""
    if _missing(p):
        return ""
    if p < 0.001:
        return f"<{NBSP}{number(0.001, lang, 3)}"
    return number(p, lang, 3 if p < 0.1 else 2)


# --------------------------------------------------------------------------------------------
# Fixed texts

TEST_NAMES: dict[str, tuple[str, str]] = {
    "overlap_score_z": (
        "skåretest (korrigert for elever som svarte begge gangene)",
        "score test (corrected for pupils who answered both times)",
    ),
    "score_z": ("skåretest for to andeler", "score test for two shares"),
    "boschloo": ("Boschloos eksakte test", "Boschloo's exact test"),
    "mcnemar_midp": ("McNemars test (mid-p), samme elever", "McNemar's test (mid-p), same pupils"),
    "wilcoxon_signed_rank": (
        "Wilcoxons fortegnsrangtest (samme elever)",
        "Wilcoxon signed-rank test (same pupils)",
    ),
    "mann_whitney": ("Mann–Whitneys U-test", "Mann–Whitney U test"),
}


def test_name(test: str | None, lang: Lang) -> str:
    """Plain name of a test id of :mod:`lmp_analytics.stats` (the id itself when unknown)."""
    if not test:
        return ""
    names = TEST_NAMES.get(test)
    return test if names is None else names[0 if lang == "nb" else 1]


TEXTS: dict[str, tuple[str, str]] = {
    "title": ("Skolerapport", "School report"),
    "subtitle": ("Læringsmiljøprosjektet (LMP) – Spekter",
                 "Læringsmiljøprosjektet (LMP) – Spekter"),
    "term": ("Termin", "Term"),
    "orgnr": ("Org.nr.", "Org. no."),
    "kommune": ("Kommune", "Municipality"),
    "rolle": ("Rolle i LMP", "Role in LMP"),
    "deltaker": ("deltakerskole", "participating school"),
    "sammenligning": ("sammenligningsskole", "comparison school"),
    "pulje": ("pulje", "cohort"),
    "start": ("oppstart", "start"),
    "phase_now": ("Fase", "Phase"),
    "data_as_of": ("Datagrunnlag", "Data as of"),
    "report_role": ("Utarbeidet for rolle", "Prepared for role"),
    "summary": ("Kort fortalt", "In brief"),
    "key_figures": ("Hovedtall", "Key figures"),
    "indicator": ("Indikator", "Indicator"),
    "ci": ("95 % KI", "95% CI"),
    "n": ("Svar (n)", "Answers (n)"),
    "change_since": ("Endring fra", "Change since"),
    "previous_round": ("forrige runde", "previous round"),
    "verdict": ("Vurdering", "Verdict"),
    "test": ("Test", "Test"),
    "p": ("p", "p"),
    "not_measured": ("ikke målt", "not measured"),
    "hidden": ("skjult", "hidden"),
    "no_round": ("ingen runde", "no round"),
    "not_tested": ("ikke testet", "not tested"),
    "share_note": (
        "Andeler i prosent med 95 % konfidensintervall (Wilson); skalaer er gjennomsnitt fra 1 "
        "til 5, der høyere er bedre.",
        "Shares in percent with 95% confidence intervals (Wilson); scales are means from 1 to 5, "
        "higher is better.",
    ),
    "tests_used": ("Tester (tallene ved endringene i tabellene)",
                   "Tests (the numbers by the changes in the tables)"),
    "over_time": ("Utvikling over tid", "Over time"),
    "chart_scales": ("Trivsel og relasjoner (gjennomsnitt 1–5)",
                     "Well-being and relations (mean 1–5)"),
    "chart_note": (
        "Skyggelagte felt er terminene skolen var i fase 1–4. Rundene gjennomføres tidlig i "
        "terminen, så en runde viser situasjonen etter fasene før den. Loddrette streker er 95 % "
        "konfidensintervall. Et brudd i linjen betyr at tallet for terminen er skjult, eller at "
        "skolen ikke hadde en runde da.",
        "Shaded bands are the terms the school spent in phases 1–4. Rounds take place early in the "
        "term, so a round shows the situation after the phases before it. Vertical bars are 95% "
        "confidence intervals. A break in a line means that term's number is hidden, or the "
        "school had no round then.",
    ),
    "reference": ("Alle LMP-skoler", "All LMP schools"),
    "no_chart": ("Ingen tall kan vises i denne figuren (for få svar eller skjulte tall).",
                 "No numbers can be shown in this chart (too few answers or hidden numbers)."),
    "before_after": ("Før og etter fase", "Before and after phase"),
    "before_after_none": (
        "Skolen har ingen avsluttet fase med en runde før og etter.",
        "The school has no finished phase with a round before and after it.",
    ),
    "comparison_no_phases": (
        "Sammenligningsskoler deltar ikke i LMP og har derfor ingen faser. Utviklingen over tid "
        "viser den trenden deltakerskolene sammenlignes med.",
        "Comparison schools do not take part in LMP and so have no phases. Their development over "
        "time is the trend the participating schools are compared with.",
    ),
    "before": ("Før", "Before"),
    "after": ("Etter", "After"),
    "change": ("Endring", "Change"),
    "same_pupils": ("Samme elever", "Same pupils"),
    "programme_span": ("Hele programmet (før fase 1 → etter fase 4)",
                       "Whole programme (before phase 1 → after phase 4)"),
    "rounds_used": ("Runder som sammenlignes", "Rounds compared"),
    "by_grade": ("Etter trinn", "By grade"),
    "grade": ("Trinn", "Grade"),
    "grade_note": (
        "Trinn med færre enn {min_n} svar vises ikke, og noen trinn skjules i tillegg slik at de "
        "skjulte tallene ikke kan regnes ut fra summen.",
        "Grades with fewer than {min_n} answers are not shown, and some more are hidden so that "
        "the hidden numbers cannot be worked out from the total.",
    ),
    "no_grades": ("Ingen trinn har tall som kan vises.", "No grade has numbers that can be shown."),
    "data_quality": ("Datakvalitet", "Data quality"),
    "date": ("Dato", "Date"),
    "version": ("Versjon", "Version"),
    "purpose": ("Formål", "Purpose"),
    "modules": ("Moduler", "Modules"),
    "respondents": ("Svar", "Answers"),
    "enrolled": ("Elever", "Pupils"),
    "rate": ("Svarprosent", "Response rate"),
    "low_rate": ("under 70 %", "below 70%"),
    "primary_note": (
        "Tallene i rapporten bygger på skolens første forebyggende runde i hver termin (merket "
        "●). Svarprosent er svar delt på elever på trinnene som deltok, skoleåret runden hører "
        "til; under 70 % er merket ⚠.",
        "The report's numbers use the school's first preventive round of each term (marked ●). "
        "Response rate is answers divided by pupils in the grades that took part, in the round's "
        "school year; below 70% is marked ⚠.",
    ),
    "no_enrolment": (
        "Elevtall mangler for denne skolen, så svarprosent kan ikke beregnes.",
        "Enrolment is missing for this school, so the response rate cannot be computed.",
    ),
    "reading": ("Hva tallene kan og ikke kan si", "What the numbers can and cannot say"),
    "hidden_note": (
        "«{hidden}» og «*» betyr at tallet er skjult for å verne elevene: færre enn {min_n} elever "
        "svarte, eller tallet er skjult for at andre skjulte tall ikke skal kunne regnes ut. "
        "Begge deler er merket likt, så merket sier ikke hvilke grupper som er små.",
        "'{hidden}' and '*' mean the number is hidden to protect the pupils: fewer than {min_n} "
        "pupils answered, or it is hidden so that other hidden numbers cannot be worked out. "
        "Both read alike, so the mark does not tell which groups are small.",
    ),
    "page": ("Side", "Page"),
    "of": ("av", "of"),
    "footer": ("Skolerapport", "School report"),
    "ci_change_note": (
        "Endringer er etter minus før, med 95 % konfidensintervall som tar hensyn til at mange "
        "elever svarte begge gangene.",
        "Changes are after minus before, with a 95% confidence interval that accounts for pupils "
        "who answered both times.",
    ),
}


def text(key: str, lang: Lang, **kwargs) -> str:
    """A fixed text in the language, with ``{name}`` fields filled from ``kwargs``."""
    nb, en = TEXTS[key]
    out = nb if lang == "nb" else en
    return out.format(**kwargs) if kwargs else out


__all__ = [
    "DASH",
    "HIDDEN",
    "LANGS",
    "MINUS",
    "NBSP",
    "TEXTS",
    "Lang",
    "change",
    "check_lang",
    "integer",
    "interval",
    "number",
    "p_value",
    "percent",
    "points",
    "test_name",
    "text",
    "value",
]
