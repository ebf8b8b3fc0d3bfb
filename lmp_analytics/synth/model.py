"""The synthetic world's data model: municipalities, schools, export styles, round plans.

Plain records filled by :func:`lmp_analytics.synth.world.build_world`; no drawing here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from lmp_analytics.synth import country as countrylib
from lmp_analytics.synth.params import Params
from lmp_analytics.terms import term_index

GENDER_LABELS = ("jente", "gutt", "annet", None)


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
