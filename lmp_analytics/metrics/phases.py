"""Phase calendar and the rounds that stand before and after each phase.

For a participating school with phase k in term P(k) (from ``program.csv`` + ``faser.csv``):

- pre(k)  = its first round in P(k), else its last round before P(k);
- post(k) = its first round in the term after P(k), else its last round in P(k) later than pre(k).

Spekter rounds come early in a term, so the first round of a term reflects the phases before it.
The programme span is pre(1) -> post(4). Only each school's primary round of a term is used (its
earliest preventive round: see ``mart_school_round``). Event time for the staggered estimate is
derived from the same calendar: a school's group g is the term after its phase-1 term, and the
round of the phase-1 term has event time e = -1. Nothing here looks at round numbers.
"""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics.terms import term_index, term_order
from lmp_analytics.warehouse.queries import named

PHASES = (1, 2, 3, 4)
PROGRAMME = "program"

SELECTION_SCHEMA = {
    "skole_orgnr": pl.String,
    "phase": pl.String,          # "1".."4" or "program" (pre(1) -> post(4))
    "phase_term": pl.String,     # P(k); for the programme span, P(1)
    "pre_round": pl.String,
    "pre_term": pl.String,
    "post_round": pl.String,
    "post_term": pl.String,
}


def phase_calendar(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """skole_orgnr, fase, termin, kilde, kommunenummer, pulje, oppstart (participants only)."""
    return con.sql(named("reads", "phase_calendar")).pl()


def primary_rounds(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each school's primary round per term: round_id, skole_orgnr, term, first_date, ..."""
    return con.sql(named("reads", "primary_rounds")).pl()


def _pick(rounds: list[tuple[str, str, int]], phase_idx: int) -> tuple:
    """Apply the pre/post rule to one school's rounds [(round_id, term, term_index)] by date."""
    in_phase = [r for r in rounds if r[2] == phase_idx]
    before = [r for r in rounds if r[2] < phase_idx]
    pre = in_phase[0] if in_phase else (before[-1] if before else None)
    after = [r for r in rounds if r[2] == phase_idx + 1]
    if after:
        post = after[0]
    else:
        later = [r for r in in_phase if pre is not None and r is not pre and r[2] == phase_idx
                 and rounds.index(r) > rounds.index(pre)]
        post = later[-1] if later else None
    return pre, post


def select_phase_rounds(
    calendar: pl.DataFrame, rounds: pl.DataFrame, *, include_programme: bool = True
) -> pl.DataFrame:
    """pre/post rounds per participating school and phase (SELECTION_SCHEMA); null if missing."""
    by_school: dict[str, list[tuple[str, str, int]]] = {}
    for rid, school, term in rounds.sort("first_date").select(
        "round_id", "skole_orgnr", "term"
    ).iter_rows():
        by_school.setdefault(school, []).append((rid, term, term_index(term)))
    out = []
    for school, group in calendar.group_by("skole_orgnr", maintain_order=True):
        school_id = school[0]
        terms = dict(zip(group["fase"].to_list(), group["termin"].to_list(), strict=True))
        rs = by_school.get(school_id, [])
        picks = {}
        for k in PHASES:
            if k not in terms:
                continue
            pre, post = _pick(rs, term_index(terms[k]))
            picks[k] = (pre, post)
            out.append(_row(school_id, str(k), terms[k], pre, post))
        if include_programme and 1 in picks and 4 in picks:
            out.append(_row(school_id, PROGRAMME, terms[1], picks[1][0], picks[4][1]))
    return pl.DataFrame(out, schema=SELECTION_SCHEMA, orient="row")


def _row(school: str, phase: str, term: str, pre, post) -> tuple:
    return (
        school, phase, term,
        pre[0] if pre else None, pre[1] if pre else None,
        post[0] if post else None, post[1] if post else None,
    )


def event_groups(calendar: pl.DataFrame) -> pl.DataFrame:
    """skole_orgnr -> first exposed term index g (term after the phase-1 term)."""
    first = calendar.filter(pl.col("fase") == 1).select(
        "skole_orgnr",
        (term_order("termin") + 1).alias("g"),
    )
    return first
