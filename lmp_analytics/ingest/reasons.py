"""Stable codes for why a row was quarantined; their labels live in the language files.

Each quarantined cell is stored with a code (``quarantine.reason_code``) next to the English
detail (``reason``: what was expected, for ``lmp ingest`` / ``lmp validate`` output). Views group
by code; dashboards show :func:`label`. Warehouses written before the code existed get it from
:func:`code_from_text` (the English detail of this package's checks), else ``other``.
"""

from __future__ import annotations

from lmp_analytics.presentation.strings import LANGS, text

__all__ = ["CODES", "OTHER", "code_from_text", "label"]

OTHER = "other"

#: The codes, in the order a page lists them; their labels are ``reason.<code>`` in the
#: language files of :mod:`lmp_analytics.presentation.strings`.
CODES: tuple[str, ...] = (
    "missing_value",
    "invalid_date",
    "future_date",
    "early_date",
    "label_too_long",
    "grade_out_of_range",
    "unknown_version",
    "invalid_gender",
    "purpose_mismatch",
    "value_out_of_range",
    "duplicate_pupil",
    "pupil_in_other_group",
    "other",
)

#: Columns whose only value check has one code (other failures there are empty cells).
COLUMN_CODES = {
    "trinn": "grade_out_of_range",
    "gruppe": "label_too_long",
    "runde": "label_too_long",
    "dato": "future_date",
    "versjon": "unknown_version",
    "kjonn": "invalid_gender",
    "formal": "purpose_mismatch",
}


def label(code: str | None, lang: str = "nb") -> str:
    """The label of a code in ``lang`` (nb | nn | en); unknown codes read as 'other'."""
    return text(f"reason.{code if code in CODES else OTHER}", lang if lang in LANGS else "nb")


def code_from_text(column: str | None, reason: str | None) -> str:
    """The code of a stored English detail (for rows written before codes were stored)."""
    text = (reason or "").removeprefix("expected ")
    if text.startswith("a value (the cell is empty)"):
        return "missing_value"
    if text.startswith("a date as "):
        return "invalid_date"
    if text.startswith("a survey date on or after"):
        return "early_date"
    if text.startswith("each pupil once per round"):
        return "pupil_in_other_group" if "already answered" in text else "duplicate_pupil"
    if text.startswith("an answer on the item"):
        return "value_out_of_range"
    return COLUMN_CODES.get(column or "", OTHER)
