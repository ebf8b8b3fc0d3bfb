"""What a school report shows, assembled from the role-scoped, suppressed API.

Every indicator number comes from :func:`lmp_analytics.api.indicators` and
:func:`lmp_analytics.api.compare` (already suppressed and cut to the role); the data-quality counts
(respondents, response rate) come from :func:`lmp_analytics.metrics.participation.response_rates`,
the same suppressed function the dashboard uses. Nothing is formatted
here: :mod:`lmp_analytics.reports.render` turns the model into HTML and PDF.

A :class:`~lmp_analytics.reports.source.ReportSource` fetches each table once per (warehouse,
role) and keeps it, so a batch of reports for a municipality or pulje reads the warehouse once, not
once per school; changes are computed only for the batch's schools (``schools``), not for every
school in scope. The model's classes are in :mod:`lmp_analytics.reports.model`; this module
assembles them (:func:`school_report`) and re-exports both modules' names.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from lmp_analytics.metrics import nonresponse
from lmp_analytics.metrics.participation import LOW_RESPONSE_RATE, response_rates
from lmp_analytics.presentation.strings import check_lang
from lmp_analytics.privacy.roles import Role
from lmp_analytics.readmodels.catalogue import IndicatorInfo
from lmp_analytics.reports.model import (
    Cell,
    Change,
    PhaseInfo,
    ReportError,
    RoundInfo,
    SchoolReport,
    WarehouseArg,
    indicator_catalogue,
)
from lmp_analytics.reports.source import ReportSource, select_schools
from lmp_analytics.terms import parse_term, term_index, term_order, terms_between


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
    rounds = rounds.filter(term_order("term")
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
    primary = primary.filter(term_order("term")
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
            term_order("term"))
        found = tuple(_cell(r, kind=ind.kind) for r in rows.iter_rows(named=True))
        series[ind.id] = found
        for c, rid in zip(found, rows["round"].to_list(), strict=True):
            if rid == latest_round:
                latest[ind.id] = c

    terms = tuple(terms_between(primary.sort("first_date")["term"][0], report_term))

    reference = _programme_cells(src.reference, terms, catalogue)
    comparison = _programme_cells(src.comparison, terms, catalogue)

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
    national = _national_cells(src.national, terms, grades, catalogue)
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
        phases_without_after=unassessed, comparison=comparison, national=national,
    )


NATIONAL_INDICATORS = ("mobbet", "mobbet_samlet")  # Elevundersøkelsen's bullying question


def _programme_cells(frame: pl.DataFrame, terms: tuple[str, ...],
                     catalogue: tuple[IndicatorInfo, ...]) -> dict[str, tuple[Cell, ...]]:
    """indicator -> the programme-level cells of ``frame`` in ``terms``, in term order."""
    out: dict[str, tuple[Cell, ...]] = {}
    if frame.height == 0:
        return out
    frame = frame.filter(pl.col("term").is_in(list(terms)))
    for ind in catalogue:
        rows = frame.filter(pl.col("indicator") == ind.id).sort(
            term_order("term"))
        out[ind.id] = tuple(_cell(r, kind=ind.kind) for r in rows.iter_rows(named=True))
    return out


def national_grades(grades: Sequence[str]) -> tuple[str, ...]:
    """The Elevundersøkelsen grades that match a school's grades: 7 for a school with grade 7,
    10 for one with grades 8-10, both when it has both or neither."""
    picked = tuple(g for g, own in (("7", {"7"}), ("10", {"8", "9", "10"}))
                   if own & set(grades))
    return picked or ("7", "10")


def _national_cells(frame: pl.DataFrame, terms: tuple[str, ...], grades: tuple[str, ...],
                    catalogue: tuple[IndicatorInfo, ...]) -> tuple[Cell, ...]:
    headline = next(i for i in catalogue if i.headline)
    if frame.height == 0 or headline.id not in NATIONAL_INDICATORS:
        return ()
    wanted = national_grades(grades)
    rows = frame.filter(pl.col("term").is_in(list(terms))
                        & pl.col("trinn").cast(pl.String).is_in(list(wanted))).sort(
        "trinn", term_order("term"))
    return tuple(Cell(indicator=headline.id, kind="share", term=r["term"],
                      n=r["n_answered"], n_display=None if r["n_answered"] is None
                      else str(r["n_answered"]), value=r["value"] / 100, ci_low=None,
                      ci_high=None, suppressed=False, breakdown_value=str(r["trinn"]))
                 for r in rows.iter_rows(named=True))


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
    "WarehouseArg",
    "indicator_catalogue",
    "school_report",
    "select_schools",
    "split_by_rounds",
]
