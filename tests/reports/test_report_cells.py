"""A report reads the published cells of its own school(s) only (one query per batch), and the
report is the same whether its school is made alone, in a batch, or with every school read."""

from __future__ import annotations

import polars as pl

from lmp_analytics import api
from lmp_analytics.reports import ReportSource, school_report

GOLDEN_SCHOOL = "988202045"


def _spy(monkeypatch) -> list[tuple[str | None, tuple[str, ...] | None]]:
    calls: list[tuple[str | None, tuple[str, ...] | None]] = []
    real = api.indicators

    def spy(level="skole", **kwargs):
        if level == "skole":
            schools = kwargs.get("schools")
            calls.append((kwargs.get("by"), None if schools is None else tuple(schools)))
        return real(level, **kwargs)

    monkeypatch.setattr(api, "indicators", spy)
    return calls


def test_report_reads_its_schools_cells_only(report_world, monkeypatch):
    calls = _spy(monkeypatch)
    school_report(GOLDEN_SCHOOL, warehouse=report_world)
    assert len(calls) == 2 and set(calls) == {(None, (GOLDEN_SCHOOL,)), ("trinn", (GOLDEN_SCHOOL,))}

    calls.clear()
    batch = ReportSource(warehouse=report_world)
    # participants: the world's comparison schools have no Spekter rounds, so no report
    others = batch.schools_in_scope().filter(pl.col("rolle") == "deltaker")["skole_orgnr"]
    others = others.to_list()[:3]
    batch.schools = tuple(dict.fromkeys([GOLDEN_SCHOOL, *others]))
    for orgnr in batch.schools:
        school_report(orgnr, source=batch)
    assert len(calls) == 2 and set(calls) == {(None, batch.schools), ("trinn", batch.schools)}


def test_report_is_the_same_alone_in_a_batch_and_from_every_cell(report_world, monkeypatch):
    alone = school_report(GOLDEN_SCHOOL, warehouse=report_world)
    batch = ReportSource(warehouse=report_world)
    batch.schools = tuple(batch.schools_in_scope()["skole_orgnr"].to_list())
    assert school_report(GOLDEN_SCHOOL, source=batch) == alone
    # the same report when every school's cells are read (schools= ignored)
    real = api.indicators

    def everything(level="skole", **kwargs):
        kwargs.pop("schools", None)
        return real(level, **kwargs)

    monkeypatch.setattr(api, "indicators", everything)
    every = school_report(GOLDEN_SCHOOL, warehouse=report_world)
    assert every == alone
    assert alone.series and any(c is not None for c in alone.grade_cells.values())
