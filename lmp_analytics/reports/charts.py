"""Report charts: Altair specifications rendered offline to SVG by vl-convert.

Only visible (suppressed, scoped) cells reach a chart. The font is fixed (DejaVu Sans, which
Debian's ``fonts-dejavu-core`` ships), number formats follow the report language, and the SVG
carries no timestamp, so the same data gives the same bytes.
"""

from __future__ import annotations

import base64
import json

import altair as alt
import polars as pl
import vl_convert as vlc

from lmp_analytics.presentation.fmt import Lang, vega_locale
from lmp_analytics.presentation.strings import text
from lmp_analytics.reports.data import Cell, SchoolReport

FONT = "DejaVu Sans"
WIDTH = 560
HEIGHT = 150
SCHOOL_COLOUR = "#1f5fa8"
REFERENCE_COLOUR = "#8c8c8c"
PHASE_COLOUR = "#f2c14e"
SCALE_COLOURS = ("#1f5fa8", "#d1495b", "#2e8b57", "#7a4fa3")


_SCHEMA = {"term": pl.String, "series": pl.String, "segment": pl.String, "value": pl.Float64,
           "low": pl.Float64, "high": pl.Float64}


def _phase_bands(report: SchoolReport) -> pl.DataFrame:
    rows = [{"term": p.termin, "label": f"F{p.fase}"} for p in report.phases
            if p.termin in report.terms]
    return pl.DataFrame(rows, schema={"term": pl.String, "label": pl.String})


def _round(x: float | None) -> float | None:
    """Six decimals: far below what a chart can show, and it drops the last-bit noise of
    floating-point sums, so a re-ingested world draws the same bytes."""
    return None if x is None else round(float(x), 6)


def _points(cells: tuple[Cell, ...], series: str, terms: tuple[str, ...]) -> list[dict]:
    """Visible cells in term order; ``segment`` changes at every term without a visible number,
    so lines break there instead of drawing across a hidden or missing value."""
    by_term = {c.term: c for c in cells if c.shown}
    out, segment = [], 0
    for term in terms:
        c = by_term.get(term)
        if c is None:
            segment += 1
            continue
        out.append({"term": term, "series": series, "segment": f"{series}:{segment}",
                    "value": _round(c.value), "low": _round(c.ci_low), "high": _round(c.ci_high)})
    return out


def _base(report: SchoolReport, layers: list[alt.Chart], title: str) -> dict:
    chart = alt.layer(*layers).properties(width=WIDTH, height=HEIGHT, title=title)
    chart = chart.configure(font=FONT).configure_view(stroke="#cccccc").configure_axis(
        labelFontSize=10, titleFontSize=10, grid=True, gridColor="#eeeeee",
    ).configure_legend(orient="bottom", labelFontSize=10, title=None, symbolSize=60,
                       labelLimit=320).configure_title(fontSize=12, anchor="start")
    return chart.to_dict()


def _phase_layers(report: SchoolReport, x: alt.X) -> list[alt.Chart]:
    bands = _phase_bands(report)
    if bands.height == 0:
        return []
    rect = alt.Chart(bands).mark_rect(color=PHASE_COLOUR, opacity=0.25).encode(x=x)
    labels = alt.Chart(bands).mark_text(baseline="top", dy=3, fontSize=9, color="#7a5a00").encode(
        x=x, y=alt.value(0), text="label:N")
    return [rect, labels]


def headline_spec(report: SchoolReport) -> dict | None:
    """The headline share over time: school (with 95 % intervals) and all LMP schools; phases
    shaded. None when no school number is visible."""
    ind = report.headline
    lang = report.lang
    school = _points(report.series.get(ind.id, ()), report.skole, report.terms)
    if not school:
        return None
    ref = _points(report.reference.get(ind.id, ()), text("report.reference", lang), report.terms)
    data = pl.DataFrame(school + ref, schema=_SCHEMA, orient="row")
    terms = list(report.terms)
    x = alt.X("term:O", sort=terms, scale=alt.Scale(domain=terms),
              axis=alt.Axis(title=None, labelAngle=0))
    top = max([v for v in data["high"].to_list() + data["value"].to_list() if v is not None])
    y = alt.Y("value:Q", axis=alt.Axis(title=None, format=".0%", tickCount=5),
              scale=alt.Scale(domain=[0, max(0.1, min(1.0, top * 1.15))]))
    colour = alt.Color("series:N", scale=alt.Scale(
        domain=[report.skole, text("report.reference", lang)],
        range=[SCHOOL_COLOUR, REFERENCE_COLOUR]))
    base = alt.Chart(data)
    mine = base.transform_filter(alt.datum.series == report.skole)
    others = base.transform_filter(alt.datum.series != report.skole)
    layers = [
        *_phase_layers(report, x),
        others.mark_line(strokeWidth=1.5, strokeDash=[4, 3]).encode(
            x=x, y=y, color=colour, detail="segment:N"),
        others.mark_point(filled=True, size=20).encode(x=x, y=y, color=colour),
        mine.mark_rule(color=SCHOOL_COLOUR, strokeWidth=2).encode(x=x, y="low:Q", y2="high:Q"),
        mine.mark_line(strokeWidth=2).encode(x=x, y=y, color=colour, detail="segment:N"),
        mine.mark_point(filled=True, size=40).encode(x=x, y=y, color=colour),
    ]
    return _base(report, layers, ind.label(lang))


def scales_spec(report: SchoolReport) -> dict | None:
    """The four scale means over time (1-5), phases shaded. None when nothing is visible."""
    lang = report.lang
    scales = [i for i in report.indicators if i.kind == "scale"]
    rows = []
    for ind in scales:
        rows += _points(report.series.get(ind.id, ()), ind.label(lang), report.terms)
    if not rows:
        return None
    data = pl.DataFrame(rows, schema=_SCHEMA, orient="row")
    terms = list(report.terms)
    x = alt.X("term:O", sort=terms, scale=alt.Scale(domain=terms),
              axis=alt.Axis(title=None, labelAngle=0))
    y = alt.Y("value:Q", axis=alt.Axis(title=None, format=".1f", tickCount=5),
              scale=alt.Scale(domain=[1, 5]))
    labels = [i.label(lang) for i in scales]
    colour = alt.Color("series:N", scale=alt.Scale(domain=labels,
                                                   range=list(SCALE_COLOURS[:len(labels)])))
    base = alt.Chart(data)
    layers = [
        *_phase_layers(report, x),
        base.mark_line(strokeWidth=2).encode(x=x, y=y, color=colour, detail="segment:N"),
        base.mark_point(filled=True, size=30).encode(x=x, y=y, color=colour),
    ]
    return _base(report, layers, text("report.chart_scales", lang))


def to_svg(spec: dict, lang: Lang) -> str:
    """Render a Vega-Lite spec to SVG offline (no network, no timestamp)."""
    return vlc.vegalite_to_svg(spec, format_locale=vega_locale(lang)["number"],
                               allowed_base_urls=[])


def svg_data_uri(svg: str) -> str:
    """An ``<img>`` source for the SVG: each chart stays its own document, so the element ids
    that vl-convert writes never clash between charts of one page."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def chart_images(report: SchoolReport) -> dict[str, str | None]:
    """name -> data URI of the rendered chart (None when there is nothing to show)."""
    out: dict[str, str | None] = {}
    for name, spec in (("headline", headline_spec(report)), ("scales", scales_spec(report))):
        out[name] = None if spec is None else svg_data_uri(to_svg(spec, report.lang))
    return out


def spec_json(spec: dict) -> str:
    """A stable text form of a spec (for tests and debugging)."""
    return json.dumps(spec, sort_keys=True, ensure_ascii=False)


__all__ = ["chart_images", "headline_spec", "scales_spec", "spec_json", "svg_data_uri", "to_svg"]
