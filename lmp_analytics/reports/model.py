"""The model of a school report: what it shows, unformatted (cells, changes, rounds, phases),
and the indicators in report order. Filled by :mod:`lmp_analytics.reports.data`; turned into
HTML and PDF by :mod:`lmp_analytics.reports.render`."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from lmp_analytics.errors import LmpError
from lmp_analytics.presentation.strings import Lang
from lmp_analytics.readmodels.catalogue import IndicatorInfo
from lmp_analytics.readmodels.catalogue import indicator_catalogue as _catalogue

WarehouseArg = str | os.PathLike[str] | None


class ReportError(LmpError, ValueError):
    """A report that cannot be made: unknown school, no rounds, nothing in the role's scope."""


# --------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class Cell:
    """One published cell: a share (fraction) or a scale mean with its 95 % interval."""

    indicator: str
    kind: str
    term: str
    n: int | None
    n_display: str | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool
    reason: str | None = None
    breakdown_value: str | None = None

    @property
    def shown(self) -> bool:
        return not self.suppressed and self.value is not None


@dataclass(frozen=True)
class Change:
    """A published change (after − before) of one indicator for the school."""

    indicator: str
    kind: str
    phase: str
    pre_term: str | None
    post_term: str | None
    pre_n: int | None
    post_n: int | None
    linked_n: int | None
    pre_value: float | None
    post_value: float | None
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    test: str | None
    tested: bool
    verdict: str | None
    linked_diff: float | None
    linked_ci_low: float | None
    linked_ci_high: float | None
    rtm_warning: bool
    suppressed: bool

    @property
    def shown(self) -> bool:
        return not self.suppressed and self.diff is not None


@dataclass(frozen=True)
class RoundInfo:
    """One Spekter round of the school, for the data-quality section."""

    term: str
    date: dt.date
    versjon: str
    formal: str | None
    runde: str
    modules: tuple[str, ...]
    n_items: int
    is_primary: bool
    respondents: int | None
    respondents_display: str | None
    enrolled: int | None
    response_rate: float | None
    low_rate: bool
    suppressed: bool


@dataclass(frozen=True)
class PhaseInfo:
    fase: int
    termin: str
    kilde: str


@dataclass(frozen=True)
class SchoolReport:
    """Everything one school report shows, unformatted."""

    orgnr: str
    skole: str
    kommunenummer: str
    kommune: str
    rolle: str  # deltaker | sammenligning
    pulje: int | None
    oppstart: str | None
    term: str  # the report's term: the school's latest primary round at or before the request
    requested_term: str | None
    lang: Lang
    role: str
    min_n: int
    data_as_of: str | None  # date of the last ingest (ISO)
    phases: tuple[PhaseInfo, ...]
    phase_in_term: int | None  # the phase the school is in during ``term``
    indicators: tuple[IndicatorInfo, ...]
    terms: tuple[str, ...]  # x axis: first round term .. report term
    latest: dict[str, Cell]  # indicator -> cell of ``term`` (missing = not measured)
    series: dict[str, tuple[Cell, ...]]  # indicator -> primary-round cells up to ``term``
    reference: dict[str, tuple[Cell, ...]]  # indicator -> all participating schools (programme)
    latest_change: dict[str, Change]  # indicator -> previous primary round -> ``term``
    finished_phase: str | None  # phase id ("1".."4") of the before/after section
    phase_changes: dict[str, Change]  # indicator -> before/after ``finished_phase``
    programme_changes: dict[str, Change]  # indicator -> pre(1) -> post(4), when observed
    grades: tuple[str, ...]  # grade values of ``term``
    grade_cells: dict[tuple[str, str], Cell]  # (indicator, trinn) -> cell
    rounds: tuple[RoundInfo, ...]
    tests_used: tuple[str, ...] = field(default=())
    phases_without_after: tuple[int, ...] = field(default=())  # finished, but no round after
    # indicator -> the programme's comparison schools (pooled), for the trend chart
    comparison: dict[str, tuple[Cell, ...]] = field(default_factory=dict)
    # Elevundersøkelsen, the whole country, for the headline: one cell per grade (7 and/or 10,
    # ``breakdown_value``) and autumn term, the share as a fraction, no interval
    national: tuple[Cell, ...] = field(default=())

    @property
    def indicator_map(self) -> dict[str, IndicatorInfo]:
        return {i.id: i for i in self.indicators}

    @property
    def headline(self) -> IndicatorInfo:
        return next(i for i in self.indicators if i.headline)


# --------------------------------------------------------------------------------------------
# Indicators in report order


def indicator_catalogue() -> tuple[IndicatorInfo, ...]:
    """The dashboard's indicator catalogue in report order: headline first, shares, scales."""
    found = _catalogue()
    order = list(found)
    return tuple(sorted(found.values(), key=lambda i: (not i.headline, i.kind != "share",
                                                       order.index(i.id))))
