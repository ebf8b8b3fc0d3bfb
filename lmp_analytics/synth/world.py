"""The synthetic world: municipalities, schools, selection into puljer, phases, rounds and pupils.

:func:`build_world` makes the small skeleton (everything per school and term, no pupils).
:class:`Population` (:mod:`pupils`) then follows the pupils of ONE school term by term, so that
a national world streams school by school in bounded memory. Every random stream is keyed by
(seed, purpose, candidate school), so a school's pupils do not depend on which other schools
exist.

The parts live in small modules, re-exported here: :mod:`ids` (random streams, pupil ids),
:mod:`model` (the records), :mod:`places` (municipalities, organisation numbers), :mod:`rounds`
(round plans and dates), :mod:`pupils` (the pupils of one school, term by term).
"""

from __future__ import annotations

import math

import numpy as np

from lmp_analytics.registry import orgnr_check_digit
from lmp_analytics.synth import country as countrylib
from lmp_analytics.synth import names
from lmp_analytics.synth.ids import (
    FAKE_ID_BASE,
    STREAM_FAULTS,
    STREAM_KOMMUNE,
    STREAM_NAMES,
    STREAM_POOL,
    STREAM_PUPILS,
    STREAM_SCHOOL,
    feide_id,
    pupil_number,
    rng_for,
)
from lmp_analytics.synth.model import (
    GENDER_LABELS,
    CountrySchool,
    ExportStyle,
    Kommune,
    RoundPlan,
    School,
    World,
)
from lmp_analytics.synth.params import FORMAT_CSV_SEMICOLON_CP1252, FORMAT_XLSX, Params
from lmp_analytics.synth.places import (
    assign_kommuner,
    country_schools,
    draw_kommuner,
    draw_orgnrs,
)
from lmp_analytics.synth.pupils import Population, TermLatent
from lmp_analytics.synth.responses import calibrate_national
from lmp_analytics.synth.rounds import (
    VERSION_2018,
    VERSION_FOREBYGGENDE,
    VERSION_MISTANKE,
    add_mistanke_rounds,
    plan_rounds,
    round_dates,
)
from lmp_analytics.terms import shift_term, term_index, terms_between

__all__ = [
    "FAKE_ID_BASE", "GENDER_LABELS", "KIND_TRINN", "STREAM_FAULTS", "STREAM_KOMMUNE",
    "STREAM_NAMES", "STREAM_POOL", "STREAM_PUPILS", "STREAM_SCHOOL", "VERSION_2018",
    "VERSION_FOREBYGGENDE", "VERSION_MISTANKE", "CountrySchool", "ExportStyle", "Kommune",
    "Population", "RoundPlan", "School", "TermLatent", "World", "build_world", "feide_id",
    "orgnr_check_digit", "pupil_number", "rng_for", "round_dates", "secular_trend",
]

KIND_TRINN = countrylib.KIND_TRINN


def secular_trend(
    params: Params, beta_by_year: dict[int, float], terms: list[str]
) -> dict[str, float]:
    """Logit trend per term relative to the first autumn: autumn = calibrated intercept of its
    year, spring = mean of the autumns around it; years outside the series hold the nearest."""
    years = sorted(beta_by_year)
    base = beta_by_year[years[0]]

    def autumn(year: int) -> float:
        return beta_by_year[min(max(year, years[0]), years[-1])]

    out = {}
    for term in terms:
        year = int(term[:4])
        level = autumn(year) if term.endswith("H") else (autumn(year - 1) + autumn(year)) / 2
        out[term] = level - base
    return out


def _ar1_shocks(
    rng: np.random.Generator, n: int, n_terms: int, sd: float, rho: float
) -> np.ndarray:
    w = np.empty((n, n_terms))
    w[:, 0] = rng.normal(0, sd, n)
    innovation = sd * math.sqrt(1 - rho**2)
    for t in range(1, n_terms):
        w[:, t] = rho * w[:, t - 1] + rng.normal(0, innovation, n)
    return w


def _export_style(rng: np.random.Generator, params: Params, number: int) -> ExportStyle:
    fmt = params.format_cycle[number % len(params.format_cycle)]
    if fmt == FORMAT_CSV_SEMICOLON_CP1252:
        dotted = rng.random() < 0.8
    elif fmt == FORMAT_XLSX:
        dotted = rng.random() < 0.5
    else:
        dotted = rng.random() < 0.2
    return ExportStyle(
        format=fmt,
        date_format="%d.%m.%Y" if dotted else "%Y-%m-%d",
        numeric_answers=fmt == FORMAT_XLSX or bool(rng.random() < params.p_numeric_answers_csv),
        elev_navn=bool(rng.random() < params.p_elev_navn),
        fritekst=bool(rng.random() < params.p_fritekst),
        runde=bool(rng.random() < params.p_runde_column),
        formal=bool(rng.random() < params.p_formal_column),
        kjonn=bool(rng.random() < params.p_kjonn_column),
        column_variant=int(rng.integers(0, 3)),
    )



def build_world(params: Params, seed: int) -> World:
    """The world skeleton: kommuner, schools (selected into puljer), phases and round plans."""
    terms = terms_between(params.first_term, params.last_term)
    n_terms = len(terms)
    beta_by_year = calibrate_national(params)
    trend = secular_trend(params, beta_by_year, terms)

    # Candidate pool = the synthetic country; each pulje is drawn among the schools that meet the
    # programme's selection rule on their published Elevundersøkelsen shares (regression to the
    # mean: they were selected on a high).
    pool = rng_for(seed, STREAM_POOL)
    n_pool = max(
        params.n_schools,
        params.candidates_per_participant * params.n_participants,
        params.country_schools,
    )
    u = pool.normal(0.0, params.sd_school, n_pool)
    shocks = _ar1_shocks(pool, n_pool, n_terms, params.shock_sd, params.shock_rho)
    kinds_sizes = [
        countrylib.kind_and_size(params, rng_for(seed, STREAM_SCHOOL, c)) for c in range(n_pool)
    ]
    country = countrylib.draw_base(params, seed, u, shocks, terms, kinds_sizes, rng_for)
    available = np.ones(n_pool, dtype=bool)
    chosen: list[tuple[int, int | None, str | None, float | None]] = []
    ordered = sorted(params.puljer, key=lambda pj: term_index(pj[0]))
    limit = np.array([t for _, t in params.selection_thresholds])
    ratio = np.nan_to_num(country.selection_mean / limit[None, :], nan=0.0).max(1)
    for number, (oppstart, n_pulje) in enumerate(ordered, start=1):
        top = countrylib.choose_pulje(country, params, pool, available, n_pulje)
        available[top] = False
        chosen += [(int(c), number, oppstart, float(ratio[c])) for c in sorted(top)]
    rest = np.flatnonzero(available)
    comparison = np.sort(pool.choice(rest, size=params.n_comparison, replace=False))
    chosen += [(int(c), None, None, None) for c in comparison]

    kommuner, weights = draw_kommuner(params, seed)
    krng = rng_for(seed, STREAM_KOMMUNE, 1)
    participants = [c for c in chosen if c[1] is not None]
    others = [c for c in chosen if c[1] is None]
    small = params.n_kommuner <= 3
    k_of = dict(
        zip(
            [c[0] for c in participants],
            assign_kommuner(krng, len(participants), weights, small),
            strict=True,
        )
    )
    k_of |= dict(
        zip([c[0] for c in others], assign_kommuner(krng, len(others), weights, True), strict=True)
    )

    drafts = []
    for cand, pulje, oppstart, score in chosen:
        srng = rng_for(seed, STREAM_SCHOOL, cand)
        kind, size = countrylib.kind_and_size(params, srng)
        drafts.append((k_of[cand], cand, pulje, oppstart, score, kind, srng, size))

    # Names and orgnr per kommune, then a stable order: kommune, school name.
    orgnrs = draw_orgnrs(krng, len(drafts))
    named = []
    for k in range(len(kommuner)):
        mine = [d for d in drafts if d[0] == k]
        mine.sort(key=lambda d: d[1])
        school_navn = names.school_names([d[5] for d in mine], rng_for(seed, STREAM_NAMES, k))
        named += list(zip(school_navn, mine, strict=True))
    named.sort(key=lambda x: (kommuner[x[1][0]].nummer, x[0]))

    schools: list[School] = []
    for number, (navn, (k, cand, pulje, oppstart, score, kind, srng, size)) in enumerate(named):
        lo, hi = KIND_TRINN[kind]
        phases = {k_: shift_term(oppstart, k_ - 1) for k_ in range(1, 5)} if oppstart else {}
        spekter_from = params.first_term
        if oppstart and srng.random() < params.p_spekter_from_phase1:
            spekter_from = oppstart
        chosen = tuple(
            m
            for m, p in (("digital", params.p_module_digital), ("voksen", params.p_module_voksen))
            if srng.random() < p
        )
        modules = chosen if params.school_modules else ("digital", "voksen")
        school = School(
            number=number,
            candidate=cand,
            orgnr=orgnrs[number],
            navn=navn,
            kommune=kommuner[k],
            kind=kind,
            trinn_lo=lo,
            trinn_hi=hi,
            size=size,
            rolle="deltaker" if pulje else "sammenligning",
            pulje=pulje,
            oppstart=oppstart,
            phases=phases,
            phase_overrides={},
            u=float(u[cand]),
            climate=float(srng.normal(0.0, params.climate_sd_school)),
            shock=tuple(float(x) for x in shocks[cand]),
            selection_score=score,
            modules=modules,
            style=_export_style(srng, params, number),
            spekter_from=spekter_from,
        )
        schools.append(school)

    # Local adaptation: phases 3 and 4 one term later, only where post(4) is still observed.
    arng = rng_for(seed, STREAM_POOL, 1)
    last = term_index(params.last_term)
    eligible = [s for s in schools if s.oppstart and term_index(shift_term(s.oppstart, 4)) < last]
    n_adapt = min(params.n_phase_adaptations, len(eligible))
    for idx in sorted(arng.choice(len(eligible), size=n_adapt, replace=False)) if n_adapt else []:
        s = eligible[idx]
        s.phase_overrides = {3: shift_term(s.oppstart, 3), 4: shift_term(s.oppstart, 4)}
        s.phases.update(s.phase_overrides)

    for s in schools:
        s.rounds = plan_rounds(rng_for(seed, STREAM_SCHOOL, s.candidate, 1), params, s, terms)
    add_mistanke_rounds(rng_for(seed, STREAM_POOL, 2), params, schools)

    levels = {
        s.candidate: [s.exposure_level(f"{y}H") for y in country.years]
        for s in schools if s.participant
    }
    countrylib.draw_rest(country, params, seed, levels, rng_for)
    in_world = {s.candidate for s in schools}
    outside = [c for c in range(n_pool) if c not in in_world]
    extra = country_schools(params, seed, outside, country, kommuner, {s.orgnr for s in schools})
    return World(params, seed, tuple(terms), kommuner, schools, beta_by_year, trend, country,
                 extra)
