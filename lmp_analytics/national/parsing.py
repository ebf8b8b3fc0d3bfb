"""The text of one cell of an Elevundersøkelsen file: numbers, counts, grades and unit codes.

Numbers use a decimal comma and a space or non-breaking space as thousands separator; ``*`` is a
suppressed cell and ``.``, ``-`` or an empty cell one without data. Unit codes are checked
against the registries (a retired kommunenummer becomes its successor).
"""

from __future__ import annotations

import re
from functools import lru_cache

from lmp_analytics.national.reference import normalise_name
from lmp_analytics.presentation.messages import message
from lmp_analytics.registry import check_fylkesnummer, check_kommunenummer, orgnr_problem

SUPPRESSED = "*"
NO_DATA = (".", "", "-", "..")
SPACES = "\u0020\u00a0\u202f\u2009\u2007"
_NUMBER_RE = re.compile(rf"^-?(\d+|\d{{1,3}}([{SPACES}]\d{{3}})+)([.,]\d+)?$")
_TRINN_RE = re.compile(r"^(\d{1,2})\s*\.?\s*(trinn|årstrinn|arstrinn|klasse)$")
_TRINN_AFTER_RE = re.compile(r"^(trinn|årstrinn)\s*(\d{1,2})$")
_VG_RE = re.compile(r"^vg\s*([1-3])$")
#: Digits of a unit code at each level (a code of another width is left to the schema checks).
CODE_WIDTH = {"fylke": 2, "kommune": 4, "skole": 9}

normalise_cached = lru_cache(maxsize=1024)(normalise_name)


def parse_number(text: str) -> float:
    """``'4,2'`` -> 4.2, ``'63 187'`` -> 63187.0 (space/nbsp thousands, decimal comma).

    Raises ``ValueError`` saying what was expected.
    """
    cleaned = str(text).strip().replace("\u2212", "-")
    if not _NUMBER_RE.match(cleaned):
        raise ValueError(
            "expected a number with decimal comma and optional space thousands separator "
            "(e.g. '4,2' or '63 187')"
        )
    for space in SPACES:
        cleaned = cleaned.replace(space, "")
    return float(cleaned.replace(",", "."))


def parse_count(text: str) -> int:
    """``'63 187'`` -> 63187; raises ``ValueError`` for fractions and negatives."""
    value = parse_number(text)
    if value != int(value) or value < 0 or re.search(r"[.,]", str(text)):
        raise ValueError("expected a whole number of answers >= 0 (e.g. '63 187')")
    return int(value)


@lru_cache(maxsize=256)
def parse_trinn(text: str) -> int | None:
    """``'7. trinn'`` -> 7, ``'Vg1'`` -> 11, ``'Alle trinn'`` -> None."""
    key = normalise_name(text)
    if key in ("alle trinn", "alle"):
        return None
    if m := _TRINN_RE.match(key):
        return int(m.group(1))
    if m := _TRINN_AFTER_RE.match(key):
        return int(m.group(2))
    if key.isdigit():
        return int(key)
    if m := _VG_RE.match(key):
        return 10 + int(m.group(1))
    raise ValueError("expected a grade like '7. trinn', 'Trinn 7', '7. årstrinn' (5-10), "
                     "'Vg1'-'Vg3' or 'Alle trinn'")


def registry_unit(
    level: str | None, code: str | None, column: str, line: int
) -> tuple[str | None, list[tuple[str, str, str]], list[str]]:
    """The unit code to store (a retired kommunenummer becomes its successor, so results pair
    across the 2024 renumbering), errors and warnings, checked against the registries."""
    if level == "nasjon":
        return None, [], []
    if code is None:
        return None, [(column, "", f"a unit code for level '{level}' (the cell is empty)")], []
    if level == "skole":
        why = orgnr_problem(code)
        return code, ([(column, code, why)] if why else []), []
    check = (check_kommunenummer(code, national=True) if level == "kommune"
             else check_fylkesnummer(code, national=True))
    if check.status == "retired":
        if check.code is None:  # a county of 2020-2023: its own number stays valid for its years
            return code, [], []
        return check.code, [], [message("notice.eu_retired_number", row=line, column=column,
                                        detail=check.message)]
    if not check.ok:
        return None, [(column, code, check.message or "")], []
    return code, [], []
