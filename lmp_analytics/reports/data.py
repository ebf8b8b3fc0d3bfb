"""What a school report shows, assembled from the role-scoped, suppressed API.

Every indicator number comes from :func:`lmp_analytics.api.indicators` and
:func:`lmp_analytics.api.compare` (already suppressed and cut to the role); the data-quality counts
(respondents, response rate) come from :func:`lmp_analytics.metrics.participation.response_rates`,
the same suppressed function the dashboard uses. Nothing is formatted
here: :mod:`lmp_analytics.reports.render` turns the model into HTML and PDF.

A :class:`ReportSource` fetches each table once per (warehouse, role) and keeps it, so a batch of
reports for a municipality or pulje reads the warehouse once, not once per school; changes are
computed only for the batch's schools (``schools``), not for every school in scope.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from lmp_analytics import api
from lmp_analytics.errors import LmpError
from lmp_analytics.metrics import nonresponse
from lmp_analytics.metrics.participation import LOW_RESPONSE_RATE, enrolment, response_rates
from lmp_analytics.metrics.phases import phase_calendar, primary_rounds
from lmp_analytics.presentation.strings import Lang, check_lang
from lmp_analytics.privacy.roles import Role
from lmp_analytics.privacy.scope import scope
from lmp_analytics.readmodels.catalogue import (
    IndicatorInfo,
    rounds_with_primary,
)
from lmp_analytics.readmodels.catalogue import indicator_catalogue as _catalogue
from lmp_analytics.terms import parse_term, term_index, terms_between
from lmp_analytics.warehouse import reading

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




# --------------------------------------------------------------------------------------------
# Source: each table fetched once per (warehouse, role)


class ReportSource:
    """The numbers a report may use, fetched through :mod:`lmp_analytics.api` for one role."""

    def __init__(self, *, role: str | Role | None = "program", warehouse: WarehouseArg = None,
                 schools: Sequence[str] | None = None):
        self.role = api.as_role(role)
        self.warehouse = warehouse
        self.schools = tuple(schools or ())
        self._changes: dict[tuple[str, tuple[str, ...]], pl.DataFrame] = {}
        self._cells: dict[tuple[str | None, tuple[str, ...]], pl.DataFrame] = {}

    @cached_property
    def min_n(self) -> int:
        """The threshold the report's numbers are suppressed with (:func:`api.threshold`)."""
        return api.threshold(self.warehouse)

    def _family(self, orgnr: str) -> tuple[str, ...]:
        """The batch's schools when ``orgnr`` is one of them, else ``orgnr`` alone."""
        return self.schools if orgnr in self.schools else (orgnr,)

    def school_cells(self, orgnr: str, *, by: str | None = None) -> pl.DataFrame:
        """The school's published cells of every indicator (``by``: None or 'trinn'), read for
        the batch's schools at once (one query) when ``orgnr`` is one of them."""
        key = (by, self._family(orgnr))
        if key not in self._cells:
            self._cells[key] = api.indicators("skole", indicator=None, by=by, role=self.role,
                                              warehouse=self.warehouse, schools=key[1],
                                              surface="report")
        return self._cells[key].filter(pl.col("skole_orgnr") == orgnr)

    @cached_property
    def reference(self) -> pl.DataFrame:
        frame = api.indicators("program", indicator=None, role=self.role,
                               warehouse=self.warehouse, surface="report")
        return frame.filter(pl.col("rolle") == "deltaker") if frame.height else frame

    def changes(self, indicator: str, orgnr: str) -> pl.DataFrame:
        """Before/after every phase and between consecutive rounds of one school.

        Computed only for the batch's ``schools`` (one call for all of them) when ``orgnr`` is
        one of them, else for ``orgnr`` alone. The report shows no Benjamini-Hochberg adjusted
        p-value, so the family a change is computed in does not change what it shows."""
        family = self._family(orgnr)
        key = (indicator, family)
        if key not in self._changes:
            phases = api.compare(indicator=indicator, phase=None, role=self.role,
                                 warehouse=self.warehouse, schools=family, surface="report")
            rounds = api.compare(indicator=indicator, phase="runde", role=self.role,
                                 warehouse=self.warehouse, schools=family, surface="report")
            self._changes[key] = pl.concat([phases, rounds], how="vertical_relaxed")
        return self._changes[key].filter(pl.col("skole_orgnr") == orgnr)

    @cached_property
    def context(self) -> dict[str, pl.DataFrame | str | None]:
        """Schools, phase calendar, rounds, enrolment and the last ingest (no numbers about
        pupils except respondents, which are suppressed before they are shown)."""
        with reading(self.warehouse) as con:
            schools = con.sql(
                "SELECT skole_orgnr, skole, kommunenummer, kommune, rolle, "
                "CAST(pulje AS BIGINT) AS pulje, oppstart FROM dim_school "
                "ORDER BY kommunenummer, skole, skole_orgnr"
            ).pl()
            calendar = phase_calendar(con)
            primary = primary_rounds(con)
            rounds = rounds_with_primary(con).select(
                "round_id", "skole_orgnr", "term", "versjon", "runde", "formal", "first_date",
                "respondents", "items", "is_primary",
            ).sort("skole_orgnr", "first_date", "round_id", maintain_order=True)
            enrolled = enrolment(con)
            last = con.sql("SELECT max(finished_at) FROM ingest_run").fetchall()[0][0]
        return {
            "schools": schools, "calendar": calendar, "primary": primary, "rounds": rounds,
            "enrolment": enrolled, "data_as_of": last.date().isoformat() if last else None,
        }

    # ----------------------------------------------------------------------------------------

    def schools_in_scope(self) -> pl.DataFrame:
        """dim_school rows of the schools the role may see."""
        return scope(self.context["schools"], self.role, "report")

    def school(self, orgnr: str) -> dict:
        """The school's roster row; ReportError if unknown, PermissionError if out of scope."""
        schools = self.context["schools"].filter(pl.col("skole_orgnr") == orgnr)
        if schools.height == 0:
            raise ReportError(f"no school with orgnr {orgnr} in the warehouse")
        row = schools.row(0, named=True)
        if not self.role.includes_school(orgnr, row["kommunenummer"]):
            raise PermissionError(f"role {self.role} may not see school {orgnr}")
        return row


def select_schools(
    source: ReportSource,
    *,
    schools: list[str] | None = None,
    kommune: str | None = None,
    pulje: int | None = None,
) -> list[str]:
    """Orgnr of the schools a batch covers, within the role's scope (roster order).

    Exactly one of ``schools``, ``kommune`` and ``pulje``. A school named explicitly but out of
    scope is a PermissionError; a kommune or pulje is cut to the scope and must keep a school.
    """
    given = [x is not None and x != [] for x in (schools, kommune, pulje)]
    if sum(given) != 1:
        raise ReportError("name exactly one of: school(s), kommune, pulje")
    if schools:
        for orgnr in schools:
            source.school(orgnr)
        return list(dict.fromkeys(schools))
    visible = source.schools_in_scope()
    if kommune is not None:
        picked = visible.filter(pl.col("kommunenummer") == kommune)
        what = f"kommune {kommune}"
    else:
        picked = visible.filter(pl.col("pulje") == int(pulje))
        what = f"pulje {pulje}"
    if picked.height == 0:
        raise ReportError(f"no school of {what} in the warehouse within role {source.role}")
    return picked["skole_orgnr"].to_list()


def split_by_rounds(source: ReportSource, orgnrs: list[str]) -> tuple[list[str], list[str]]:
    """(schools with Spekter rounds, schools without) of ``orgnrs``, each in the given order.
    A kommune's comparison schools are outside LMP and normally run no Spekter: a batch
    reports the first and names the second."""
    have = set(source.context["rounds"]["skole_orgnr"].to_list())
    return [o for o in orgnrs if o in have], [o for o in orgnrs if o not in have]


# --------------------------------------------------------------------------------------------
# Assembly


def _cell(row: dict, *, kind: str) -> Cell:
    if kind == "share":
        value, low, high = row["share"], row["ci_low"], row["ci_high"]
    else:
        value, low, high = row["mean"], row["mean_ci_low"], row["mean_ci_high"]
    hidden = bool(row["suppressed"])
    return Cell(
        indicator=row["indicator"], kind=kind, term=row["term"],
        n=None if hidden else row["n"], n_display=row["n_display"],
        value=None if hidden else value, ci_low=None if hidden else low,
        ci_high=None if hidden else high, suppressed=hidden,
        reason=row["suppression_reason"], breakdown_value=row["breakdown_value"],
    )


def _change(row: dict) -> Change:
    diff = row["diff_pp"] if row["kind"] == "share" else row["diff_mean"]
    return Change(
        indicator=row["indicator"], kind=row["kind"], phase=row["phase"],
        pre_term=row["pre_term"], post_term=row["post_term"], pre_n=row["pre_n"],
        post_n=row["post_n"], linked_n=row["linked_n"], pre_value=row["pre_value"],
        post_value=row["post_value"], diff=diff, ci_low=row["diff_ci_low"],
        ci_high=row["diff_ci_high"], p_value=row["p_value"], test=row["test"] or None,
        tested=bool(row["tested"]), verdict=row["verdict"], linked_diff=row["linked_diff"],
        linked_ci_low=row["linked_ci_low"], linked_ci_high=row["linked_ci_high"],
        rtm_warning=bool(row["rtm_warning"]), suppressed=bool(row["suppressed"]),
    )


def _rounds_for(source: ReportSource, orgnr: str, until: str, min_n: int) -> tuple[RoundInfo, ...]:
    ctx = source.context
    rounds = ctx["rounds"].filter(pl.col("skole_orgnr") == orgnr)
    rounds = rounds.filter(pl.col("term").map_elements(term_index, return_dtype=pl.Int64)
                           <= term_index(until))
    if rounds.height == 0:
        return ()
    rounds = response_rates(rounds, ctx["enrolment"], min_n=min_n)
    modules = nonresponse.item_modules()
    out = []
    for r in rounds.iter_rows(named=True):
        mods = sorted({modules.get(i, "?") for i in (r["items"] or [])},
                      key=lambda m: (m != "kjerne", m))
        rate = r["response_rate"]
        out.append(RoundInfo(
            term=r["term"], date=r["first_date"], versjon=r["versjon"], formal=r["formal"],
            runde=r["runde"], modules=tuple(mods), n_items=len(r["items"] or []),
            is_primary=bool(r["is_primary"]), respondents=r["n"],
            respondents_display=r["n_display"], enrolled=r["enrolled"], response_rate=rate,
            low_rate=bool(r["low_rate"]),
            suppressed=bool(r["suppressed"]),
        ))
    return tuple(out)


def _report_term(primary: pl.DataFrame, requested: str | None, orgnr: str) -> str:
    terms = sorted(set(primary["term"].to_list()), key=term_index)
    if not terms:
        raise ReportError(f"school {orgnr} has no Spekter rounds in the warehouse")
    if requested is None:
        return terms[-1]
    upto = [t for t in terms if term_index(t) <= term_index(requested)]
    if not upto:
        raise ReportError(f"school {orgnr} has no round in or before {requested} "
                          f"(first round: {terms[0]})")
    return upto[-1]


def school_report(
    orgnr: str,
    *,
    term: str | None = None,
    lang: str = "nb",
    role: str | Role | None = "program",
    warehouse: WarehouseArg = None,
    source: ReportSource | None = None,
) -> SchoolReport:
    """The report model of one school for ``term`` (default: its latest round).

    ``source`` reuses fetched tables across a batch; it must have the same role and warehouse.
    Raises PermissionError when the school is outside the role's scope.
    """
    lang = check_lang(lang)
    requested = parse_term(term) if term else None
    src = source or ReportSource(role=role, warehouse=warehouse)
    school = src.school(orgnr)
    min_n = src.min_n
    ctx = src.context
    primary = ctx["primary"].filter(pl.col("skole_orgnr") == orgnr)
    if primary.height == 0 and school["rolle"] == "sammenligning":
        raise ReportError(
            f"school {orgnr} is a comparison school with no Spekter rounds in the warehouse: "
            "schools outside LMP normally do not run Spekter, so there is no school report; "
            "compare with the programme on Elevundersøkelsen instead (lmp evaluate national, "
            "the Sammenligning page)")
    report_term = _report_term(primary, requested, orgnr)
    until = term_index(report_term)
    primary = primary.filter(pl.col("term").map_elements(term_index, return_dtype=pl.Int64)
                             <= until)
    primary_ids = set(primary["round_id"].to_list())
    latest_round = primary.filter(pl.col("term") == report_term)["round_id"][0]

    catalogue = indicator_catalogue()
    kinds = {i.id: i.kind for i in catalogue}

    cells = src.school_cells(orgnr).filter(pl.col("round").is_in(sorted(primary_ids)))
    series: dict[str, tuple[Cell, ...]] = {}
    latest: dict[str, Cell] = {}
    for ind in catalogue:
        rows = cells.filter(pl.col("indicator") == ind.id).sort(
            pl.col("term").map_elements(term_index, return_dtype=pl.Int64))
        found = tuple(_cell(r, kind=ind.kind) for r in rows.iter_rows(named=True))
        series[ind.id] = found
        for c, rid in zip(found, rows["round"].to_list(), strict=True):
            if rid == latest_round:
                latest[ind.id] = c

    terms = tuple(terms_between(primary.sort("first_date")["term"][0], report_term))

    reference: dict[str, tuple[Cell, ...]] = {}
    ref = src.reference
    if ref.height:
        ref = ref.filter(pl.col("term").is_in(list(terms)))
        for ind in catalogue:
            rows = ref.filter(pl.col("indicator") == ind.id).sort(
                pl.col("term").map_elements(term_index, return_dtype=pl.Int64))
            reference[ind.id] = tuple(_cell(r, kind=ind.kind) for r in rows.iter_rows(named=True))

    calendar = ctx["calendar"].filter(pl.col("skole_orgnr") == orgnr).sort("fase")
    phases = tuple(PhaseInfo(int(r["fase"]), r["termin"], r["kilde"])
                   for r in calendar.iter_rows(named=True))
    phase_now = next((p.fase for p in phases if p.termin == report_term), None)

    latest_change: dict[str, Change] = {}
    phase_rows: dict[str, list[Change]] = {}
    programme: dict[str, Change] = {}
    for ind in catalogue:
        if ind.id not in latest:
            continue  # not measured in the report's round
        ch = src.changes(ind.id, orgnr)
        for r in ch.iter_rows(named=True):
            c = _change(r)
            if c.post_term is None or term_index(c.post_term) > until:
                continue
            if c.phase == "runde":
                if r["post_round"] == latest_round:
                    latest_change[ind.id] = c
            elif c.phase == "program":
                programme[ind.id] = c
            elif c.pre_term is not None:
                phase_rows.setdefault(c.phase, []).append(c)
    finished = _finished_phase(phase_rows, report_term)
    unassessed = tuple(p.fase for p in phases if term_index(p.termin) < until
                       and str(p.fase) not in phase_rows)
    phase_changes = {c.indicator: c for c in phase_rows.get(finished, [])} if finished else {}

    grade_frame = src.school_cells(orgnr, by="trinn").filter(pl.col("round") == latest_round)
    grades = tuple(sorted(set(grade_frame["breakdown_value"].to_list()),
                          key=lambda g: (len(g), g)))
    grade_cells = {(r["indicator"], r["breakdown_value"]): _cell(r, kind=kinds.get(
        r["indicator"], r["kind"])) for r in grade_frame.iter_rows(named=True)}

    shown_changes = [*latest_change.values(), *phase_changes.values(),
                     *programme.values()]
    tests = tuple(sorted({c.test for c in shown_changes if c.shown and c.test}))
    return SchoolReport(
        orgnr=orgnr, skole=school["skole"], kommunenummer=school["kommunenummer"],
        kommune=school["kommune"], rolle=school["rolle"], pulje=school["pulje"],
        oppstart=school["oppstart"], term=report_term, requested_term=requested, lang=lang,
        role=str(src.role), min_n=min_n, data_as_of=ctx["data_as_of"], phases=phases,
        phase_in_term=phase_now, indicators=catalogue, terms=terms, latest=latest,
        series=series, reference=reference, latest_change=latest_change,
        finished_phase=finished, phase_changes=phase_changes, programme_changes=programme,
        grades=grades, grade_cells=grade_cells,
        rounds=_rounds_for(src, orgnr, report_term, min_n), tests_used=tests,
        phases_without_after=unassessed,
    )


def _finished_phase(rows: dict[str, list[Change]], report_term: str) -> str | None:
    """The phase whose 'after' round is the report's round, else the latest one before it."""
    done = {k: v for k, v in rows.items() if v and v[0].post_term is not None}
    if not done:
        return None
    now = [k for k, v in done.items() if v[0].post_term == report_term]
    if now:
        return max(now, key=int)
    return max(done, key=lambda k: (term_index(done[k][0].post_term), int(k)))


__all__ = [
    "LOW_RESPONSE_RATE",
    "Cell",
    "Change",
    "IndicatorInfo",
    "PhaseInfo",
    "ReportError",
    "ReportSource",
    "RoundInfo",
    "SchoolReport",
    "indicator_catalogue",
    "school_report",
    "select_schools",
    "split_by_rounds",
]
