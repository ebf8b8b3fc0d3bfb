"""Names a reader sees for codes: statistical tests and verdicts."""

from __future__ import annotations

from lmp_analytics.presentation.strings import has, text
from lmp_analytics.stats.verdict import verdict_label

# Every test id lmp_analytics.api.compare and the report's changes can return
# (lmp_analytics.stats.compare / stats.change); each has a label in every language.
TEST_IDS: tuple[str, ...] = ("overlap_score_z", "score_z", "boschloo", "mcnemar_midp",
                             "wilcoxon_signed_rank", "mann_whitney")


def test_name(test: str | None, lang: str, *, none: str = "") -> str:
    """Plain name of a test id (the id itself when unknown; ``none`` for no test)."""
    if not test:
        return none
    key = f"test.{test}"
    return text(key, lang) if has(key) else test


def not_tested(lang: str) -> str:
    """What a change without a test shows: 'ikke testet' / 'not tested'."""
    return text("test.none", lang)


def verdict_name(verdict: str | None, lang: str, *, none: str = "") -> str:
    """A verdict code in words (the code itself when unknown; ``none`` when there is none)."""
    if not verdict:
        return none
    try:
        return verdict_label(verdict, lang)  # type: ignore[arg-type]
    except ValueError:
        return str(verdict)
