"""Altair charts (accessible Okabe–Ito colours, intervals as error bars or bands) and the
table + CSV alternative every chart carries.

Chart data are small aggregated frames built from already suppressed rows: a hidden cell is never
drawn as 0; where a chart has a place for it (a term, a part) the word "skjult"/"hidden" is written
there (:func:`hidden_marks`), and it appears in the table as "skjult"/"hidden". Tooltips carry
pre-formatted text in the page language; axes use a Vega number locale for the language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import altair as alt
import pandas as pd
import polars as pl
import pyarrow as pa
import streamlit as st
from streamlit import dataframe_util

from lmp_analytics import spreadsheet
from lmp_analytics.frames import lookup

from .i18n import (
    DASH,
    fmt_mean,
    fmt_num,
    fmt_pct,
    fmt_pct_value,
    fmt_pp,
    t,
)
from .specs import ChartSpec, chart_builder, fingerprint, remember, vega_lite_spec

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies.
OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#999999",
}
SERIES_ORDER = ["skole", "pulje", "deltaker", "sammenligning", "kommune_deltaker",
                "kommune_sammenligning", "nasjon_7", "nasjon_10"]
SERIES_COLOURS = {
    "skole": OKABE_ITO["blue"],
    "pulje": OKABE_ITO["green"],
    "deltaker": OKABE_ITO["blue"],
    "sammenligning": OKABE_ITO["orange"],
    "kommune_deltaker": OKABE_ITO["sky"],
    "kommune_sammenligning": OKABE_ITO["vermillion"],
    "nasjon_7": OKABE_ITO["black"],
    "nasjon_10": OKABE_ITO["grey"],
}
PHASE_COLOURS = ["#E8E8E8", "#D0D0D0", "#B8B8B8", "#A0A0A0"]
CHART_HEIGHT = 320


# --------------------------------------------------------------------------------------------
# Tables and CSV


@dataclass
class Table:
    """A table alternative: ``frame`` holds machine-readable values (percent numbers for
    shares, rounded), ``formats`` says how to show each column (pct | pctv | pp | mean | meand |
    int | p | text), ``hidden`` names a boolean column marking suppressed rows."""

    frame: pl.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    hidden: str | None = None

    def display(self, lang: str) -> pl.DataFrame:
        """The same rows and columns as text formatted for the language (made once per content
        and language: formatting cell by cell in Python was a tenth of a page run)."""
        if self.frame.height == 0:
            return self.frame
        return remember(self.key("display", lang), lambda: self._display(lang))

    def key(self, what: str, lang: str) -> tuple:
        """A content key of this table shown as ``what`` in ``lang`` (:func:`.specs.remember`)."""
        return (what, fingerprint(self.frame), fingerprint(self.formats),
                fingerprint(self.hidden), lang)

    def _display(self, lang: str) -> pl.DataFrame:
        hidden_word = t("hidden", lang)
        hide = (self.frame[self.hidden].fill_null(False).to_list() if self.hidden
                else [False] * self.frame.height)
        cols = {}
        for name in self.frame.columns:
            kind = self.formats.get(name, "text")
            values = self.frame[name].to_list()
            if name == self.hidden:
                cols[name] = [t("yes", lang) if v else t("no", lang) for v in values]
                continue
            out = []
            for v, h in zip(values, hide, strict=True):
                if v is None and kind != "text":
                    out.append(hidden_word if h else DASH)
                else:
                    out.append(_fmt(v, kind, lang))
            cols[name] = out
        return pl.DataFrame(cols, schema={c: pl.String for c in self.frame.columns})

    def csv(self, lang: str) -> bytes:
        """CSV of ``frame`` (same rows and columns as shown). bokmål: ';' and decimal comma
        (opens in Norwegian Excel); English: ',' and decimal point. UTF-8 with BOM. Text cells
        are neutralised (:mod:`lmp_analytics.spreadsheet`): none can become a formula."""
        frame = spreadsheet.safe_frame(self.frame)   # before floats become text below
        if self.hidden:
            hidden = spreadsheet.neutralise(self.hidden)
            frame = frame.with_columns(
                pl.when(pl.col(hidden)).then(pl.lit(t("yes", lang)))
                .otherwise(pl.lit(t("no", lang))).alias(hidden))
        if lang == "nb":
            frame = frame.with_columns(
                pl.col(c).cast(pl.String).str.replace(".", ",", literal=True)
                for c, dt in frame.schema.items() if dt.is_float())
        data = spreadsheet.csv_bytes(frame, separator=";" if lang == "nb" else ",")
        return "\ufeff".encode() + data


def _fmt(v, kind: str, lang: str) -> str:
    if v is None:
        return DASH
    if kind == "pct":        # a fraction
        return fmt_pct(v, lang)
    if kind == "pctv":       # a number in percent
        return fmt_pct_value(v, lang)
    if kind == "pp":         # percentage points (number already in pp)
        return fmt_pp(v / 100, lang)
    if kind == "mean":
        return fmt_mean(v, lang)
    if kind == "meand":      # a signed difference of means
        return fmt_mean(v, lang, signed=True)
    if kind == "int":
        return fmt_num(v, lang)
    if kind == "p":
        from .i18n import fmt_p

        return fmt_p(v, lang)
    return str(v)


#: A static table longer than this is drawn on demand (an expander that runs only when opened):
#: st.table puts every cell in the page, and 384 rows cost a browser ~1.7 s of CPU per visit.
ON_DEMAND_ROWS = 40


def _static(table: Table, lang: str) -> None:
    def arrow() -> pa.Table:
        # Built from Python lists, not DataFrame.to_pandas: that conversion holds the GIL while
        # it waits for polars' thread pool, which deadlocks beside a polars UDF running in the
        # warm-up thread or another session (pola-rs/polars#26821, #27396).
        shown = pd.DataFrame(table.display(lang).to_dict(as_series=False))
        return dataframe_util.convert_pandas_df_to_arrow_table(
            shown.set_index(table.frame.columns[0]))

    # The Arrow table st.table made of the pandas frame (its index, the first column, shown),
    # made once per content: the pandas conversions were a tenth of a page run (issue #21).
    st.table(remember(table.key("static", lang), arrow), hide_index=False)


#: Tables longer than this go to st.dataframe as polars frames (Streamlit may serve those
#: lazily); shorter ones as the cached Arrow table (:func:`_dataframe_arrow`).
ARROW_ROWS = 50_000


def _dataframe_arrow(table: Table, lang: str) -> pa.Table:
    """The Arrow table st.dataframe made of ``table.display(lang)`` (polars -> pandas ->
    Arrow, Streamlit's own two conversions), made once per content and language."""
    return remember(table.key("dataframe", lang), lambda: (
        dataframe_util.convert_pandas_df_to_arrow_table(
            dataframe_util.convert_anything_to_pandas_df(table.display(lang),
                                                         ensure_copy=False))))


def show_table(table: Table, lang: str, *, key: str, file_name: str,
               height: int | str = "auto", static: bool = False,
               download: Table | None = None) -> None:
    """The table (st.dataframe; ``static``: st.table, which wraps its text instead of scrolling,
    for a few rows) and a CSV download of exactly its rows and columns (``download``: of that
    table instead, e.g. the whole table when ``table`` is its first part)."""
    download = table if download is None else download
    if table.frame.height == 0 and download.frame.height == 0:
        st.caption(t("no_rows", lang))
        return
    if table.frame.height and static:
        _static(table, lang)
    elif table.frame.height:
        shown = (_dataframe_arrow(table, lang) if table.frame.height <= ARROW_ROWS
                 else table.display(lang))
        st.dataframe(shown, hide_index=True, key=f"tbl_{key}", height=height)
    # The CSV is made when the button is clicked, not on every run of every session (it was an
    # eighth of the server's time with 20 sessions at once, issue #21).
    st.download_button(
        t("download_csv", lang), data=lambda: download.csv(lang), file_name=f"{file_name}.csv",
        mime="text/csv", key=f"dl_{key}", on_click="ignore", icon=":material/download:",
    )


def on_demand_table(table: Table, lang: str, *, key: str, label: str) -> None:
    """A static table in an expander that is drawn only while it is open (the expander reruns
    the page when it is opened or closed): nothing of it is sent to the browser before."""
    with st.expander(label, key=f"open_{key}", on_change="rerun") as box:
        if box.open:
            _static(table, lang)


def show_chart(chart: ChartSpec | None, table: Table, lang: str, *, key: str,
               file_name: str, alt_text: str, expanded: bool = False,
               static: bool = False) -> None:
    """A chart with its table alternative and CSV download underneath (``static``: see
    :func:`show_table`). ``chart`` comes from a builder of this module (:func:`chart_builder`):
    its Vega-Lite spec is made once per content (:func:`vega_lite_spec`)."""
    if chart is not None and table.frame.height:
        st.vega_lite_chart(spec=vega_lite_spec(chart, lang), width="stretch",
                           key=f"chart_{key}", alt=alt_text)
    with st.expander(t("table_alt", lang), expanded=expanded or chart is None):
        show_table(table, lang, key=key, file_name=file_name, static=static)


# --------------------------------------------------------------------------------------------
# Chart builders
#
# Channels are written as their classes (alt.Y2("ci_high:Q"), alt.YValue(14)), not as strings
# or alt.value dicts: Altair turns those into the class with from_dict, which indexes its whole
# schema each time (~5 ms a channel). The spec is the same (tests/dashboards/test_chart_specs.py).

# Axis labels on several lines: a label holds its line breaks ("\n"), the axis splits on them,
# so a long school name or question wraps instead of being cut off with "…".
LINES_EXPR = "split(datum.label, '\\n')"
LABEL_WIDTH = 34


def wrap_label(text: str, width: int = LABEL_WIDTH) -> str:
    """``text`` with line breaks at word boundaries, no line longer than ``width`` characters
    (a longer word stays whole)."""
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width=width, break_long_words=False,
                                   break_on_hyphens=False)) or str(text)


def _wrapped(frame: pl.DataFrame, column: str, width: int = LABEL_WIDTH
             ) -> tuple[pl.DataFrame, int]:
    """``frame`` with ``column`` wrapped (:func:`wrap_label`) and the most lines of a label."""
    out = frame.with_columns(lookup(frame, column, lambda v: wrap_label(v, width)))
    lines = max((v.count("\n") + 1 for v in out[column].to_list() if v), default=1)
    return out, lines



def _y(kind: str, lang: str, field_: str = "value", title: str | None = None,
       zero: bool = True) -> alt.Y:
    if kind == "share":
        return alt.Y(f"{field_}:Q", title=title or t("axis_share", lang),
                     axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=zero))
    return alt.Y(f"{field_}:Q", title=title or t("axis_mean", lang),
                 scale=alt.Scale(domain=[1, 5]))


@chart_builder
def series_chart(frame: pl.DataFrame, *, kind: str, lang: str, order: list[str],
                 series_labels: dict[str, str], band: bool = True) -> alt.LayerChart:
    """Lines per series over terms (ordinal axis in ``order``), 95 % interval as a band or
    error bars. ``frame``: x (term label), series, value, ci_low, ci_high, tooltip."""
    keys = [k for k in SERIES_ORDER if k in set(frame["series"].to_list())]
    others = sorted(set(frame["series"].to_list()) - set(keys))
    domain = [series_labels.get(k, k) for k in keys + others]
    spare = [OKABE_ITO[c] for c in ("sky", "vermillion", "green", "purple", "orange", "blue",
                                     "yellow", "grey")]
    rng = [SERIES_COLOURS[k] for k in keys] + [spare[i % len(spare)]
                                                for i in range(len(others))]
    data = frame.with_columns(pl.col("series").replace_strict(
        series_labels, default=pl.col("series")).alias("series_label"))
    colour = alt.Color("series_label:N", title=None,
                       scale=alt.Scale(domain=domain, range=rng),
                       legend=alt.Legend(orient="top", direction="horizontal", columns=3,
                                         symbolStrokeWidth=3, labelLimit=360))
    x = alt.X("x:O", sort=order, title=t("term", lang), axis=alt.Axis(labelAngle=-40))
    base = alt.Chart(data).encode(x=x, color=colour)
    line = base.mark_line(point=alt.OverlayMarkDef(size=50, filled=True)).encode(
        y=_y(kind, lang), strokeDash=alt.StrokeDash("series_label:N", legend=None),
        tooltip=[alt.Tooltip("series_label:N", title=t("series", lang)),
                 alt.Tooltip("x:O", title=t("term", lang)),
                 alt.Tooltip("tooltip:N", title=t("value", lang))],
    )
    with_ci = data.filter(pl.col("ci_low").is_not_null())
    if band:
        ci = alt.Chart(with_ci).mark_area(opacity=0.18).encode(
            x=x, y=alt.Y("ci_low:Q"), y2=alt.Y2("ci_high:Q"), color=colour)
    else:
        ci = alt.Chart(with_ci).mark_errorbar(ticks=alt.MarkConfig(size=14)).encode(
            x=x, y=alt.Y("ci_low:Q", title=None), y2=alt.Y2("ci_high:Q"), color=colour)
    return alt.layer(ci, line).properties(height=CHART_HEIGHT)


@chart_builder
def small_multiples(frame: pl.DataFrame, *, kind: str, lang: str, order: list[str],
                    columns: int = 4) -> alt.FacetChart:
    """One small panel per school: points with error bars over terms."""
    x = alt.X("x:O", sort=order, title=None, scale=alt.Scale(domain=order),
              axis=alt.Axis(labelAngle=-60, labelFontSize=9))
    base = alt.Chart().encode(x=x)
    points = base.mark_point(filled=True, size=30, color=OKABE_ITO["blue"]).encode(
        y=_y(kind, lang, title=""),
        tooltip=[alt.Tooltip("skole:N", title=t("school", lang)),
                 alt.Tooltip("x:O", title=t("term", lang)),
                 alt.Tooltip("tooltip:N", title=t("value", lang))])
    bars = base.mark_rule(color=OKABE_ITO["blue"], opacity=0.6).encode(
        y=alt.Y("ci_low:Q"), y2=alt.Y2("ci_high:Q"))
    line = base.mark_line(color=OKABE_ITO["blue"], opacity=0.5).encode(y=alt.Y("value:Q"))
    layers = [bars, line, points]
    if "hidden_text" in frame.columns:   # a hidden cell: the word at the foot of its term
        layers.append(base.mark_text(angle=270, align="left", fontSize=9,
                                     color=OKABE_ITO["vermillion"])
                      .transform_filter("isValid(datum.hidden_text)")
                      .encode(y=alt.YValue(106), text=alt.Text("hidden_text:N")))
    return alt.layer(*layers, data=frame).properties(
        width=170, height=110).facet(
        facet=alt.Facet("skole:N", title=None, header=alt.Header(labelFontSize=11)),
        columns=columns)


@chart_builder
def phase_chart(frame: pl.DataFrame, phases: pl.DataFrame, *, kind: str, lang: str,
                order: list[str]) -> alt.LayerChart:
    """One school over time: shaded phase terms, points with error bars, a line."""
    x = alt.X("x:O", sort=order, title=t("term", lang), axis=alt.Axis(labelAngle=-40),
              scale=alt.Scale(domain=order))
    layers = []
    if phases.height:
        shade = alt.Chart(phases).mark_rect(opacity=0.55).encode(
            x=x, color=alt.Color("phase_label:N", title=t("phase", lang),
                                 scale=alt.Scale(range=PHASE_COLOURS)),
            tooltip=[alt.Tooltip("phase_label:N", title=t("phase", lang)),
                     alt.Tooltip("x:O", title=t("term", lang))])
        label = alt.Chart(phases).mark_text(dy=-4, baseline="bottom", fontSize=11).encode(
            x=x, y=alt.YValue(14), text=alt.Text("phase_short:N"))
        layers += [shade, label]
    base = alt.Chart(frame).encode(x=x)
    layers += [
        base.mark_rule(color=OKABE_ITO["blue"], strokeWidth=2).encode(
            y=alt.Y("ci_low:Q", title=None), y2=alt.Y2("ci_high:Q")),
        base.mark_line(color=OKABE_ITO["blue"]).encode(y=_y(kind, lang)),
        base.mark_point(filled=True, size=70, color=OKABE_ITO["blue"]).encode(
            y=_y(kind, lang),
            tooltip=[alt.Tooltip("x:O", title=t("term", lang)),
                     alt.Tooltip("tooltip:N", title=t("value", lang)),
                     alt.Tooltip("n_text:N", title=t("n", lang))]),
    ]
    return alt.layer(*layers).properties(height=CHART_HEIGHT)


@chart_builder
def breakdown_chart(frame: pl.DataFrame, *, kind: str, lang: str, order: list[str],
                    title: str, hidden: list[str] | None = None) -> alt.LayerChart:
    """Bars with error bars for the parts of a breakdown (trinn or kjønn); each part in
    ``hidden`` gets the word 'skjult' in its place instead of a bar."""
    x = alt.X("label:N", sort=order, title=title, axis=alt.Axis(labelAngle=0),
              scale=alt.Scale(domain=order))
    base = alt.Chart(frame).encode(x=x)
    extra = []
    if hidden:
        marks = pl.DataFrame({"label": hidden, "hidden_text": [
            t("landing.cell_hidden", lang)] * len(hidden)})
        extra.append(alt.Chart(marks).mark_text(
            angle=270, align="left", fontSize=11, color=OKABE_ITO["vermillion"]).encode(
            x=x, y=alt.YValue(250), text=alt.Text("hidden_text:N")))
    return alt.layer(
        *extra,
        base.mark_bar(color=OKABE_ITO["sky"]).encode(
            y=_y(kind, lang), tooltip=[alt.Tooltip("label:N", title=title),
                                       alt.Tooltip("tooltip:N", title=t("value", lang))]),
        base.mark_errorbar(ticks=alt.MarkConfig(size=14), color=OKABE_ITO["black"]).encode(
            y=alt.Y("ci_low:Q", title=None), y2=alt.Y2("ci_high:Q")),
    ).properties(height=260)


@chart_builder
def change_chart(frame: pl.DataFrame, *, kind: str, lang: str, x_title: str,
                 colour_field: str = "verdict_label",
                 domain: list[str] | None = None) -> alt.LayerChart:
    """Horizontal dot-and-interval plot of a change per unit with a zero line.
    ``frame``: label, change, ci_low, ci_high (already in display units), verdict_label,
    tooltip."""
    frame, lines = _wrapped(frame, "label")
    order = frame["label"].to_list()
    y = alt.Y("label:N", sort=order, title=None,
              axis=alt.Axis(labelExpr=LINES_EXPR, labelLimit=0))
    base = alt.Chart(frame).encode(y=y)
    # Verdicts in a fixed order and colour: decrease, no clear change, increase (the direction of
    # the indicator, not whether it is good: see lmp_analytics.stats.verdict).
    domain = domain or sorted(set(frame[colour_field].to_list()))
    palette = [OKABE_ITO["blue"], OKABE_ITO["grey"], OKABE_ITO["vermillion"],
               OKABE_ITO["green"], OKABE_ITO["orange"]]
    colour = alt.Color(f"{colour_field}:N", title=None,
                       scale=alt.Scale(domain=domain, range=palette[: len(domain)]))
    zero = alt.Chart(pl.DataFrame({"zero": [0.0]})).mark_rule(
        color=OKABE_ITO["black"], strokeDash=[4, 3]).encode(x=alt.X("zero:Q"))
    return alt.layer(
        zero,
        base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low:Q", title=x_title),
                                             x2=alt.X2("ci_high:Q"), color=colour),
        base.mark_point(filled=True, size=70).encode(
            x=alt.X("change:Q"), color=colour,
            tooltip=[alt.Tooltip("label:N", title=t("school", lang)),
                     alt.Tooltip("tooltip:N", title=t("fa_change", lang))]),
    ).properties(height=120 + (14 + 13 * lines) * frame.height)


@chart_builder
def event_study_chart(frame: pl.DataFrame, *, lang: str, y_title: str) -> alt.LayerChart:
    """ATT by event time with error bars; the pre-start terms shaded; zero line."""
    pre = frame.filter(pl.col("pre"))
    layers = []
    if pre.height:
        span = pl.DataFrame({"start": [float(pre["e"].min()) - 0.5], "end": [-0.5]})
        layers.append(alt.Chart(span).mark_rect(color=OKABE_ITO["grey"], opacity=0.18).encode(
            x=alt.X("start:Q"), x2=alt.X2("end:Q")))
    zero = alt.Chart(pl.DataFrame({"zero": [0.0]})).mark_rule(
        color=OKABE_ITO["black"], strokeDash=[4, 3]).encode(y=alt.Y("zero:Q"))
    colour = alt.Color("period:N", title=None, scale=alt.Scale(
        domain=[t("pre_period", lang), t("post_period", lang)],
        range=[OKABE_ITO["grey"], OKABE_ITO["blue"]]))
    x = alt.X("e:Q", title=t("axis_terms_since", lang), axis=alt.Axis(tickMinStep=1, format="d"))
    base = alt.Chart(frame).encode(x=x, color=colour)
    layers += [
        zero,
        base.mark_rule(strokeWidth=2).encode(y=alt.Y("ci_low:Q", title=y_title),
                                             y2=alt.Y2("ci_high:Q")),
        base.mark_point(filled=True, size=70).encode(
            y=alt.Y("att:Q"), tooltip=[alt.Tooltip("e:Q", title=t("axis_terms_since", lang)),
                                alt.Tooltip("tooltip:N", title=t("estimate", lang))]),
    ]
    return alt.layer(*layers).properties(height=CHART_HEIGHT)


@chart_builder
def did_chart(frame: pl.DataFrame, *, lang: str, order: list[str],
              series_labels: dict[str, str]) -> alt.LayerChart:
    """The 2x2: participants and comparison schools before and after (pooled shares)."""
    return series_chart.altair(frame, kind="share", lang=lang, order=order,
                               series_labels=series_labels, band=False)


@chart_builder
def heatmap(frame: pl.DataFrame, *, lang: str, x_order: list[str], y_title: str,
            colour_title: str, fmt: str = ".0%", scheme: str = "viridis",
            reverse: bool = False, anchor: float | None = None) -> alt.LayerChart:
    """A unit x term grid coloured by a value (frame: x, y, value, tooltip, flag; ``flag`` is
    written in the cell). ``anchor``: a threshold the colours diverge at (below it warm, above
    it cool, white at it; e.g. the 70 % response-rate threshold) instead of ``scheme``."""
    frame, lines = _wrapped(frame, "y")
    base = alt.Chart(frame).encode(
        x=alt.X("x:O", sort=x_order, title=t("term", lang), axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("y:N", title=y_title, axis=alt.Axis(labelExpr=LINES_EXPR, labelLimit=0)),
    )
    scale = alt.Scale(scheme=scheme, reverse=reverse)
    if anchor is not None:
        low = min([anchor - 0.2, *[v for v in frame["value"].to_list() if v is not None]])
        scale = alt.Scale(domain=[low, anchor, 1.0], range=[
            OKABE_ITO["vermillion"], "#F7F7F7", OKABE_ITO["sky"]], clamp=True)
    rect = base.mark_rect().encode(
        color=alt.Color("value:Q", title=colour_title, scale=scale,
                        legend=alt.Legend(format=fmt, orient="right")),
        tooltip=[alt.Tooltip("y:N", title=y_title), alt.Tooltip("x:O", title=t("term", lang)),
                 alt.Tooltip("tooltip:N", title=colour_title)])
    text = base.mark_text(fontSize=10, color=OKABE_ITO["black"]).encode(text=alt.Text("flag:N"))
    return alt.layer(rect, text).properties(
        height=90 + (10 + 13 * lines) * frame["y"].n_unique())


@chart_builder
def bar_chart(frame: pl.DataFrame, *, lang: str, x_title: str, y_title: str,
              x_format: str | None = None) -> alt.Chart:
    """Horizontal bars (frame: label, value, tooltip)."""
    order = frame.sort("value", descending=True)["label"].to_list()
    axis = alt.Axis(format=x_format) if x_format else alt.Axis()
    return alt.Chart(frame).mark_bar(color=OKABE_ITO["blue"]).encode(
        y=alt.Y("label:N", sort=order, title=y_title, axis=alt.Axis(labelLimit=420)),
        x=alt.X("value:Q", title=x_title, axis=axis),
        tooltip=[alt.Tooltip("label:N", title=y_title),
                 alt.Tooltip("tooltip:N", title=x_title)],
    ).properties(height=70 + 24 * frame.height)


def hidden_marks(frame: pl.DataFrame, order: list[str], lang: str) -> alt.Chart:
    """The word for a hidden cell ('skjult') written at the foot of the chart at each term of
    ``frame`` (column ``x``), so a hidden value reads as hidden, not as a gap or a missing
    round."""
    word = t("landing.cell_hidden", lang)
    data = frame.with_columns(pl.lit(word).alias("hidden_text"))
    x = alt.X("x:O", sort=order, scale=alt.Scale(domain=order))
    return alt.Chart(data).mark_text(
        angle=270, align="left", baseline="middle", fontSize=11, color=OKABE_ITO["vermillion"],
    ).encode(x=x, y=alt.YValue(CHART_HEIGHT - 6), text=alt.Text("hidden_text:N"),
             tooltip=[alt.Tooltip("hidden_text:N", title=t("value", lang))])


@chart_builder
def series_with_hidden(frame: pl.DataFrame, hidden: pl.DataFrame, *, kind: str, lang: str,
                       order: list[str], series_labels: dict[str, str],
                       band: bool = True) -> alt.LayerChart:
    """:func:`series_chart` with the word for a hidden cell at each term of ``hidden``
    (column ``x``; :func:`hidden_marks`); without hidden terms the series chart alone."""
    chart = series_chart.altair(frame, kind=kind, lang=lang, order=order,
                                series_labels=series_labels, band=band)
    return alt.layer(chart, hidden_marks(hidden, order, lang)) if hidden.height else chart


@chart_builder
def attention_chart(frame: pl.DataFrame, *, order: list[str], kind: str, x_title: str,
                    school_title: str, value_title: str, signals_title: str,
                    evidence: list[str]) -> alt.LayerChart:
    """Schools needing attention: each school's value with its interval, coloured by the
    evidence (``evidence``: the three levels' words, strongest first), and a tick at its
    reference. ``frame``: label, value, ci_low, ci_high, reference, evidence, tooltip."""
    axis = alt.Axis(format=".0%") if kind == "share" else alt.Axis()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    colour = alt.Color("evidence:N", title=signals_title, scale=alt.Scale(
        domain=evidence, range=[OKABE_ITO["vermillion"], OKABE_ITO["orange"],
                                OKABE_ITO["grey"]]))
    base = alt.Chart(frame).encode(y=y)
    return alt.layer(
        base.mark_rule(strokeWidth=2).encode(
            x=alt.X("ci_low:Q", title=x_title, axis=axis), x2=alt.X2("ci_high:Q"), color=colour),
        base.mark_point(filled=True, size=70).encode(
            x=alt.X("value:Q"), color=colour,
            tooltip=[alt.Tooltip("label:N", title=school_title),
                     alt.Tooltip("tooltip:N", title=value_title)]),
        base.mark_tick(color=OKABE_ITO["black"], thickness=2).encode(x=alt.X("reference:Q")),
    ).properties(height=110 + 24 * frame.height)


@chart_builder
def national_event_chart(frame: pl.DataFrame, *, x_title: str,
                         y_title: str) -> alt.LayerChart:
    """The national panel's event study: intervals, estimates and a zero line by year since
    the start (``frame``: e, att, lo, hi)."""
    base = alt.Chart(frame).encode(x=alt.X("e:O", title=x_title))
    return (base.mark_rule().encode(y=alt.Y("lo:Q", title=y_title), y2=alt.Y2("hi:Q"))
            + base.mark_point(filled=True).encode(y=alt.Y("att:Q"))
            + alt.Chart(pl.DataFrame({"z": [0.0]})).mark_rule(strokeDash=[4, 4])
            .encode(y=alt.Y("z:Q")))


@chart_builder
def national_kommune_chart(frame: pl.DataFrame, *, x_title: str, y_title: str,
                           colour_title: str) -> alt.Chart:
    """A municipality's LMP schools and the eligible group by survey year (``frame``: series,
    year, share)."""
    return alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("year:O", title=x_title),
        y=alt.Y("share:Q", title=y_title),
        color=alt.Color("series:N", title=colour_title))
