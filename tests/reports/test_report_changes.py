"""The changes a report shows are computed for the report's school(s) only, and do not depend on
the family they are computed in (the report shows no BH-adjusted p-value)."""

from __future__ import annotations

import polars as pl

from lmp_analytics import api
from lmp_analytics.reports import ReportSource, school_report
from lmp_analytics.reports.data import Change

GOLDEN_SCHOOL = "988202045"


def _shown(changes: dict[str, Change]) -> dict[str, Change]:
    return {k: v for k, v in changes.items() if v.shown}


def test_compare_is_called_for_the_reports_schools_only(report_world, monkeypatch):
    calls: list[tuple | None] = []
    real = api.compare

    def spy(**kwargs):
        calls.append(None if kwargs.get("schools") is None else tuple(kwargs["schools"]))
        return real(**kwargs)

    monkeypatch.setattr(api, "compare", spy)
    school_report(GOLDEN_SCHOOL, warehouse=report_world)
    assert calls and set(calls) == {(GOLDEN_SCHOOL,)}

    calls.clear()
    batch = ReportSource(warehouse=report_world)
    # participants: the world's comparison schools have no Spekter rounds, so no report
    others = batch.schools_in_scope().filter(pl.col("rolle") == "deltaker")["skole_orgnr"]
    others = others.to_list()[:3]
    batch.schools = tuple(dict.fromkeys([GOLDEN_SCHOOL, *others]))
    for orgnr in batch.schools:
        school_report(orgnr, source=batch)
    # one family (the batch) for every call; each indicator fetched once for the whole batch
    assert set(calls) == {batch.schools}
    fetched = {indicator for indicator, _ in batch._changes}
    assert fetched and len(calls) == 2 * len(fetched)  # phases + rounds, once per batch


def test_report_changes_do_not_depend_on_the_family(report_world):
    alone = school_report(GOLDEN_SCHOOL, warehouse=report_world)
    everyone = ReportSource(warehouse=report_world)
    everyone.schools = tuple(everyone.schools_in_scope()["skole_orgnr"].to_list())
    in_batch = school_report(GOLDEN_SCHOOL, source=everyone)
    for attr in ("latest_change", "phase_changes", "programme_changes"):
        assert getattr(alone, attr) == getattr(in_batch, attr), attr
    assert _shown(alone.phase_changes) or _shown(alone.latest_change)
    # and they are the API's numbers for that school
    full = api.compare(indicator="mobbet", phase=None, warehouse=report_world).filter(
        pl.col("skole_orgnr") == GOLDEN_SCHOOL)
    for ch in alone.phase_changes.values():
        if ch.indicator != "mobbet" or not ch.shown:
            continue
        row = full.filter(pl.col("phase") == ch.phase).row(0, named=True)
        assert (ch.diff, ch.ci_low, ch.ci_high, ch.p_value) == (
            row["diff_pp"], row["diff_ci_low"], row["diff_ci_high"], row["p_value"])
