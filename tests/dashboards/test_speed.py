"""Fast: once a published warehouse has been seen (the warm-up runs in the background right
after the first page view of a new publish), every query a page makes answers from memory.

Checked without a clock (speed is measured in benchmarks/, not in timed tests): after the
warm-up and one visit per role, the pages' data calls must not reach the package's warehouse
functions at all; only the in-memory role filter ``api.scope`` may run.
"""

from __future__ import annotations

import types

import pytest
from lmpdash import data

from lmp_analytics import api
from lmp_analytics.privacy.roles import parse_role

IN_MEMORY = {"scope", "as_role"}  # pure functions on frames already in memory
READ_MODELS = ("catalogue", "comparison", "quality", "attention_list")  # data.py's modules


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


class _NoWarehouse(types.ModuleType):
    """A stand-in for ``api`` / a read model whose functions fail: a call means a query."""

    def __init__(self, module: types.ModuleType, calls: list[str]):
        super().__init__(module.__name__)
        self._module, self._calls = module, calls

    def __getattr__(self, name: str):
        value = getattr(self._module, name)
        if name in IN_MEMORY or isinstance(value, type) or not callable(value):
            return value

        def called(*args, **kwargs):
            self._calls.append(f"{self._module.__name__}.{name}")
            raise AssertionError(f"{self._module.__name__}.{name} ran: not answered from memory")

        return called


def test_every_page_query_answers_from_memory_once_warm(world, roster, monkeypatch):
    src = data.source(world.warehouse)
    data.warm(src, background=False)
    terms = data.terms(src)
    roles = [parse_role(r) for r in roster["roles"]]
    for role in roles:  # role-specific lookups (cheap) are filled on the first visit
        for fn in (f for fns in _page_calls(src, role, terms).values() for f in fns):
            fn()
    calls: list[str] = []
    monkeypatch.setattr(data, "api", _NoWarehouse(api, calls))
    for name in READ_MODELS:
        monkeypatch.setattr(data, name, _NoWarehouse(getattr(data, name), calls))
    answered = 0
    for role in roles:
        for page, fns in _page_calls(src, role, terms).items():
            for i, fn in enumerate(fns):
                assert fn() is not None, (str(role), page, i)
                answered += 1
    assert calls == []
    assert answered == len(roles) * 19  # every call of every page, for every role


def test_a_cold_call_is_caught(world, monkeypatch):
    """The check above can fail: a call the memo has not seen reaches the (blocked) package."""
    src = data.source(world.warehouse)
    calls: list[str] = []
    monkeypatch.setattr(data, "_memo", data._Memo())  # nothing seen yet
    monkeypatch.setattr(data, "quality", _NoWarehouse(data.quality, calls))
    with pytest.raises(AssertionError, match="not answered from memory"):
        data.item_nonresponse(src, parse_role("program"))
    assert calls == ["lmp_analytics.readmodels.quality.item_nonresponse"]


def test_the_landing_page_is_warm_before_the_warm_up_first_pauses(world, monkeypatch):
    """The warm-up computes what the landing page (Oversikt, programme role) asks before its
    first pause (the server pauses the other pages' steps while a page runs,
    ``serve._while_pages_run``): at that pause every Oversikt call answers from memory."""
    src = data.source(world.warehouse)
    monkeypatch.setattr(data, "_memo", data._Memo())
    monkeypatch.setattr(data, "_warmed", set())
    role = parse_role("program")
    seen: list[list[str]] = []

    def pause() -> None:
        if seen:
            return
        calls: list[str] = []
        with monkeypatch.context() as m:
            m.setattr(data, "api", _NoWarehouse(api, calls))
            for name in READ_MODELS:
                m.setattr(data, name, _NoWarehouse(getattr(data, name), calls))
            try:
                for fn in [*_page_calls(src, role, data.terms(src))["oversikt"],
                           lambda: data.phase_summary(src, role, "mobbet"),
                           lambda: data.alerts(src, role, "mobbet"),
                           lambda: data.threshold(src)]:
                    fn()
            except AssertionError:
                pass   # the call is in ``calls``
        seen.append(calls)

    data.warm(src, background=False, pause=pause)
    assert seen == [[]]
