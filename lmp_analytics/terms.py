"""Terms (semesters): ``YYYYH`` is autumn (1 Aug - 31 Dec), ``YYYYV`` spring (1 Jan - 31 Jul).

Terms are ordered by a dense integer index (``term_index``) so that "the term after" and "terms
since start" are plain arithmetic. Event time is always derived from dates through these
functions, never from round numbers.
"""

from __future__ import annotations

import datetime as dt
import re

from lmp_analytics.errors import TermError, keyed

_TERM_RE = re.compile(r"^\s*(\d{4})\s*([HhVv])\s*$")


def parse_term(code: str) -> str:
    """Normalise a term code (``2024h`` -> ``2024H``); raise TermError if it is not one."""
    m = _TERM_RE.match(str(code))
    if not m:
        raise keyed(TermError(f"'{code}' is not a term; expected YYYYH (autumn) or YYYYV (spring)"),
                    "refusal.not_a_term", term=code)
    return f"{m.group(1)}{m.group(2).upper()}"


def term_of_date(day: dt.date) -> str:
    """The term whose window contains ``day``."""
    return f"{day.year}{'H' if day.month >= 8 else 'V'}"


def term_index(code: str) -> int:
    """Dense ordering index: 2024V -> 4048, 2024H -> 4049, 2025V -> 4050."""
    term = parse_term(code)
    return int(term[:4]) * 2 + (1 if term[4] == "H" else 0)


def term_from_index(index: int) -> str:
    """Inverse of :func:`term_index`."""
    year, half = divmod(index, 2)
    return f"{year}{'H' if half else 'V'}"


def shift_term(code: str, k: int) -> str:
    """The term ``k`` terms after ``code`` (negative ``k`` goes back)."""
    return term_from_index(term_index(code) + k)


def term_start(code: str) -> dt.date:
    """First day of the term window."""
    term = parse_term(code)
    year = int(term[:4])
    return dt.date(year, 8, 1) if term[4] == "H" else dt.date(year, 1, 1)


def term_end(code: str) -> dt.date:
    """Last day of the term window."""
    term = parse_term(code)
    year = int(term[:4])
    return dt.date(year, 12, 31) if term[4] == "H" else dt.date(year, 7, 31)


def school_year(code: str) -> str:
    """School year of a term: 2024H and 2025V -> ``2024-25``."""
    term = parse_term(code)
    year = int(term[:4])
    start = year if term[4] == "H" else year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def terms_between(first: str, last: str) -> list[str]:
    """All terms from ``first`` to ``last`` inclusive."""
    return [term_from_index(i) for i in range(term_index(first), term_index(last) + 1)]


def term_order(column: str = "term"):
    """A polars expression that orders term codes in time (``2024V`` before ``2024H``).

    Sorting the codes as text would put autumn before spring of the same year.
    """
    import polars as pl

    code = pl.col(column)
    return code.str.slice(0, 4).cast(pl.Int64) * 2 + (code.str.slice(4, 1) == "H").cast(pl.Int64)
