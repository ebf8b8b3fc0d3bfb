"""Spekter rounds of the synthetic schools: versions, dates, the round plan of each school
and the extra concrete-suspicion rounds."""

from __future__ import annotations

import datetime as dt

import numpy as np

from lmp_analytics.codebook import NEGATIVE_NOMINATION_RULE_DATE
from lmp_analytics.synth.model import Kommune, RoundPlan, School
from lmp_analytics.synth.params import Params
from lmp_analytics.terms import term_end, term_index, term_start

VERSION_2018 = "spekter-2018"
VERSION_FOREBYGGENDE = "spekter-2022-forebyggende"
VERSION_MISTANKE = "spekter-2022-mistanke"


def _round_date(rng: np.random.Generator, params: Params, kommune: Kommune, term: str) -> dt.date:
    year = int(term[:4])
    if term.endswith("H"):
        month, day = params.autumn_school_start
        start = dt.date(year, month, day) + dt.timedelta(days=kommune.start_shift)
        lo, hi = params.autumn_round_weeks
        return start + dt.timedelta(days=int(rng.integers(7 * lo, 7 * hi + 1)))
    lo, hi = params.spring_round_days
    return dt.date(year, 1, int(rng.integers(lo, hi + 1)))


def plan_rounds(
    rng: np.random.Generator, params: Params, school: School, terms: list[str]
) -> list[RoundPlan]:
    """A school's regular rounds: one per term from its ``spekter_from`` (a few skipped, never
    the phase-1 term's); none for a comparison school unless ``params.comparison_spekter``."""
    rounds = []
    latest = dt.date.fromisoformat(params.latest_date)
    switch = term_index(params.version_switch_term)
    if school.rolle == "sammenligning" and not params.comparison_spekter:
        return rounds
    for term in terms:
        date = _round_date(rng, params, school.kommune, term)
        skip = rng.random() < params.p_skip_round
        nominations = rng.random() < params.p_nominations_2018
        nominations &= date < NEGATIVE_NOMINATION_RULE_DATE
        if term_index(term) < term_index(school.spekter_from):
            continue
        if skip and term != school.phases.get(1):
            continue
        if date > latest:
            raise ValueError(f"round date {date} of {term} is after latest_date {latest}")
        old = term_index(term) < switch
        rounds.append(
            RoundPlan(
                term=term,
                versjon=VERSION_2018 if old else VERSION_FOREBYGGENDE,
                date=date,
                kind="regular",
                nominations=bool(old and nominations),
            )
        )
    return rounds


def add_mistanke_rounds(rng: np.random.Generator, params: Params, schools: list[School]) -> None:
    """One extra concrete-suspicion round after a regular round, at a few schools (in place)."""
    n = max(1, round(params.share_mistanke_schools * len(schools)))
    switch = term_index(params.version_switch_term)
    last = term_index(params.last_term)
    latest = dt.date.fromisoformat(params.latest_date)
    for idx in sorted(rng.choice(len(schools), size=min(n, len(schools)), replace=False)):
        school = schools[idx]
        eligible = [r for r in school.rounds if switch <= term_index(r.term) < last]
        if not eligible:
            continue
        base = eligible[int(rng.integers(len(eligible)))]
        date = min(base.date + dt.timedelta(days=int(rng.integers(14, 36))), latest)
        if base.term.endswith("H"):
            date = min(date, dt.date(date.year, 12, 15))
        extra = RoundPlan(base.term, VERSION_MISTANKE, date, "mistanke", nominations=True)
        school.rounds.insert(school.rounds.index(base) + 1, extra)


def round_dates(
    rng: np.random.Generator, plan: RoundPlan, n_classes: int, params: Params
) -> list[dt.date]:
    """One answer date per class: the round date plus 0..jitter days, within the term and limit."""
    latest = dt.date.fromisoformat(params.latest_date)
    end = term_end(plan.term)
    out = []
    for _ in range(n_classes):
        day = plan.date + dt.timedelta(days=int(rng.integers(0, params.class_date_jitter_days + 1)))
        out.append(min(day, latest, end))
    assert all(d >= term_start(plan.term) for d in out)
    return out
