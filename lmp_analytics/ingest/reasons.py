"""Stable codes for why a row was quarantined, with Norwegian and English labels.

Each quarantined cell is stored with a code (``quarantine.reason_code``) next to the English
detail (``reason``: what was expected, for ``lmp ingest`` / ``lmp validate`` output). Views group
by code; dashboards show :func:`label`. Warehouses written before the code existed get it from
:func:`code_from_text` (the English detail of this package's checks), else ``other``.
"""

from __future__ import annotations

__all__ = ["CODES", "OTHER", "code_from_text", "label"]

OTHER = "other"

#: code -> (nb, en) label, in the order a page lists them.
CODES: dict[str, tuple[str, str]] = {
    "missing_value": ("Tom celle der et svar kreves", "Empty cell where a value is required"),
    "invalid_date": ("Dato som ikke kan leses", "Date that cannot be read"),
    "future_date": ("Dato fram i tid", "Date in the future"),
    "early_date": ("Dato før 2000", "Date before 2000"),
    "label_too_long": ("For lang gruppe- eller rundeetikett", "Group or round label too long"),
    "grade_out_of_range": ("Ugyldig trinn", "Grade out of range"),
    "unknown_version": ("Ukjent Spekter-versjon", "Unknown Spekter version"),
    "invalid_gender": ("Ugyldig kjønn", "Invalid gender"),
    "purpose_mismatch": ("Formål passer ikke med versjonen", "Purpose does not match the version"),
    "value_out_of_range": ("Svar utenfor spørsmålets skala", "Answer outside the item's scale"),
    "duplicate_pupil": ("Samme elev flere ganger i filen", "Same pupil twice in the file"),
    "pupil_in_other_group": ("Eleven har alt svart i en annen gruppe",
                             "Pupil already answered in another group"),
    OTHER: ("Annet", "Other"),
}

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
    """The label of a code in ``lang`` (nb | en); unknown codes read as 'other'."""
    nb, en = CODES.get(code or OTHER, CODES[OTHER])
    return en if lang == "en" else nb


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
