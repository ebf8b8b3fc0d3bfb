"""The school report's trend chart: one interval per point of the school (no vertical grid line
beside it), and the comparison schools and the national figure (Elevundersøkelsen, the grades
the school has) as labelled lines whose numbers are the API's."""

from __future__ import annotations

import re
import shutil

import polars as pl
import pytest

from lmp_analytics import api
from lmp_analytics.jobs import ingest_national
from lmp_analytics.readmodels.comparison import national_series
from lmp_analytics.reports import school_report
from lmp_analytics.reports.charts import headline_series, headline_spec, to_svg
from lmp_analytics.reports.data import national_grades

SCHOOL = "988202045"   # the golden school of test_report_output
TERM = "2026V"


@pytest.fixture(scope="module")
def world(report_world_with_comparison, tmp_path_factory):
    """The report world whose comparison schools ran Spekter, with Elevundersøkelsen loaded (a
    private copy: loading writes)."""
    source = report_world_with_comparison
    path = tmp_path_factory.mktemp("trend_chart") / "warehouse.duckdb"
    shutil.copyfile(source, path)
    ingest_national([source.parent / "world" / "elevundersokelsen.csv"], warehouse=path)
    return path


def test_trend_chart_has_one_interval_per_point_and_labelled_context_lines(world):
    report_world = world
    report = school_report(SCHOOL, term=TERM, lang="nb", warehouse=report_world)
    lines = {label: pts for _, label, pts in headline_series(report)}
    school_points = next(pts for key, _, pts in headline_series(report) if key == "school")

    # The comparison schools: the API's programme cells of the comparison schools.
    programme = api.indicators("program", indicator="mobbet", warehouse=report_world)
    comp = programme.filter((pl.col("rolle") == "sammenligning") & ~pl.col("suppressed")
                            & pl.col("term").is_in(list(report.terms)))
    shown = {p["term"]: p["value"] for p in lines["Sammenligningsskoler (alle)"]}
    assert shown and shown == {r["term"]: round(r["share"], 6) for r in comp.iter_rows(named=True)}

    # The national figure for the grades the school has, labelled with the grade.
    grades = national_grades(report.grades)
    nat = national_series(warehouse=report_world, levels=("nasjon",), surface="report").filter(
        (pl.col("value_type") == "pct") & pl.col("term").is_in(list(report.terms)))
    assert grades == (("10",) if set(report.grades) <= {"8", "9", "10"} else grades)
    for grade in grades:
        label = f"Landet, {grade}. trinn (Elevundersøkelsen)"
        want = {r["term"]: round(r["value"] / 100, 6) for r in nat.filter(
            pl.col("trinn") == int(grade)).iter_rows(named=True)}
        assert {p["term"]: p["value"] for p in lines[label]} == want and want

    spec = headline_spec(report)
    assert spec["config"]["axisX"]["grid"] is False
    svg = to_svg(spec, "nb")
    # The legend says in words what each line is.
    for label in lines:
        assert label.replace("&", "&amp;") in svg, label
    # One interval (a rule) per point of the school, and no vertical grid line behind it.
    rules = re.search(r'<g class="mark-rule role-mark[^"]*"[^>]*>(.*?)</g>', svg, re.S)
    assert rules and rules.group(1).count("<line") == len(school_points)
    grid = "".join(re.findall(r'<g class="mark-rule role-axis-grid"[^>]*>(.*?)</g>', svg, re.S))
    lines_drawn = re.findall(r"<line [^>]*>", grid)
    assert lines_drawn and all('y2="0"' in g for g in lines_drawn), \
        "a vertical grid line per term draws a second whisker"
    # Terms in words on the axis, not codes.
    assert "våren 2026" in svg and not re.search(r">20\d\d[HV]<", svg)
