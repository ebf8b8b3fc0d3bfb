"""The school report in nynorsk: every text comes from nn.toml, and no string key leaks."""

from __future__ import annotations

import re

from lmp_analytics.presentation import strings
from lmp_analytics.reports import school_report
from lmp_analytics.reports.render import render_html
from tests.nynorsk_words import offending

NO_CHARTS = {"headline": None, "scales": None}
SCHOOL = "988202045"  # Solberg barneskole, pulje 1, in the report_world of conftest


def _visible(html: str) -> str:
    html = re.sub(r"<style.*?</style>|<svg.*?</svg>|<img[^>]*>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_school_report_in_nynorsk_shows_nynorsk_and_no_key_names(report_world):
    report = school_report(SCHOOL, term="2026V", lang="nn", warehouse=report_world)
    html = render_html(report)
    text = _visible(html)
    assert '<html lang="nn">' in html
    nn, nb = strings.strings("nn"), strings.strings("nb")
    for key in ("report.title", "report.key_figures", "report.reading", "report.data_quality"):
        assert nn[key] in text, key
    assert nb["report.title"] not in text  # 'Skolerapport'
    assert "Klasseleiing" in text and "Klasseledelse" not in text
    leaked = sorted(k for k in nn if re.search(rf"(?<![\w.]){re.escape(k)}(?![\w.])", text))
    assert not leaked, f"key names in the report: {leaked}"
    section_keys = {k.split(".", 1)[1] for k in nn if "." in k and len(k.split(".", 1)[1]) > 6
                    and "_" in k.split(".", 1)[1]}
    bare = sorted(k for k in section_keys if re.search(rf"\b{re.escape(k)}\b", text))
    assert not bare, f"bare key names in the report: {bare}"



def test_every_sentence_of_the_school_report_in_nynorsk_is_nynorsk(report_world_with_comparison):
    """Kort fortalt, the questions, the notes under the tables and the reading guide come from
    nn.toml: no bokmål-only or English word (tests.nynorsk_words) outside the school's and the
    municipality's names, for two participating schools and a comparison school, asked for a
    term without a round (the meta line then says which round was used)."""
    from lmp_analytics.readmodels import catalogue

    report_world = report_world_with_comparison  # a comparison school with rounds

    schools = catalogue.schools(role="program", warehouse=report_world)
    others = [o for o in schools.filter(schools["rolle"] == "deltaker")["skole_orgnr"]
              if o != SCHOOL]
    picked = [SCHOOL, others[0],
              schools.filter(schools["rolle"] == "sammenligning")["skole_orgnr"][0]]
    for orgnr in picked:
        report = school_report(orgnr, term="2026H", lang="nn", warehouse=report_world)
        text = _visible(render_html(report, charts=NO_CHARTS))  # charts: the golden tests
        hits = offending(text, (report.skole, report.kommune))
        assert not hits, (orgnr, sorted(hits))
        if orgnr == SCHOOL:
            nn = strings.strings("nn")
            assert "Kort fortalt" in text and "Spørsmål til samtalen" in text
            assert nn["report.read_limits"] in text and nn["caveat.rtm"] in text
            assert "(siste runde før eller i hausten 2026)" in text
