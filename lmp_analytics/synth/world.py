"""The synthetic world: municipalities, schools, selection into puljer, phases, rounds and pupils.

:func:`build_world` makes the small skeleton (everything per school and term, no pupils).
:class:`Population` then follows the pupils of ONE school term by term, so that a national world
streams school by school in bounded memory. Every random stream is keyed by (seed, purpose,
candidate school), so a school's pupils do not depend on which other schools exist.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from lmp_analytics.codebook import NEGATIVE_NOMINATION_RULE_DATE
from lmp_analytics.registry import current_kommunenummer, orgnr_check_digit
from lmp_analytics.registry import kommuner as kommuner_table
from lmp_analytics.synth import country as countrylib
from lmp_analytics.synth import names
from lmp_analytics.synth.params import FORMAT_CSV_SEMICOLON_CP1252, FORMAT_XLSX, Params
from lmp_analytics.synth.responses import calibrate_national, logistic_normal_mean
from lmp_analytics.terms import shift_term, term_end, term_index, term_start, terms_between

VERSION_2018 = "spekter-2018"
VERSION_FOREBYGGENDE = "spekter-2022-forebyggende"
VERSION_MISTANKE = "spekter-2022-mistanke"

KIND_TRINN = countrylib.KIND_TRINN
FYLKER = ("11", "15", "18", "31", "32", "33", "34", "39", "40", "42", "46", "50", "55", "56")
GENDER_LABELS = ("jente", "gutt", "annet", None)

# Pupil ids: a bijective scramble of (candidate school, serial) into 8 digits, so ids look random
# but never collide. Fake pupils of planted bad rows use serials from FAKE_ID_BASE up.
_ID_PRIME = 99_999_989
_ID_MULT = 48_271_457
_ID_ADD = 13_579_246
_SERIALS_PER_SCHOOL = 20_000
FAKE_ID_BASE = 90_000_000

STREAM_POOL, STREAM_KOMMUNE, STREAM_SCHOOL, STREAM_PUPILS, STREAM_FAULTS, STREAM_NAMES = range(
    11, 17
)


def rng_for(seed: int, stream: int, *key: int) -> np.random.Generator:
    """An independent random stream for (seed, purpose, key...)."""
    return np.random.default_rng([seed, stream, *key])


def pupil_number(raw: np.ndarray | int) -> np.ndarray:
    """Scrambled 8-digit pupil number from a raw serial (bijective below ``_ID_PRIME``)."""
    raw = np.asarray(raw, dtype=np.int64)
    return (raw * _ID_MULT + _ID_ADD) % _ID_PRIME


def feide_id(number: int, kommune_slug: str) -> str:
    """Feide-like pupil id, stable across rounds: ``elev04817733@fjellvik.kommune.no``."""
    return f"elev{number:08d}@{kommune_slug}.kommune.no"


@dataclass(frozen=True)
class Kommune:
    nummer: str
    navn: str
    slug: str
    start_shift: int
    """Days the first school day falls after ``params.autumn_school_start``."""


@dataclass(frozen=True)
class ExportStyle:
    """How one school's Spekter exports look (stable across its rounds)."""

    format: str
    date_format: str
    numeric_answers: bool
    elev_navn: bool
    fritekst: bool
    runde: bool
    formal: bool
    kjonn: bool
    column_variant: int


@dataclass(frozen=True)
class RoundPlan:
    """One Spekter round of one school (one export file)."""

    term: str
    versjon: str
    date: dt.date
    kind: str  # "regular" or "mistanke" (an extra round for one class)
    nominations: bool
    runde: str = "1"


@dataclass
class School:
    number: int
    candidate: int
    orgnr: str
    navn: str
    kommune: Kommune
    kind: str
    trinn_lo: int
    trinn_hi: int
    size: int
    rolle: str
    pulje: int | None
    oppstart: str | None
    phases: dict[int, str]
    phase_overrides: dict[int, str]
    u: float
    climate: float
    shock: tuple[float, ...]
    selection_score: float | None
    modules: tuple[str, ...]
    style: ExportStyle
    spekter_from: str
    rounds: list[RoundPlan] = field(default_factory=list)

    @property
    def participant(self) -> bool:
        return self.rolle == "deltaker"

    def exposure_level(self, term: str) -> int:
        """Phases completed before ``term``: rounds come early in a term, so a round in the term
        of phase k does not yet reflect phase k."""
        t = term_index(term)
        return sum(1 for p in self.phases.values() if term_index(p) < t)


@dataclass(frozen=True)
class CountrySchool:
    """A grunnskole of the synthetic country outside the world (never in LMP, no Spekter)."""

    candidate: int
    orgnr: str
    navn: str
    kommune: Kommune
    kind: str


@dataclass
class World:
    params: Params
    seed: int
    terms: tuple[str, ...]
    kommuner: list[Kommune]
    schools: list[School]
    beta_by_year: dict[int, float]
    trend: dict[str, float]
    country: countrylib.Country | None = None
    """Elevundersøkelsen cells of the whole synthetic country (candidate pool)."""
    country_schools: list[CountrySchool] = field(default_factory=list)
    """The country's schools outside the world (non-participants), in candidate order."""

    @property
    def beta0(self) -> float:
        return self.beta_by_year[min(self.beta_by_year)]

    def term_pos(self, term: str) -> int:
        return term_index(term) - term_index(self.terms[0])


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


def _kommuner(params: Params, seed: int) -> tuple[list[Kommune], np.ndarray]:
    rng = rng_for(seed, STREAM_KOMMUNE)
    navn = names.kommune_names(params.n_kommuner, rng)
    drafts = ["0301"]  # county draws as before, so the rest of this random stream is unchanged
    taken = set(drafts)
    while len(drafts) < params.n_kommuner:
        code = f"{rng.choice(FYLKER)}{rng.integers(1, 100):02d}"
        if code not in taken:
            taken.add(code)
            drafts.append(code)
    # Real municipality numbers (valid from 2024) of the drawn counties, so that rosters pass the
    # registry check; the names stay fictional. Drawn from their own stream.
    numbers = ["0301", *_real_numbers(drafts[1:], rng_for(seed, STREAM_KOMMUNE, 2))]
    if params.n_kommuner <= 3:
        weights = np.ones(params.n_kommuner)
    else:
        weights = rng.lognormal(0.0, 1.0, params.n_kommuner)
        weights[0] = weights.max() * 2  # a capital-like municipality
    shifts = rng.integers(0, 5, params.n_kommuner)
    kommuner = [
        Kommune(num, nv, names.slug(nv), int(sh))
        for num, nv, sh in zip(numbers, navn, shifts, strict=True)
    ]
    return kommuner, weights / weights.sum()


def _real_numbers(drafts: list[str], rng: np.random.Generator) -> list[str]:
    """One distinct real municipality number per drafted number, in its county when the county
    has one left (else anywhere outside Oslo)."""
    pool = sorted(c for c in current_kommunenummer() if c[:2] in FYLKER)
    left = set(pool)
    out = []
    for draft in drafts:
        same = [c for c in pool if c in left and c[:2] == draft[:2]]
        choices = same or sorted(left)
        pick = str(choices[int(rng.integers(0, len(choices)))])
        left.discard(pick)
        out.append(pick)
    return out


def _assign_kommuner(
    rng: np.random.Generator, n: int, weights: np.ndarray, guarantee: bool
) -> np.ndarray:
    """Kommune index per school; with ``guarantee`` the first schools cover every kommune."""
    out = rng.choice(len(weights), size=n, p=weights)
    if guarantee:
        k = min(n, len(weights))
        out[:k] = rng.permutation(len(weights))[:k]
    return out


def _orgnrs(rng: np.random.Generator, n: int, taken: set[str] | None = None) -> list[str]:
    seen: set[str] = set(taken or ())
    out: list[str] = []
    while len(out) < n:
        first8 = f"9{rng.integers(7_000_000, 10_000_000):07d}"
        check = orgnr_check_digit(first8)
        if check is None:
            continue
        orgnr = f"{first8}{check}"
        if orgnr not in seen:
            seen.add(orgnr)
            out.append(orgnr)
    return out


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


def _round_date(rng: np.random.Generator, params: Params, kommune: Kommune, term: str) -> dt.date:
    year = int(term[:4])
    if term.endswith("H"):
        month, day = params.autumn_school_start
        start = dt.date(year, month, day) + dt.timedelta(days=kommune.start_shift)
        lo, hi = params.autumn_round_weeks
        return start + dt.timedelta(days=int(rng.integers(7 * lo, 7 * hi + 1)))
    lo, hi = params.spring_round_days
    return dt.date(year, 1, int(rng.integers(lo, hi + 1)))


def _plan_rounds(
    rng: np.random.Generator, params: Params, school: School, terms: list[str]
) -> list[RoundPlan]:
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


def _add_mistanke_rounds(rng: np.random.Generator, params: Params, schools: list[School]) -> None:
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

    kommuner, weights = _kommuner(params, seed)
    krng = rng_for(seed, STREAM_KOMMUNE, 1)
    participants = [c for c in chosen if c[1] is not None]
    others = [c for c in chosen if c[1] is None]
    small = params.n_kommuner <= 3
    k_of = dict(
        zip(
            [c[0] for c in participants],
            _assign_kommuner(krng, len(participants), weights, small),
            strict=True,
        )
    )
    k_of |= dict(
        zip([c[0] for c in others], _assign_kommuner(krng, len(others), weights, True), strict=True)
    )

    drafts = []
    for cand, pulje, oppstart, score in chosen:
        srng = rng_for(seed, STREAM_SCHOOL, cand)
        kind, size = countrylib.kind_and_size(params, srng)
        drafts.append((k_of[cand], cand, pulje, oppstart, score, kind, srng, size))

    # Names and orgnr per kommune, then a stable order: kommune, school name.
    orgnrs = _orgnrs(krng, len(drafts))
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
        s.rounds = _plan_rounds(rng_for(seed, STREAM_SCHOOL, s.candidate, 1), params, s, terms)
    _add_mistanke_rounds(rng_for(seed, STREAM_POOL, 2), params, schools)

    levels = {
        s.candidate: [s.exposure_level(f"{y}H") for y in country.years]
        for s in schools if s.participant
    }
    countrylib.draw_rest(country, params, seed, levels, rng_for)
    in_world = {s.candidate for s in schools}
    outside = [c for c in range(n_pool) if c not in in_world]
    extra = _country_schools(params, seed, outside, country, kommuner, {s.orgnr for s in schools})
    return World(params, seed, tuple(terms), kommuner, schools, beta_by_year, trend, country,
                 extra)


def _country_schools(
    params: Params, seed: int, candidates: list[int], country: countrylib.Country,
    kommuner: list[Kommune], taken: set[str],
) -> list[CountrySchool]:
    """Names, orgnr and real municipalities of the country's schools outside the world."""
    if not candidates:
        return []
    rng = rng_for(seed, countrylib.STREAM_COUNTRY, 3)
    known = {k.nummer: k for k in kommuner}
    registry = dict(
        kommuner_table().filter(pl.col("valid_to").is_null())
        .select("kommunenummer", "kommune").iter_rows()
    )
    numbers = sorted(current_kommunenummer())
    picks = rng.integers(0, len(numbers), len(candidates))
    orgnrs = _orgnrs(rng, len(candidates), taken)
    by_kommune: dict[str, list[int]] = {}
    for i, p in enumerate(picks):
        by_kommune.setdefault(numbers[p], []).append(i)
    out: list[CountrySchool | None] = [None] * len(candidates)
    for nummer, rows in sorted(by_kommune.items()):
        kommune = known.get(nummer) or Kommune(
            nummer, registry.get(nummer, nummer), names.slug(registry.get(nummer, nummer)), 0
        )
        kinds = [country.kinds[candidates[i]] for i in rows]
        for i, navn in zip(rows, names.school_names(kinds, rng), strict=True):
            out[i] = CountrySchool(candidates[i], orgnrs[i], navn, kommune,
                                   country.kinds[candidates[i]])
    return [s for s in out if s is not None]


# --- pupils ------------------------------------------------------------------------------


@dataclass
class TermLatent:
    """Latent predictors of every enrolled pupil of one school in one term."""

    trinn: np.ndarray
    eta: np.ndarray
    """Victimisation logit including the programme effect: P(mobbet >= 3) = expit(eta)."""
    eta_perp: np.ndarray
    zeta: np.ndarray
    p_school: np.ndarray
    """P(mobbet >= 3) integrated over class and pupil effects (given school, term, trinn)."""
    p_school0: np.ndarray
    delta: float
    rel_delta: float
    level: int


class Population:
    """The enrolled pupils of one school, advanced term by term.

    Each autumn every class moves up one trinn, the top trinn leaves and a new entry trinn
    arrives; every term a share ``p_move`` of pupils is replaced by newcomers (new ids).
    """

    def __init__(self, world: World, school: School, rng: np.random.Generator) -> None:
        self.world, self.school, self.rng, self.params = world, school, rng, world.params
        self.serial = 0
        self.cls_trinn: list[int] = []
        self.cls_letter: list[str] = []
        self.cls_v: list[float] = []
        self.cls_h: list[float] = []
        self.pid = np.zeros(0, dtype=np.int64)
        self.cls = np.zeros(0, dtype=np.int32)
        self.b = np.zeros(0)
        self.e = np.zeros(0)
        self.c = np.zeros(0)
        self.kjonn = np.zeros(0, dtype=np.int8)
        self.first = np.zeros(0, dtype=np.int16)
        self.last = np.zeros(0, dtype=np.int16)
        n_trinn = school.trinn_hi - school.trinn_lo + 1
        self.cohort_mean = school.size / n_trinn
        self.cohort_max = self.params.school_size[2] // n_trinn
        for trinn in range(school.trinn_lo, school.trinn_hi + 1):
            self._new_cohort(trinn)

    # -- structure
    def _new_cohort(self, trinn: int) -> None:
        lo, hi = self.params.class_size
        n = round(self.cohort_mean * self.rng.lognormal(0.0, self.params.cohort_size_cv))
        n = max(lo, min(n, self.cohort_max))  # the school stays within school_size
        n_classes = math.ceil(n / hi)
        n = max(n, n_classes * lo)
        q, r = divmod(n, n_classes)
        for j in range(n_classes):
            index = len(self.cls_trinn)
            self.cls_trinn.append(trinn)
            self.cls_letter.append("ABCDEFGH"[j])
            self.cls_v.append(float(self.rng.normal(0.0, self.params.sd_class)))
            self.cls_h.append(float(self.rng.normal(0.0, self.params.climate_sd_class)))
            self._add_pupils(q + (1 if j < r else 0), np.full(q + 1, index, dtype=np.int32))

    def _new_ids(self, k: int) -> np.ndarray:
        if self.serial + k >= _SERIALS_PER_SCHOOL:
            raise RuntimeError("too many pupils for one school's id range")
        raw = self.school.candidate * _SERIALS_PER_SCHOOL + self.serial + np.arange(k)
        self.serial += k
        return raw

    def _draw_pupils(self, k: int) -> tuple[np.ndarray, ...]:
        p = self.params
        b = self.rng.normal(0.0, p.sd_pupil, k)
        r = p.corr_mobber_andre
        e = r * b + math.sqrt(1 - r**2) * self.rng.normal(0.0, p.sd_pupil, k)
        c = self.rng.normal(0.0, p.climate_sd_pupil, k)
        kjonn = self.rng.choice(4, size=k, p=p.gender_shares).astype(np.int8)
        girl = kjonn == 0
        first = np.where(
            girl,
            self.rng.integers(0, len(names.GIRL_NAMES), k),
            self.rng.integers(0, len(names.BOY_NAMES), k),
        ).astype(np.int16)
        last = self.rng.integers(0, len(names.SURNAME_FIRST) * len(names.SURNAME_LAST), k)
        return self._new_ids(k), b, e, c, kjonn, first, last.astype(np.int16)

    def _add_pupils(self, k: int, cls: np.ndarray) -> None:
        pid, b, e, c, kjonn, first, last = self._draw_pupils(k)
        self.pid = np.concatenate([self.pid, pid])
        self.cls = np.concatenate([self.cls, cls[:k]])
        self.b = np.concatenate([self.b, b])
        self.e = np.concatenate([self.e, e])
        self.c = np.concatenate([self.c, c])
        self.kjonn = np.concatenate([self.kjonn, kjonn])
        self.first = np.concatenate([self.first, first])
        self.last = np.concatenate([self.last, last])

    def _keep(self, mask: np.ndarray) -> None:
        for name in ("pid", "cls", "b", "e", "c", "kjonn", "first", "last"):
            setattr(self, name, getattr(self, name)[mask])

    def advance(self, first_term: bool, autumn: bool) -> None:
        """Move to the next term: promotion each autumn, movers every term."""
        if first_term:
            return
        if autumn:
            self.cls_trinn = [t + 1 for t in self.cls_trinn]
            trinn = np.asarray(self.cls_trinn)[self.cls]
            self._keep(trinn <= self.school.trinn_hi)
            self._new_cohort(self.school.trinn_lo)
        moving = self.rng.random(self.pid.shape[0]) < self.params.p_move
        k = int(moving.sum())
        if k:
            pid, b, e, c, kjonn, first, last = self._draw_pupils(k)
            self.pid[moving], self.b[moving], self.e[moving], self.c[moving] = pid, b, e, c
            self.kjonn[moving], self.first[moving], self.last[moving] = kjonn, first, last

    # -- views
    @property
    def trinn(self) -> np.ndarray:
        return np.asarray(self.cls_trinn, dtype=np.int16)[self.cls]

    def gruppe(self, rows: np.ndarray) -> list[str]:
        labels = [f"{t}{letter}" for t, letter in zip(self.cls_trinn, self.cls_letter, strict=True)]
        return [labels[i] for i in self.cls[rows]]

    def latent(self, term: str) -> TermLatent:
        """Latent predictors of every enrolled pupil in ``term``."""
        w, p, s = self.world, self.params, self.school
        pos = w.term_pos(term)
        level = s.exposure_level(term) if s.participant else 0
        delta = p.bully_log_or(level)
        rel_delta = p.relation_log_or(level)
        trinn = self.trinn
        v = np.asarray(self.cls_v)[self.cls]
        h = np.asarray(self.cls_h)[self.cls]
        school_part = w.beta0 + w.trend[term] + s.u + s.shock[pos]
        grade = p.grade_slope * (trinn - 7)
        eta0 = school_part + grade + v + self.b
        eta_perp = school_part + p.offset_mobber_andre + grade + v + self.e + delta
        zeta = s.climate + h + self.c - p.climate_bully_loading * (s.u + v + self.b)
        sd_within = math.sqrt(p.sd_class**2 + p.sd_pupil**2)
        levels = np.unique(trinn)
        by_trinn0 = logistic_normal_mean(school_part + p.grade_slope * (levels - 7), sd_within)
        by_trinn1 = logistic_normal_mean(
            school_part + p.grade_slope * (levels - 7) + delta, sd_within
        )
        where = np.searchsorted(levels, trinn)
        return TermLatent(
            trinn=trinn,
            eta=eta0 + delta,
            eta_perp=eta_perp,
            zeta=zeta,
            p_school=by_trinn1[where],
            p_school0=by_trinn0[where],
            delta=delta,
            rel_delta=rel_delta,
            level=level,
        )


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
