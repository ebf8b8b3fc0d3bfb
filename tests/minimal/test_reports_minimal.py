"""The school report (HTML, the same code path as the PDF) on every minimal warehouse: it renders
for each school, and a response rate that cannot be computed is explained, never shown as 0."""

from __future__ import annotations

import re

import duckdb
import pytest
import warehouses as wh

from lmp_analytics.reports import ReportError, render_school_report, write_school_reports

NO_ENROLMENT = "Elevtall mangler for denne skolen, så svarprosent kan ikke beregnes."


def _schools(warehouse) -> list[str]:
    """The first participating and the first comparison school (a report takes seconds)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [r[0] for r in con.execute(
            "SELECT min(skole_orgnr) FROM dim_school GROUP BY rolle ORDER BY rolle").fetchall()]


@pytest.mark.parametrize("name", [v for v in wh.VARIANTS if v != "no_comparison_spekter"])
def test_report_renders_for_each_kind_of_school(minimal, name):
    m = minimal(name)
    for orgnr in _schools(m.warehouse):
        page = render_school_report(orgnr, fmt="html", warehouse=m.warehouse).decode("utf-8")
        assert 'id="data-quality"' in page, (name, orgnr)
        assert (NO_ENROLMENT in page) == (name == "no_enrolment"), (name, orgnr)


def test_report_without_enrolment_shows_no_rate(minimal):
    m = minimal("no_enrolment")
    orgnr = _schools(m.warehouse)[0]
    for lang, message in (("nb", NO_ENROLMENT), ("en", "Enrolment is missing for this school")):
        page = render_school_report(orgnr, fmt="html", lang=lang,
                                    warehouse=m.warehouse).decode("utf-8")
        assert message in page
        table = page[page.index('<table class="rounds">'):]
        table = table[:table.index("</table>")]
        for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
            cells = [re.sub(r"<[^>]+>", "", c).strip()
                     for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
            assert cells[-2:] == ["", ""], cells  # enrolled and rate: empty, never 0
            assert cells[-3] not in ("", "0"), cells  # respondents are known


def test_comparison_schools_without_spekter_get_no_report_and_say_why(minimal, tmp_path):
    """Comparison schools on the roster but without Spekter rounds (the usual case): a report
    of one says why there is none; a kommune's batch reports its LMP schools and names the
    comparison schools it leaves out."""
    m = minimal("no_comparison_spekter")
    participant, comparison = _schools(m.warehouse)
    page = render_school_report(participant, fmt="html", warehouse=m.warehouse).decode("utf-8")
    assert 'id="data-quality"' in page
    with pytest.raises(ReportError, match="comparison school with no Spekter rounds"):
        render_school_report(comparison, fmt="html", warehouse=m.warehouse)
    with duckdb.connect(str(m.warehouse), read_only=True) as con:
        kommune = con.execute("SELECT kommunenummer FROM dim_school WHERE skole_orgnr = ?",
                              [comparison]).fetchone()[0]
        roster = dict(con.execute("SELECT skole_orgnr, rolle FROM dim_school WHERE "
                                  "kommunenummer = ?", [kommune]).fetchall())
    run = write_school_reports(tmp_path / "batch", kommune=kommune, fmt="html",
                               warehouse=m.warehouse)
    assert set(run.schools) == {o for o, r in roster.items() if r == "deltaker"}
    assert comparison in run.without_rounds
    assert set(run.without_rounds) == {o for o, r in roster.items() if r == "sammenligning"}
    assert len(run.paths) == len(run.schools) and all(p.exists() for p in run.paths)
