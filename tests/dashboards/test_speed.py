"""Fast: once a published warehouse has been seen (the warm-up runs in the background right
after the first page view of a new publish), every query a page makes answers from memory."""

from __future__ import annotations

import time

from lmpdash import data

from lmp_analytics.privacy.roles import parse_role

BUDGET = 0.2  # seconds, per data call of a page


def _page_calls(src, role, terms):
    pre, post = terms[0], terms[-1]
    school = data.schools(src, role)["skole_orgnr"][0]   # the Skole page's first pick
    return {
        "oversikt": [lambda: data.schools(src, role), lambda: data.kommuner(src, role),
                     lambda: data.indicators(src, role, "skole", indicator="mobbet"),
                     lambda: data.rounds(src, role),
                     lambda: data.comparison_series(src, role, "mobbet"),
                     lambda: data.national(src, role),
                     lambda: data.attention(src, role, "mobbet")],
        "skole": [lambda: data.indicators(src, role, "skole", school=school),
                  lambda: data.compare(src, role, indicator="mobbet", phase="runde"),
                  lambda: data.phase_calendar(src, role),
                  lambda: data.indicators(src, role, "skole", indicator="mobbet", by="trinn",
                                          school=school),
                  lambda: data.indicators(src, role, "skole", indicator="mobbet", by="kjonn",
                                          school=school)],
        "faser": [lambda: data.compare(src, role, indicator="mobbet", phase="1")],
        "sammenligning": [lambda: data.did(src, role, "mobbet", pre, post, None),
                          lambda: data.event_study(src, "mobbet")],
        "datakvalitet": [lambda: data.response_rates(src, role),
                         lambda: data.quarantine(src, role),
                         lambda: data.item_nonresponse(src, role),
                         lambda: data.instruments(src, role)],
    }


def test_every_page_query_answers_well_under_200_ms_once_warm(world, roster):
    src = data.source(world.warehouse)
    data.warm(src, background=False)
    terms = data.terms(src)
    for role_text in roster["roles"]:
        role = parse_role(role_text)
        calls = _page_calls(src, role, terms)
        for fn in (f for fns in calls.values() for f in fns):
            fn()  # role-specific lookups (cheap) are filled on the first call
        for page, fns in calls.items():
            for i, fn in enumerate(fns):
                took = min(_timed(fn) for _ in range(3))   # robust to a busy shared machine
                assert took < BUDGET, (role_text, page, i, took)


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started
