"""Survey timing and series versions of Elevundersøkelsen, and the series-break guard.

Until 2012 the survey ran in spring (school year ``2011-12`` = spring 2012 = survey year 2012);
from 2013 it runs in autumn (``2024-25`` = autumn 2024 = survey year 2024). A *survey year* is
the calendar year the survey ran, which is how Udir labels the national figures; from 2013 on it
is the autumn year. Its term is ``YYYYV`` before 2013 and ``YYYYH`` from 2013.

Comparisons that bridge a confirmed break (``series_breaks.csv``) are refused with
:class:`SeriesBreakError` unless the caller passes ``allow_break=True``; placeholder breaks are
never refused, only reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from lmp_analytics.errors import LmpError, TermError
from lmp_analytics.national.reference import series_breaks
from lmp_analytics.presentation.messages import message, refusal
from lmp_analytics.terms import parse_term, school_year, term_index

FIRST_AUTUMN_SURVEY = 2013
#: Version of everything before the first break (the spring survey, 2007-2012).
PRE_FIRST_BREAK_VERSION = "pre2013_spring"

_SOURCE_REF_RE = re.compile(r"\[(S\d+)\]")
_SCHOOL_YEAR_RE = re.compile(r"^\s*(\d{4})\s*[-\u2010-\u2015\u2212/]\s*(\d{2}|\d{4})\s*$")


class SeriesBreakError(LmpError):
    """A comparison of two survey years that bridges a confirmed break in the national series."""


@dataclass(frozen=True)
class SeriesBreak:
    """One row of ``series_breaks.csv``."""

    from_year: int
    from_term: str
    series_version: str
    status: str
    change: str
    source: str

    @property
    def confirmed(self) -> bool:
        return self.status == "confirmed"


@cache
def all_breaks() -> tuple[SeriesBreak, ...]:
    """Every break in ``series_breaks.csv``, oldest first (confirmed and placeholder)."""
    return tuple(SeriesBreak(**row) for row in series_breaks().iter_rows(named=True))


def survey_term(when: int | str) -> str:
    """Term in which the survey of ``when`` ran: a survey year (2012 -> 2012V, 2013 -> 2013H)
    or a term code, returned normalised."""
    if isinstance(when, str):
        return parse_term(when)
    if isinstance(when, bool) or not isinstance(when, int):
        raise refusal(TermError, "not_a_survey_year", when=when)
    return f"{when}{'H' if when >= FIRST_AUTUMN_SURVEY else 'V'}"


def survey_year_of_term(term: str) -> int:
    """Survey year for a term that had a national survey (2012V -> 2012, 2016H -> 2016)."""
    code = parse_term(term)
    year = int(code[:4])
    if survey_term(year) != code:
        season = "autumn" if year >= FIRST_AUTUMN_SURVEY else "spring"
        raise refusal(TermError, "no_survey_in_term", term=code, year=year,
                      season=message(f"refusal.season_{season}"))
    return year


@lru_cache(maxsize=256)
def parse_school_year(text: str) -> tuple[str, int, str]:
    """``'2024-25'`` (also ``2024–25``, ``2024-2025``, ``2024/25``) -> (``'2024-25'``, survey
    year, survey term). School years up to ``2011-12`` are spring surveys (``2011-12`` ->
    2012, ``2012V``), from ``2013-14`` autumn surveys; ``2012-13`` had none and is refused.

    Raises ``ValueError`` with the expected form when the text is not a school year.
    """
    m = _SCHOOL_YEAR_RE.match(str(text))
    if not m:
        raise ValueError("expected a school year like '2024-25'")
    start, end = int(m.group(1)), m.group(2)
    if int(end) != (start + 1 if len(end) == 4 else (start + 1) % 100):
        raise ValueError(f"expected consecutive years like '{start}-{(start + 1) % 100:02d}'")
    if start == FIRST_AUTUMN_SURVEY - 1:
        raise ValueError(
            f"no national survey is placed in school year {start}-{(start + 1) % 100:02d}: the "
            f"spring survey ran until {start} (school year {start - 1}-{start % 100:02d}) and "
            f"the autumn survey from {start + 1} ({start + 1}-{(start + 2) % 100:02d})"
        )
    term = f"{start}H" if start >= FIRST_AUTUMN_SURVEY else f"{start + 1}V"
    return school_year(term), int(term[:4]), term


def series_version(when: int | str) -> str:
    """Series version of a survey year or term: ``pre2013_spring``, ``2013_2015``, ``2016+``.

    Only confirmed breaks start a new version; a placeholder break does not (yet).
    """
    return _version_of_term(survey_term(when))


@lru_cache(maxsize=256)
def _version_of_term(term: str) -> str:
    index = term_index(term)
    version = PRE_FIRST_BREAK_VERSION
    for brk in all_breaks():
        if brk.confirmed and term_index(brk.from_term) <= index:
            version = brk.series_version
    return version


def breaks_between(first: int | str, second: int | str) -> tuple[SeriesBreak, ...]:
    """Breaks (confirmed or placeholder) that fall after the earlier and at or before the later
    of two survey years/terms, i.e. that a comparison of the two would bridge."""
    a, b = sorted((term_index(survey_term(first)), term_index(survey_term(second))))
    return tuple(brk for brk in all_breaks() if a < term_index(brk.from_term) <= b)


def check_comparable(
    pre: int | str, post: int | str, *, allow_break: bool = False
) -> tuple[SeriesBreak, ...]:
    """Guard for a before/after comparison; returns the breaks it bridges.

    Raises :class:`SeriesBreakError` if a *confirmed* break lies between ``pre`` and ``post``
    and ``allow_break`` is false.
    """
    bridged = breaks_between(pre, post)
    confirmed = [brk for brk in bridged if brk.confirmed]
    if confirmed and not allow_break:
        details = "; ".join(
            f"{brk.from_year}: {brk.change} ({', '.join(_SOURCE_REF_RE.findall(brk.source))})"
            for brk in confirmed
        )
        raise SeriesBreakError(
            f"Elevundersøkelsen {survey_term(pre)} -> {survey_term(post)} bridges the series "
            f"break{'s' if len(confirmed) > 1 else ''} of "
            f"{', '.join(str(b.from_year) for b in confirmed)}, so the two values are not "
            f"comparable ({series_version(pre)} vs {series_version(post)}). Break {details}. "
            "Pass allow_break=True to compute the change anyway; the result is then flagged."
        )
    return bridged
