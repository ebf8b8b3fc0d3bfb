"""Names a reader sees for codes (statistical tests, verdicts) and the caveats that go with
verdicts, from the language files."""

from __future__ import annotations

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
