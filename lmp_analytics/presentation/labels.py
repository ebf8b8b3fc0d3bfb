"""Names a reader sees for codes (statistical tests, verdicts) and the caveats that go with
verdicts, from the language files."""

from __future__ import annotations

import re

from lmp_analytics.presentation import fmt
from lmp_analytics.presentation.strings import check_lang, has, text
from lmp_analytics.stats.verdict import Verdict

# Every test id lmp_analytics.api.compare and the report's changes can return
# (lmp_analytics.stats.compare / stats.change); each has a label in every language.
TEST_IDS: tuple[str, ...] = ("mover_inversion", "welch_t", "overlap_score_z", "score_z",
                             "boschloo", "mcnemar_midp", "wilcoxon_signed_rank", "mann_whitney")


def test_name(test: str | None, lang: str, *, none: str = "") -> str:
    """Plain name of a test id (the id itself when unknown; ``none`` for no test)."""
    if not test:
        return none
    key = f"test.{test}"
    return text(key, lang) if has(key) else test


def not_tested(lang: str) -> str:
    """What a change without a test shows: 'ikke testet' / 'not tested'."""
    return text("test.none", lang)


def verdict_label(verdict: Verdict | str, lang: str = "nb") -> str:
    """A verdict in words: 'tydelig nedgang' / 'clear decrease' (ValueError for an unknown
    verdict or language)."""
    return text(f"verdict.{Verdict(verdict).name.lower()}", check_lang(lang))


def power_caveat(lang: str = "nb") -> str:
    """Why a single school's 'no clear change' is the normal case, not evidence of no effect."""
    return text("caveat.power", check_lang(lang))


def rtm_caveat(lang: str = "nb") -> str:
    """Regression-to-the-mean warning for before/after views of selected schools."""
    return text("caveat.rtm", check_lang(lang))


def no_before_caveat(lang: str = "nb") -> str:
    """Why phase 1's Spekter before/after is not the programme's effect when no school ran
    Spekter before its phase 1 (:func:`lmp_analytics.api.pre_programme_rounds`)."""
    return text("caveat.no_before", check_lang(lang))


def verdict_name(verdict: str | None, lang: str, *, none: str = "") -> str:
    """A verdict code in words (the code itself when unknown; ``none`` when there is none)."""
    if not verdict:
        return none
    try:
        return verdict_label(verdict, lang)  # type: ignore[arg-type]
    except ValueError:
        return str(verdict)


def version_name(version: str | None, lang: str) -> str:
    """An instrument version id in words (``spekter-2022-forebyggende`` → ``Spekter 2022,
    forebyggende``); the id itself when the language files do not know it."""
    if not version:
        return ""
    key = f"version.{version}"
    return text(key, check_lang(lang)) if has(key) else version

# The notes lmp_analytics.stats.did writes (plain English sentences for the log and notebooks),
# recognised so that a reader sees them in their language.
_NOTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"The panel is unbalanced \((?P<rows>\d+) school-term rows missing\)"),
     "caveat.did_unbalanced"),
    (re.compile(r"Pulje g=(?P<pulje>\S+) has only (?P<n>\d+) school\(s\) \(< (?P<min>\d+)\)"),
     "caveat.did_small_pulje"),
    (re.compile(r"Pre-trend F test rejects parallel trends at 5 % \(F = (?P<f>[\d.]+), "
                r"p = (?P<p>[\d.]+), k = (?P<k>\d+)\)"), "caveat.did_pretrend"),
)


def estimator_note(note: str, lang: str = "nb") -> str | None:
    """A note of the DiD estimator in ``lang`` (None: a note this function does not know, such
    as a warning of the estimation library, which a page shows verbatim as code)."""
    for pattern, key in _NOTES:
        m = pattern.search(note)
        if m is None:
            continue
        parts = m.groupdict()
        if "f" in parts:
            parts["f"] = fmt.number(float(parts["f"]), lang, 2)
            parts["p"] = fmt.p_value(float(parts["p"]), lang)
        if "pulje" in parts:
            parts["pulje"] = parts["pulje"].removesuffix(".0")
        return text(key, check_lang(lang), **parts)
    return None


def question_wording(item: str, lang: str = "nb") -> str:
    """The question a codebook item id stands for, in the language (from the newest codebook
    version that has the item; the id itself when no codebook knows it)."""
    from lmp_analytics.codebook import load_codebooks

    lang = check_lang(lang)
    for _, book in sorted(load_codebooks().items(), reverse=True):
        found = book.items.get(item)
        if found is not None:
            if lang == "nn":
                return found.wording_nn or found.wording_nb
            return found.wording_en if lang == "en" else found.wording_nb
    return item


def _rule(thresholds, lang: str) -> str:
    """The selection rule (grade → share) in words: '15 % på 7. trinn eller 10 % på 10. trinn'."""
    return text("national.rule_or", lang).join(
        text("national.rule_grade", lang, share=fmt.percent(limit, lang, 0), grade=grade)
        for grade, limit in thresholds)


def national_note(key: str, values: dict, lang: str = "nb") -> str | None:
    """A note of the national designs (``evaluation.national_designs.Note``: its ``key`` and
    ``dict(values)``) in ``lang``. None for a sentence of the estimator this package does not
    know (a page shows it verbatim, as code); an error text from the estimator inside a note
    stays verbatim in a code span."""
    lang = check_lang(lang)
    if key == "estimator":
        return estimator_note(str(values.get("text", "")), lang)
    shown: dict[str, str] = {}
    for name, value in values.items():
        if name in ("raw", "national"):
            shown[name] = fmt.number(value, lang, 4, signed=True)
        elif isinstance(value, int) and not isinstance(value, bool) and name not in (
                "first", "last", "pulje"):
            shown[name] = fmt.integer(value, lang)
        else:
            shown[name] = str(value)
    if key == "controls":
        shown["rule"] = _rule(values.get("thresholds", ()), lang)
        shown.pop("thresholds", None)
    key = f"national.{key}"
    return text(key, lang, **shown) if has(key) else None
