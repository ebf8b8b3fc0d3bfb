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
COMPARISON_COLOUR = "#e69f00"
NATIONAL_COLOURS = {"7": "#000000", "10": "#5a5a5a"}
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


def _points(cells: tuple[Cell, ...], series: str, terms: tuple[str, ...],
            *, yearly: bool = False) -> list[dict]:
    """Visible cells in term order; ``segment`` changes at every term without a visible number,
    so lines break there instead of drawing across a hidden or missing value (``yearly``: a
    once-a-year survey, whose line runs on over the terms it is never held in)."""
    by_term = {c.term: c for c in cells if c.shown}
    out, segment = [], 0
    for term in terms:
        c = by_term.get(term)
        if c is None:
            segment += 0 if yearly else 1
            continue
        out.append({"term": term, "series": series, "segment": f"{series}:{segment}",
                    "value": _round(c.value), "low": _round(c.ci_low), "high": _round(c.ci_high)})
    return out


def _base(report: SchoolReport, layers: list[alt.Chart], title: str) -> dict:
    chart = alt.layer(*layers).properties(width=WIDTH, height=HEIGHT, title=title)
    # Horizontal grid lines only: a vertical one at every term ran through each interval and
    # read as a second whisker.
    chart = chart.configure(font=FONT).configure_view(stroke="#cccccc").configure_axis(
        labelFontSize=10, titleFontSize=10, grid=True, gridColor="#eeeeee",
    ).configure_axisX(grid=False).configure_legend(
        orient="bottom", labelFontSize=10, title=None, symbolType="stroke", symbolSize=300,
        symbolStrokeWidth=2.5, labelLimit=360, columns=2,
    ).configure_title(fontSize=12, anchor="start")
    return chart.to_dict()


def _phase_layers(report: SchoolReport, x: alt.X) -> list[alt.Chart]:
    bands = _phase_bands(report)
    if bands.height == 0:
        return []
    rect = alt.Chart(bands).mark_rect(color=PHASE_COLOUR, opacity=0.25).encode(x=x)
    labels = alt.Chart(bands).mark_text(baseline="top", dy=3, fontSize=9, color="#7a5a00").encode(
        x=x, y=alt.value(0), text="label:N")
    return [rect, labels]


def _term_axis(terms: list[str], lang: Lang) -> alt.X:
    """The ordinal term axis, labelled in words ("høsten 2024"), not term codes."""
    from lmp_analytics.presentation.fmt import term as term_words

    names = ", ".join(f"'{t}': '{term_words(t, lang)}'" for t in terms)
    return alt.X("term:O", sort=terms, scale=alt.Scale(domain=terms),
                 axis=alt.Axis(title=None, labelAngle=0, labelExpr=f"{{{names}}}[datum.value]"))


def headline_series(report: SchoolReport) -> list[tuple[str, str, list[dict]]]:
    """The headline chart's lines: (key, legend label, points): the school, all LMP schools,
    the comparison schools and the national figure per grade (Elevundersøkelsen)."""
    ind = report.headline
    lang = report.lang
    out = [("school", f"{report.skole} ({text('report.legend_interval', lang)})",
            _points(report.series.get(ind.id, ()), report.skole, report.terms))]
    out.append(("reference", text("report.reference", lang),
                _points(report.reference.get(ind.id, ()), text("report.reference", lang),
                        report.terms)))
    label = text("report.comparison_line", lang)
    out.append(("comparison", label, _points(report.comparison.get(ind.id, ()), label,
                                              report.terms)))
    for grade in sorted({c.breakdown_value for c in report.national}, key=int):
        label = text("report.national_line", lang).format(grade=grade)
        cells = tuple(c for c in report.national if c.breakdown_value == grade)
        out.append((f"national_{grade}", label, _points(cells, label, report.terms,
                                                         yearly=True)))
    return [(k, label, pts) for k, label, pts in out if pts]


def headline_spec(report: SchoolReport) -> dict | None:
    """The headline share over time: the school with one 95 % interval per point, all LMP
    schools, the comparison schools and the national figure of Elevundersøkelsen (the grade or
    grades the school has), each a labelled line; phases shaded. None when no school number is
    visible."""
    ind = report.headline
    lang = report.lang
    lines = headline_series(report)
    if not lines or lines[0][0] != "school":
        return None
    colours = {"school": SCHOOL_COLOUR, "reference": REFERENCE_COLOUR,
               "comparison": COMPARISON_COLOUR,
               **{f"national_{g}": c for g, c in NATIONAL_COLOURS.items()}}
    dashes = {"school": [1, 0], "reference": [4, 3], "comparison": [6, 2],
              **{f"national_{g}": [1, 2] for g in NATIONAL_COLOURS}}
    school_label = lines[0][1]
    rows = []
    for key, label, pts in lines:
        rows += [{**p, "series": label} for p in pts]
        del key
    data = pl.DataFrame(rows, schema=_SCHEMA, orient="row")
    terms = list(report.terms)
    x = _term_axis(terms, lang)
    top = max([v for v in data["high"].to_list() + data["value"].to_list() if v is not None])
    y = alt.Y("value:Q", axis=alt.Axis(title=None, format=".0%", tickCount=5),
              scale=alt.Scale(domain=[0, max(0.1, min(1.0, top * 1.15))]))
    labels = [label for _, label, _ in lines]
    colour = alt.Color("series:N", sort=labels, scale=alt.Scale(
        domain=labels, range=[colours[k] for k, _, _ in lines]))
    dash = alt.StrokeDash("series:N", sort=labels, scale=alt.Scale(
        domain=labels, range=[dashes[k] for k, _, _ in lines]))
    base = alt.Chart(data)
    mine = base.transform_filter(alt.datum.series == school_label)
    others = base.transform_filter(alt.datum.series != school_label)
    layers = [
        *_phase_layers(report, x),
        others.mark_line(strokeWidth=1.5).encode(
            x=x, y=y, color=colour, strokeDash=dash, detail="segment:N"),
        others.mark_point(filled=True, size=18).encode(x=x, y=y, color=colour),
        # one interval per point: a rule from the lower to the upper limit
        mine.mark_rule(color=SCHOOL_COLOUR, strokeWidth=1.5).encode(x=x, y="low:Q",
                                                                      y2="high:Q"),
        mine.mark_line(strokeWidth=2.5).encode(x=x, y=y, color=colour, strokeDash=dash,
                                               detail="segment:N"),
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
    x = _term_axis(terms, lang)
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


__all__ = ["chart_images", "headline_series", "headline_spec", "scales_spec", "spec_json",
           "svg_data_uri", "to_svg"]
