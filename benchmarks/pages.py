"""What each dashboard page asks the package for, as the page asks it (programme role, headline
indicator, uncached: the first view of a page after a new warehouse is published).

The pages (``dashboards/app_pages``) call ``dashboards/lmpdash/data.py``, which caches and scopes
the results of these ``lmp_analytics.api`` and ``lmp_analytics.readmodels`` functions; the benchmark
times the functions themselves. A function that does not exist (yet) is reported as an error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Task = tuple[str, str, Callable[[], object]]
INDICATOR = "mobbet"
ROLE = "program"


def _terms(warehouse: Path) -> tuple[list[str], str, str | None]:
    from lmp_analytics.readmodels import catalogue

    terms = catalogue.terms(warehouse=warehouse)
    schools = catalogue.schools(role=ROLE, warehouse=warehouse)
    kommune = schools.get_column("kommunenummer")[0] if schools.height else "0301"
    # The Skole page's first pick: the first participant, else the first school.
    picks = schools.filter(schools["rolle"] == "deltaker")["skole_orgnr"].to_list() or \
        schools["skole_orgnr"].to_list()
    return terms, kommune, (picks[0] if picks else None)


def page_queries(warehouse: Path) -> list[Task]:
    """(page, call, function) for every call each dashboard page makes on first view, each
    reading as the dashboard's data layer reads (inside ``warehouse.shared.sharing``)."""
    return [(page, name, _shared(fn)) for page, name, fn in _page_calls(warehouse)]


def _shared(fn: Callable[[], object]) -> Callable[[], object]:
    from lmp_analytics.warehouse.shared import sharing

    def call() -> object:
        with sharing():
            return fn()

    return call


def _page_calls(warehouse: Path) -> list[Task]:
    from lmp_analytics import api
    from lmp_analytics.readmodels import attention as attention_list
    from lmp_analytics.readmodels import catalogue, comparison, landing, quality

    wh = str(warehouse)
    terms, kommune, school = _terms(warehouse)
    one = None if school is None else [school]
    autumns = [t for t in terms if t.endswith("H")] or terms
    pre, post = (autumns[-2], autumns[-1]) if len(autumns) > 1 else (terms[0], terms[-1])
    return [
        ("Oversikt", "catalogue.schools", lambda: catalogue.schools(role=ROLE, warehouse=wh)),
        ("Oversikt", "catalogue.kommuner", lambda: catalogue.kommuner(role=ROLE, warehouse=wh)),
        ("Oversikt", "api.indicators(skole)",
         lambda: api.indicators("skole", indicator=INDICATOR, role=ROLE, warehouse=wh)),
        ("Oversikt", "catalogue.rounds", lambda: catalogue.rounds(role=ROLE, warehouse=wh)),
        ("Oversikt", "comparison.comparison_series",
         lambda: comparison.comparison_series(indicator=INDICATOR, role=ROLE, warehouse=wh)),
        ("Oversikt", "comparison.national_series",
         lambda: comparison.national_series(role=ROLE, warehouse=wh)),
        ("Oversikt", "attention_list.attention",
         lambda: attention_list.attention(indicator=INDICATOR, role=ROLE, warehouse=wh)),
        ("Oversikt", "landing.phase_summary",
         lambda: landing.phase_summary(indicator=INDICATOR, role=ROLE, warehouse=wh)),
        ("Oversikt", "landing.alerts",
         lambda: landing.alerts(indicator=INDICATOR, role=ROLE, warehouse=wh)),
        ("Oversikt", "attention_list.attention(kommune)",
         lambda: attention_list.attention(indicator=INDICATOR, role=f"kommune:{kommune}",
                                          warehouse=wh)),
        ("Skole", "api.indicators(skole, all, one school)",
         lambda: api.indicators("skole", indicator=None, role=ROLE, warehouse=wh, schools=one)),
        ("Skole", "api.indicators(skole, trinn, one school)",
         lambda: api.indicators("skole", indicator=None, by="trinn", role=ROLE, warehouse=wh,
                                schools=one)),
        ("Skole", "api.indicators(skole, kjonn, one school)",
         lambda: api.indicators("skole", indicator=None, by="kjonn", role=ROLE, warehouse=wh,
                                schools=one)),
        ("Skole", "api.compare(runde)",
         lambda: api.compare(indicator=INDICATOR, phase="runde", role=ROLE, warehouse=wh)),
        ("Skole", "catalogue.phase_calendar",
         lambda: catalogue.phase_calendar(role=ROLE, warehouse=wh)),
        ("Faser", "api.compare(phase 1)",
         lambda: api.compare(indicator=INDICATOR, phase=1, role=ROLE, warehouse=wh)),
        ("Sammenligning", "comparison.did_summary",
         lambda: comparison.did_summary(indicator=INDICATOR, pre_term=pre, post_term=post,
                                        role=ROLE,
                               kommunenummer=kommune, warehouse=wh)),
        ("Sammenligning", "comparison.event_study",
         lambda: comparison.event_study(indicator=INDICATOR, role=ROLE, warehouse=wh)),
        ("Sammenligning", "comparison.eu_benchmark",
         lambda: comparison.eu_benchmark(pre, post, role=ROLE, warehouse=wh)),
        ("Datakvalitet", "quality.response_rates",
         lambda: quality.response_rates(role=ROLE, warehouse=wh)),
        ("Datakvalitet", "quality.quarantine_summary",
         lambda: quality.quarantine_summary(role=ROLE, warehouse=wh)),
        ("Datakvalitet", "quality.item_nonresponse",
         lambda: quality.item_nonresponse(role=ROLE, warehouse=wh)),
        ("Datakvalitet", "quality.instrument_overview",
         lambda: quality.instrument_overview(role=ROLE, warehouse=wh)),
        ("(API)", "api.published_cells(program)", lambda: _published(wh, "program")),
    ]


def _published(warehouse: str, level: str):
    from lmp_analytics import api
    from lmp_analytics.warehouse import reading

    with reading(warehouse) as con:
        return api.published_cells(con, level=level, indicators=[INDICATOR])


def statistics_tasks(warehouse: Path) -> list[tuple[str, Callable[[], object]]]:
    """The phase comparison for every participant and the staggered DiD. (The round-to-round
    comparison of every school is the Skole page's ``api.compare(runde)``: run.py reports that
    measurement here too instead of repeating a call that takes minutes at national scale.)"""
    from lmp_analytics import api
    from lmp_analytics.evaluation.programme import programme_effect
    from lmp_analytics.warehouse import reading

    wh = str(warehouse)

    def did() -> object:
        with reading(wh) as con:
            return programme_effect(con, INDICATOR)

    return [
        ("phase comparison, every participant and phase (api.compare)",
         lambda: api.compare(indicator=INDICATOR, phase=None, role=ROLE, warehouse=wh)),
        ("staggered DiD, Callaway-Sant'Anna (programme_effect)", did),
    ]
