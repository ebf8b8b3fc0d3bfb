"""Oversikt: the headline indicator per school and term, participants vs comparison schools vs
the country, and which schools need attention (ordered by interval-based evidence)."""

from __future__ import annotations

import polars as pl
import streamlit as st
from lmpdash import charts, data, landing, ui
from lmpdash.context import current
from lmpdash.i18n import (
    fmt_change,
    fmt_change_interval,
    fmt_pct_value,
    fmt_value,
    fmt_value_ci,
    rolle_label,
    term_label,
    term_short,
    verdict_text,
)

from lmp_analytics.frames import each_row, lookup
from lmp_analytics.readmodels import catalogue
from lmp_analytics.terms import term_index, term_order

NATIONAL_INDICATORS = ("mobbet", "mobbet_samlet")
COMPACT_TERMS = 4


def main() -> None:
    ctx = current()
    st.title(ctx.t("ov_title"))
    st.caption(ctx.t("ov_intro"))
    if not ui.require_data(ctx):
        return

    schools = data.schools(ctx.src, ctx.role)
    kommuner = data.kommuner(ctx.src, ctx.role)
    c1, c2 = st.columns(2)
    with c1:
        indicator = ui.indicator_picker(ctx, key="oversikt")
    options = ([""] if ctx.role.sees_all_units else []) + kommuner["kommunenummer"].to_list()
    names = dict(zip(kommuner["kommunenummer"].to_list(), kommuner["kommune"].to_list(),
                     strict=True))
    if _own_schools(ctx):  # a supervisor whose schools lie in several municipalities
        names = dict(zip(schools["kommunenummer"].to_list(), schools["kommune"].to_list(),
                         strict=True))
        options = ["", *sorted(names)] if len(names) > 1 else []
    kommune = ""
    if options:
        with c2:
            kommune = st.selectbox(
                ctx.t("ov_scope"), options, key="ov_scope",
                format_func=lambda k: f"{names.get(k, k)} ({k})" if k
                else ctx.t("ov_all_own_schools" if _own_schools(ctx) else "whole_programme"))
    if schools.height == 0:
        st.info(ctx.t("empty_scope"))
        return
    if kommune:
        schools = schools.filter(pl.col("kommunenummer") == kommune)
    schools = ui.with_school_labels(schools, ctx)
    kind = ui.indicator_kind(indicator)
    value, low, high = catalogue.value_columns(kind)

    cells = data.indicators(ctx.src, ctx.role, "skole", indicator=indicator)
    cells = ui.with_school_labels(
        cells.filter(pl.col("skole_orgnr").is_in(schools["skole_orgnr"].to_list())), ctx)
    primary = data.rounds(ctx.src, ctx.role).select(
        pl.col("round_id").alias("round"), "is_primary")
    cells = cells.join(primary, on="round", how="left").filter(
        pl.col("is_primary").fill_null(True))
    terms = sorted(set(cells["term"].to_list()), key=term_index)

    landing.phase_panel(ctx, indicator, kind)
    landing.alert_list(ctx, indicator, kind)
    _headline(ctx, indicator, kind, kommune)
    st.subheader(ctx.t("ov_table_title"))
    ui.suppression_caption(ctx)
    _compact_table(ctx, schools, cells, terms, kind, value)
    st.subheader(ctx.t("ov_multiples_title"))
    _multiples(ctx, cells, terms, kind, value, low, high)
    st.subheader(ctx.t("ov_compare_title"))
    _comparison(ctx, indicator, kind, kommune)
    st.subheader(ctx.t("ov_attention_title"))
    _attention(ctx, indicator, kind, schools)


def _own_schools(ctx) -> bool:
    """A supervisor's Oversikt speaks of her schools: the headline and the comparison line are
    her participating schools pooled, beside the programme's comparison schools."""
    return ctx.role.kind == "veileder"


def _series_rows(ctx, indicator: str, kommune: str | None) -> pl.DataFrame:
    series = data.comparison_series(ctx.src, ctx.role, indicator)
    if _own_schools(ctx):
        own = data.own_series(ctx.src, ctx.role, indicator, kommune or None)
        return pl.concat([own, series.filter((pl.col("level") == "program")
                                             & (pl.col("series") == "sammenligning"))],
                         how="vertical_relaxed")
    if not kommune and ctx.role.kind == "kommune":
        kommune = next(iter(ctx.role.kommuner))
    if kommune:
        return series.filter((pl.col("level") == "kommune")
                             & (pl.col("kommunenummer") == kommune))
    return series.filter(pl.col("level") == "program")


def _national(ctx, indicator: str) -> pl.DataFrame:
    if indicator not in NATIONAL_INDICATORS:
        return pl.DataFrame()
    nat = data.national(ctx.src, ctx.role)
    return nat.filter((pl.col("level") == "nasjon") & (pl.col("value_type") == "pct")
                      & pl.col("trinn").is_in([7, 10]))


def _headline(ctx, indicator: str, kind: str, kommune: str | None) -> None:
    lang = ctx.lang
    rows = _series_rows(ctx, indicator, kommune)
    cols = st.columns(3)
    own = _own_schools(ctx)
    for col, rolle, key in ((cols[0], "deltaker", "ov_headline_own" if own
                             else "ov_headline_part"),
                            (cols[1], "sammenligning", "ov_headline_comp_programme" if own
                             else "ov_headline_comp")):
        part = rows.filter((pl.col("series") == rolle) & ~pl.col("suppressed").fill_null(True))
        if part.height:
            last = part.sort(term_order("term")).row(-1, named=True)
            ci = fmt_value_ci(last["value"], last["ci_low"], last["ci_high"], kind, lang)
            schools = (f" · {ctx.t('ov_own_help', n=last['n_schools'])}"
                       if own and rolle == "deltaker" else "")
            col.metric(ctx.t(key), fmt_value(last["value"], kind, lang),
                       help=f"{term_label(last['term'], lang)} · {ci} · n = {last['n_display']}"
                            + schools)
        else:
            col.metric(ctx.t(key), "–")
    if own:
        st.caption(ctx.t("ov_own_method"))
    missing = []
    if rows.filter(pl.col("series") == "sammenligning").height == 0:
        missing.append(ctx.t("na_comparison"))
    nat = _national(ctx, indicator)
    if indicator in NATIONAL_INDICATORS and nat.height == 0:
        cols[2].metric(ctx.t("ov_headline_nat"), "–")
        missing.append(ctx.t("na_national"))
    for text in missing:
        st.caption(text)
    if nat.height:
        nat = nat.filter(~pl.col("suppressed"))
        latest = max(nat["term"].to_list(), key=term_index)
        now = nat.filter(pl.col("term") == latest).sort("trinn")
        text = " / ".join(fmt_pct_value(v, lang) for v in now["value"].to_list())
        grades = "/".join(str(g) for g in now["trinn"].to_list())
        cols[2].metric(ctx.t("ov_headline_nat"), text,
                       help=f"{term_label(latest, lang)} · {grades}. {ctx.t('trinn').lower()}")


def _compact_table(ctx, schools: pl.DataFrame, cells: pl.DataFrame, terms: list[str],
                   kind: str, value: str) -> None:
    lang = ctx.lang
    by_key = {(r["skole_orgnr"], r["term"]): r for r in cells.iter_rows(named=True)}
    rows = []
    sparks = []
    shown_terms = terms[-COMPACT_TERMS:]   # the newest terms fit at 1280 px; the trend has all
    for s in schools.iter_rows(named=True):
        kind_text = rolle_label(s["rolle"], lang) + (  # type and pulje in one column
            "" if s["pulje"] is None else f" ({ctx.t('pulje').lower()} {s['pulje']})")
        row = {ctx.t("school"): s["skole"], ctx.t("rolle"): kind_text}
        spark = []
        for term in terms:
            cell = by_key.get((s["skole_orgnr"], term))
            if cell is None:
                text = ctx.t("landing.cell_no_round")
            elif cell["suppressed"]:
                text = ctx.t("hidden")
            else:
                text = fmt_value(cell[value], kind, lang)
                if cell[value] is not None:
                    spark.append(float(cell[value]) * (100 if kind == "share" else 1))
            if term in shown_terms:
                row[term_short(term, lang)] = text
        rows.append(row)
        sparks.append(spark)
    if not rows:
        st.caption(ctx.t("no_rows"))
        return
    frame = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]})
    table = charts.Table(frame)
    if len(terms) > len(shown_terms):
        st.caption(ctx.t("landing.compact_terms", n=len(shown_terms)))
    trend = ctx.t("trend")
    shown = table.display(lang).with_columns(pl.Series(trend, sparks,
                                                       dtype=pl.List(pl.Float64)))
    st.dataframe(
        shown, hide_index=True, key="tbl_ov_compact",
        column_config={trend: st.column_config.LineChartColumn(
            trend, help=ctx.t("trend"), width="small")},
    )
    st.download_button(ctx.t("download_csv"), data=table.csv(lang),
                       file_name=f"lmp_oversikt_{lang}.csv", mime="text/csv",
                       key="dl_ov_compact", on_click="ignore", icon=":material/download:")


def _long_table(ctx, cells: pl.DataFrame, kind: str, value: str, low: str,
                high: str) -> charts.Table:
    lang = ctx.lang
    scale = 100.0 if kind == "share" else 1.0
    fmt = "pctv" if kind == "share" else "mean"
    frame = cells.sort("skole", term_order("term")).select(
        pl.col("skole").alias(ctx.t("school")),
        lookup(cells, "term", lambda x: term_label(x, lang)).alias(ctx.t("term")),
        *ui.interval_columns(ctx, value, low, high, scale=scale),
        pl.col("n_display").alias(ctx.t("n")),
        pl.col("suppressed").fill_null(False).alias(ctx.t("hidden_col")),
    )
    return charts.Table(frame, {ctx.t("value"): fmt, ctx.t("ci_low"): fmt,
                                ctx.t("ci_high"): fmt}, hidden=ctx.t("hidden_col"))


def _multiples(ctx, cells, terms, kind, value, low, high) -> None:
    lang = ctx.lang
    visible = cells.filter(~pl.col("suppressed").fill_null(True) & pl.col(value).is_not_null())
    labelled = ui.with_term_labels(visible, lang, short=True)
    chart_data = labelled.select(
        "skole", "x", pl.col(value).alias("value"), pl.col(low).alias("ci_low"),
        pl.col(high).alias("ci_high"),
        each_row(labelled, (value, low, high),
                 lambda r: fmt_value_ci(r[value], r[low], r[high], kind, lang),
                 ).alias("tooltip"))
    hidden = cells.filter(pl.col("suppressed").fill_null(False))
    if hidden.height:  # hidden cells are shown as hidden ('skjult'), never as a gap alone
        chart_data = pl.concat([chart_data.with_columns(
            pl.lit(None, pl.String).alias("hidden_text")),
            ui.with_term_labels(hidden, lang, short=True).select(
                "skole", "x", *[pl.lit(None, pl.Float64).alias(c)
                                for c in ("value", "ci_low", "ci_high")],
                pl.lit(ctx.t("landing.cell_hidden")).alias("tooltip"),
                pl.lit(ctx.t("landing.cell_hidden")).alias("hidden_text"))],
            how="vertical_relaxed")
    chart = charts.small_multiples(chart_data, kind=kind, lang=lang,
                                   order=ui.term_order(terms, lang, short=True))
    charts.show_chart(chart, _long_table(ctx, cells, kind, value, low, high), lang,
                      key="ov_multiples", file_name=f"lmp_skoler_over_tid_{lang}",
                      alt_text=ctx.t("ov_multiples_title"))


def _comparison(ctx, indicator: str, kind: str, kommune: str | None) -> None:
    lang = ctx.lang
    rows = _series_rows(ctx, indicator, kommune)
    nat = _national(ctx, indicator)
    frames = []
    if rows.height:
        frames.append(rows.select(
            "series", "term", "value", "ci_low", "ci_high", "n_display",
            pl.col("suppressed").fill_null(False)))
    if nat.height:
        frames.append(nat.select(
            pl.format("nasjon_{}", pl.col("trinn")).alias("series"), "term",
            (pl.col("value") / 100).alias("value"),
            pl.lit(None, dtype=pl.Float64).alias("ci_low"),
            pl.lit(None, dtype=pl.Float64).alias("ci_high"),
            pl.col("n_answered").cast(pl.String).fill_null("*").alias("n_display"),
            pl.col("suppressed").fill_null(False)))
    if not frames:
        st.caption(ctx.t("no_rows"))
        return
    long = pl.concat(frames, how="vertical_relaxed")
    terms = sorted(set(long["term"].to_list()), key=term_index)
    own = _own_schools(ctx)
    labels = {
        "deltaker": ctx.t("ov_own_schools") if own else ctx.t("deltaker"),
        "sammenligning": ctx.t("ov_comparison_programme") if own else ctx.t("sammenligning"),
        "nasjon_7": f"{ctx.t('nasjonalt')}, {ctx.t('grade_n', n=7)}",
        "nasjon_10": f"{ctx.t('nasjonalt')}, {ctx.t('grade_n', n=10)}",
    }
    visible = long.filter(~pl.col("suppressed") & pl.col("value").is_not_null())
    labelled = ui.with_term_labels(visible, lang)
    chart_data = labelled.with_columns(
        each_row(labelled, ("value", "ci_low", "ci_high"),
                 lambda r: fmt_value_ci(r["value"], r["ci_low"], r["ci_high"], kind, lang),
                 ).alias("tooltip"))
    chart = charts.series_chart(chart_data, kind=kind, lang=lang,
                                order=ui.term_order(terms, lang), series_labels=labels)
    table = ui.series_table(ctx, long, labels, kind,
                            lookup(long, "term", lambda x: term_label(x, lang)))
    charts.show_chart(chart, table, lang, key="ov_compare",
                      file_name=f"lmp_sammenligning_{lang}", alt_text=ctx.t("ov_compare_title"))
    st.caption(ctx.t("ov_compare_caption"))
    if own:
        st.caption(ctx.t("ov_own_method"))


def _attention(ctx, indicator: str, kind: str, schools: pl.DataFrame) -> None:
    lang = ctx.lang
    st.caption(ctx.t("ov_attention_caption"))
    ranked = data.attention(ctx.src, ctx.role, indicator)
    ranked = ui.with_school_labels(
        ranked.filter(pl.col("skole_orgnr").is_in(schools["skole_orgnr"].to_list())), ctx)
    if ranked.height == 0:
        st.caption(ctx.t("no_rows"))
        return
    if (ranked["reference_label"] == "deltaker").any():
        st.caption(ctx.t("na_reference_programme"))
    info = catalogue.indicator_catalogue().get(indicator)
    bad_high = not (info.higher_is_better if info else False)
    level_sign = ctx.t("att_above") if bad_high else ctx.t("att_below")

    def signals(r: dict) -> str:
        out = []
        if r["above_reference"]:
            out.append(level_sign)
        if r["clear_worsening"]:
            out.append(ctx.t("att_worse"))
        return "; ".join(out) or ctx.t("att_none")

    rows = []
    for r in ranked.iter_rows(named=True):
        change = (f"{fmt_change(r['change'], kind, lang)} "
                  f"({fmt_change_interval(r['change_ci_low'], r['change_ci_high'], kind, lang)})"
                  f" – {verdict_text(r['change_verdict'], lang)}"
                  if r["change"] is not None else "–")
        rows.append({
            ctx.t("att_rank"): str(r["rank"]),
            ctx.t("school"): r["skole"],
            ctx.t("rolle"): rolle_label(r["rolle"], lang),
            ctx.t("term"): term_label(r["term"], lang),
            ctx.t("value"): fmt_value_ci(r["value"], r["ci_low"], r["ci_high"], kind, lang),
            ctx.t("att_reference"): fmt_value(r["reference"], kind, lang),
            ctx.t("att_signals"): signals(r),
            ctx.t("att_change"): change,
        })
    table = charts.Table(pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}))
    order = ranked["skole"].to_list()
    chart_data = ranked.select(
        pl.col("skole").alias("label"), "value", "ci_low", "ci_high", "reference",
        pl.col("evidence").replace_strict(  # the legend in words, not 2/1/0
            {2: ctx.t("landing.evidence_2"), 1: ctx.t("landing.evidence_1"),
             0: ctx.t("landing.evidence_0")}, default="", return_dtype=pl.String)
        .alias("evidence"),
        each_row(ranked, ("value", "ci_low", "ci_high"),
                 lambda r: fmt_value_ci(r["value"], r["ci_low"], r["ci_high"], kind, lang),
                 ).alias("tooltip"))
    chart = charts.attention_chart(
        chart_data, order=order, kind=kind,
        x_title=ctx.t("axis_share") if kind == "share" else ctx.t("axis_mean"),
        school_title=ctx.t("school"), value_title=ctx.t("value"),
        signals_title=ctx.t("att_signals"),
        evidence=[ctx.t("landing.evidence_2"), ctx.t("landing.evidence_1"),
                  ctx.t("landing.evidence_0")])
    charts.show_chart(chart, table, lang, key="ov_attention",
                      file_name=f"lmp_oppfolging_{lang}", alt_text=ctx.t("ov_attention_title"),
                      expanded=True, static=True)


main()
