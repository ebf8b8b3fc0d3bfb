"""Sammenligning: participants vs comparison schools (difference-in-differences), the programme
event study by terms since start with the pre-trend shown, and the national Pupil Survey."""

from __future__ import annotations

import polars as pl
import streamlit as st
from lmpdash import charts, data, national_panel, ui
from lmpdash.context import current
from lmpdash.i18n import (
    fmt_change,
    fmt_change_interval,
    fmt_pct_value,
    fmt_pp,
    fmt_value_ci,
    p_phrase,
    term_label,
)

from lmp_analytics.frames import each_row, each_value, lookup
from lmp_analytics.presentation.labels import estimator_note
from lmp_analytics.terms import term_index, term_order


def main() -> None:
    ctx = current()
    st.title(ctx.t("sa_title"))
    st.caption(ctx.t("sa_intro"))
    if not ui.require_data(ctx):
        return
    kommuner = data.kommuner(ctx.src, ctx.role)
    names = dict(zip(kommuner["kommunenummer"].to_list(), kommuner["kommune"].to_list(),
                     strict=True))
    c1, c2 = st.columns(2)
    with c1:
        indicator = ui.indicator_picker(ctx, key="sammenligning")
    options = ["", *kommuner["kommunenummer"].to_list()]
    with c2:
        own = ctx.role.kind == "kommune" and len(options) > 1   # default: own municipality
        kommune = st.selectbox(
            ctx.t("unit"), options, key="sa_unit", index=1 if own else 0,
            format_func=lambda k: f"{names.get(k, k)} ({k})" if k
            else ctx.t("whole_programme")) or None
    kind = ui.indicator_kind(indicator)
    # Researcher methods on request: a tab (expanders cannot hold the charts' own expanders).
    plain, analysts = st.tabs([ctx.t("landing.plain_tab"), ctx.t("landing.analysts")])
    with plain:
        st.subheader(ctx.t("sa_series_title"))
        series = _series(ctx, indicator, kommune)
        if series.height and series.filter(pl.col("series") == "sammenligning").height == 0:
            st.info(ctx.t("sa_no_comparison_spekter"))  # the usual case: Spekter comes with LMP
        _series_chart(ctx, series, kind)
        st.subheader(ctx.t("sa_nat_title"))
        _national(ctx)
        national_panel.section(ctx)
    with analysts:
        st.subheader(ctx.t("sa_did_title"))
        _did(ctx, indicator, kind, kommune, series)
        st.subheader(ctx.t("sa_es_title"))
        _event_study(ctx, indicator, kind)


def _series(ctx, indicator: str, kommune: str | None) -> pl.DataFrame:
    frame = data.comparison_series(ctx.src, ctx.role, indicator)
    if kommune is None:
        return frame.filter(pl.col("level") == "program")
    return frame.filter((pl.col("level") == "kommune") & (pl.col("kommunenummer") == kommune))


def _labels(ctx) -> dict[str, str]:
    return {"deltaker": ctx.t("deltaker"), "sammenligning": ctx.t("sammenligning")}


def _value_table(ctx, frame: pl.DataFrame, kind: str) -> charts.Table:
    lang = ctx.lang
    scale = 100.0 if kind == "share" else 1.0
    fmt = "pctv" if kind == "share" else "mean"
    out = frame.sort(term_order("term"), "series").select(
        pl.col("series").replace_strict(_labels(ctx), default=pl.col("series")).alias(
            ctx.t("series")),
        lookup(frame, "term", lambda x: term_label(x, lang)).alias(ctx.t("term")),
        *ui.interval_columns(ctx, "value", "ci_low", "ci_high", scale=scale),
        pl.col("n_display").alias(ctx.t("n")),
        pl.col("n_schools").alias(ctx.t("n_schools")),
        pl.col("suppressed").fill_null(False).alias(ctx.t("hidden_col")))
    return charts.Table(out, {ctx.t("value"): fmt, ctx.t("ci_low"): fmt, ctx.t("ci_high"): fmt,
                              ctx.t("n_schools"): "int"}, hidden=ctx.t("hidden_col"))


def _chart_rows(ctx, frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    lang = ctx.lang
    visible = frame.filter(~pl.col("suppressed").fill_null(True) & pl.col("value").is_not_null())
    labelled = ui.with_term_labels(visible, lang)
    return labelled.select(
        "x", "series", "value", "ci_low", "ci_high",
        each_row(labelled, ("value", "ci_low", "ci_high"),
                 lambda r: fmt_value_ci(r["value"], r["ci_low"], r["ci_high"], kind, lang),
                 ).alias("tooltip"))


def _series_chart(ctx, series: pl.DataFrame, kind: str) -> None:
    lang = ctx.lang
    if series.height == 0:
        st.caption(ctx.t("no_rows"))
        return
    terms = sorted(set(series["term"].to_list()), key=term_index)
    chart = charts.series_chart(_chart_rows(ctx, series, kind), kind=kind, lang=lang,
                                order=ui.term_order(terms, lang), series_labels=_labels(ctx))
    charts.show_chart(chart, _value_table(ctx, series, kind), lang, key="sa_series",
                      file_name=f"lmp_deltakere_sammenligning_{lang}",
                      alt_text=ctx.t("sa_series_title"))


def _did(ctx, indicator: str, kind: str, kommune: str | None, series: pl.DataFrame) -> None:
    lang = ctx.lang
    st.caption(ctx.t("sa_did_caption"))
    if kind != "share":
        st.info(ctx.t("sa_did_hidden"))
        return
    if series.height and series.filter(pl.col("series") == "sammenligning").height == 0:
        st.info(ctx.t("na_comparison"))
        return
    visible = series.filter(~pl.col("suppressed").fill_null(True))
    both = (visible.group_by("term").agg(pl.col("series").n_unique().alias("k"))
            .filter(pl.col("k") == 2)["term"].to_list())
    terms = sorted(both, key=term_index)
    if len(terms) < 2:
        st.info(ctx.t("sa_did_hidden"))
        return
    c1, c2 = st.columns(2)
    with c1:
        pre = st.selectbox(ctx.t("sa_pre_term"), terms[:-1], index=0, key="sa_pre",
                           format_func=lambda x: term_label(x, lang))
    later = [x for x in terms if term_index(x) > term_index(pre)]
    with c2:
        post = st.selectbox(ctx.t("sa_post_term"), later, index=len(later) - 1, key="sa_post",
                            format_func=lambda x: term_label(x, lang))
    result = data.did(ctx.src, ctx.role, indicator, pre, post, kommune).row(0, named=True)
    if result["suppressed"]:
        st.info(ctx.t("sa_did_hidden"))
    elif not result["tested"] or result["ci_low"] is None:
        st.info(ctx.t("sa_did_untested"))
    else:
        st.markdown(ctx.t(
            "sa_did_result", did=fmt_pp(result["did"], lang),
            lo=fmt_pp(result["ci_low"], lang), hi=fmt_pp(result["ci_high"], lang),
            p=p_phrase(result["p_value"], lang), tc=fmt_pp(result["treated_change"], lang),
            cc=fmt_pp(result["comparison_change"], lang)))
    two = series.filter(pl.col("term").is_in([pre, post]))
    chart = charts.did_chart(_chart_rows(ctx, two, kind), lang=lang,
                             order=[term_label(pre, lang), term_label(post, lang)],
                             series_labels=_labels(ctx))
    charts.show_chart(chart, _value_table(ctx, two, kind), lang, key="sa_did",
                      file_name=f"lmp_did_grupper_{pre}_{post}_{lang}",
                      alt_text=ctx.t("sa_did_title"))
    hidden = bool(result["suppressed"])

    def pp(x):
        return None if hidden or x is None else round(float(x) * 100, 2)

    did_frame = pl.DataFrame([{
        ctx.t("sa_pre_term"): term_label(pre, lang),
        ctx.t("sa_post_term"): term_label(post, lang),
        ctx.t("did_treated_change"): pp(result["treated_change"]),
        ctx.t("did_comparison_change"): pp(result["comparison_change"]),
        ctx.t("eu_did"): pp(result["did"]),
        ctx.t("ci_low"): pp(result["ci_low"]),
        ctx.t("ci_high"): pp(result["ci_high"]),
        "p": None if hidden or result["p_value"] is None else round(result["p_value"], 4),
        ctx.t("n_schools"): None if hidden or result["treated_schools"] is None
        else int(result["treated_schools"] + result["comparison_schools"]),
        ctx.t("hidden_col"): hidden,
    }], schema={ctx.t("sa_pre_term"): pl.String, ctx.t("sa_post_term"): pl.String,
                ctx.t("did_treated_change"): pl.Float64,
                ctx.t("did_comparison_change"): pl.Float64,
                ctx.t("eu_did"): pl.Float64, ctx.t("ci_low"): pl.Float64,
                ctx.t("ci_high"): pl.Float64, "p": pl.Float64, ctx.t("n_schools"): pl.Int64,
                ctx.t("hidden_col"): pl.Boolean})
    charts.show_table(charts.Table(did_frame, {
        ctx.t("did_treated_change"): "pp", ctx.t("did_comparison_change"): "pp",
        ctx.t("eu_did"): "pp",
        ctx.t("ci_low"): "pp", ctx.t("ci_high"): "pp", "p": "p", ctx.t("n_schools"): "int"},
        hidden=ctx.t("hidden_col")), lang, key="sa_did_result",
        file_name=f"lmp_did_{pre}_{post}_{lang}", static=True)


def _event_study(ctx, indicator: str, kind: str) -> None:
    lang = ctx.lang
    st.caption(ctx.t("sa_es_caption"))
    st.caption(ctx.t("sa_es_programme_note"))
    view = data.event_study(ctx.src, indicator)
    es = view.event_study
    if es.height == 0:
        st.info(ctx.t("sa_es_empty"))
        return
    scale = 100.0 if kind == "share" else 1.0
    if view.pre_trend_p is not None:
        key = "sa_pretrend_bad" if view.pre_trend_p < 0.05 else "sa_pretrend_ok"
        (st.warning if view.pre_trend_p < 0.05 else st.success)(
            ctx.t(key, p=p_phrase(view.pre_trend_p, lang), k=view.pre_trend_k))
    visible = es.filter(~pl.col("suppressed").fill_null(True) & pl.col("att").is_not_null())
    chart_data = visible.select(
        "e", (pl.col("att") * scale).alias("att"), (pl.col("ci_low") * scale).alias("ci_low"),
        (pl.col("ci_high") * scale).alias("ci_high"), "pre",
        pl.when(pl.col("pre")).then(pl.lit(ctx.t("pre_period")))
        .otherwise(pl.lit(ctx.t("post_period"))).alias("period"),
        each_row(visible, ("att", "ci_low", "ci_high"),
                 lambda r: f"{fmt_change(r['att'], kind, lang)} "
                           f"({fmt_change_interval(r['ci_low'], r['ci_high'], kind, lang)})",
                 ).alias("tooltip"))
    y_title = ctx.t("axis_effect_pp") if kind == "share" else ctx.t("axis_effect_mean")
    chart = charts.event_study_chart(chart_data, lang=lang, y_title=y_title)
    fmt = "pp" if kind == "share" else "meand"
    frame = es.select(
        pl.col("e").alias(ctx.t("axis_terms_since")),
        pl.when(pl.col("pre")).then(pl.lit(ctx.t("pre_period")))
        .otherwise(pl.lit(ctx.t("post_period"))).alias(" "),
        *ui.interval_columns(ctx, "att", "ci_low", "ci_high", scale=scale, label="estimate"),
        pl.col("n_display").alias(ctx.t("n")),
        pl.col("n_schools").alias(ctx.t("n_schools")),
        pl.col("suppressed").fill_null(False).alias(ctx.t("hidden_col")))
    table = charts.Table(frame, {ctx.t("estimate"): fmt, ctx.t("ci_low"): fmt,
                                 ctx.t("ci_high"): fmt, ctx.t("n_schools"): "int"},
                         hidden=ctx.t("hidden_col"))
    charts.show_chart(chart, table, lang, key="sa_es", file_name=f"lmp_hendelsesstudie_{lang}",
                      alt_text=ctx.t("sa_es_title"))
    summary = view.summary.select(
        pl.col("estimate").replace_strict(
            {"att": ctx.t("est_att"), "naive": ctx.t("est_naive"), "twfe": ctx.t("est_twfe")},
            default=pl.col("estimate")).alias(ctx.t("estimate")),
        *ui.interval_columns(ctx, "value", "ci_low", "ci_high", scale=scale),
        pl.col("schools").alias(ctx.t("n_schools")))
    st.markdown(f"**{ctx.t('sa_es_summary')}**")
    charts.show_table(charts.Table(summary, {ctx.t("value"): fmt, ctx.t("ci_low"): fmt,
                                             ctx.t("ci_high"): fmt, ctx.t("n_schools"): "int"}),
                      lang, key="sa_es_summary", file_name=f"lmp_virkning_{lang}")
    if view.warnings:
        with st.expander(ctx.t("sa_tech_notes")):
            for w in view.warnings:
                note = estimator_note(w, lang)
                if note is None:   # a library warning: shown as it came, as code that wraps
                    st.caption(f"`{w}`")
                else:
                    st.caption(note)


def _national(ctx) -> None:
    lang = ctx.lang
    st.caption(ctx.t("sa_nat_caption"))
    nat = data.national(ctx.src, ctx.role)
    nat = nat.filter((pl.col("value_type") == "pct") & pl.col("level").is_in(
        ["nasjon", "kommune"]))
    if nat.height == 0:
        st.info(ctx.t("sa_nat_empty"))
        return
    nat = nat.with_columns(pl.format(
        "{}, {}", pl.when(pl.col("level") == "nasjon").then(pl.lit(ctx.t("nasjonalt")))
        .otherwise(pl.col("unit_name")),
        lookup(nat, "trinn", lambda g: ctx.t("grade_n", n=g))).alias("series"))
    terms = sorted(set(nat["term"].to_list()), key=term_index)
    visible = nat.filter(~pl.col("suppressed") & pl.col("value").is_not_null())
    labelled = ui.with_term_labels(visible, lang)
    chart_data = labelled.select(
        "x", "series", (pl.col("value") / 100).alias("value"),
        pl.lit(None, dtype=pl.Float64).alias("ci_low"),
        pl.lit(None, dtype=pl.Float64).alias("ci_high"),
        each_value(labelled, "value", lambda v: fmt_pct_value(v, lang)).alias("tooltip"))
    chart = charts.series_chart(chart_data, kind="share", lang=lang,
                                order=ui.term_order(terms, lang), series_labels={})
    frame = nat.select(
        pl.col("series").alias(ctx.t("series")),
        lookup(nat, "term", lambda x: term_label(x, lang)).alias(ctx.t("term")),
        pl.col("value").alias(ctx.t("value")),
        pl.col("n_answered").alias(ctx.t("n")),
        pl.col("suppressed").alias(ctx.t("hidden_col")))
    table = charts.Table(frame, {ctx.t("value"): "pctv", ctx.t("n"): "int"},
                         hidden=ctx.t("hidden_col"))
    charts.show_chart(chart, table, lang, key="sa_nat", file_name=f"lmp_nasjonalt_{lang}",
                      alt_text=ctx.t("sa_nat_title"))

    autumn = [x for x in terms if x.endswith("H")]
    if len(autumn) < 2:
        return
    st.markdown(f"**{ctx.t('sa_bench_title')}**")
    st.caption(ctx.t("sa_bench_caption"))
    c1, c2 = st.columns(2)
    with c1:
        pre = st.selectbox(ctx.t("sa_pre_term"), autumn[:-1], index=0, key="sa_eu_pre",
                           format_func=lambda x: term_label(x, lang))
    later = [x for x in autumn if term_index(x) > term_index(pre)]
    with c2:
        post = st.selectbox(ctx.t("sa_post_term"), later, index=len(later) - 1,
                            key="sa_eu_post", format_func=lambda x: term_label(x, lang))
    bench = data.eu_benchmark(ctx.src, ctx.role, pre, post)
    if bench.height == 0:
        st.caption(ctx.t("no_rows"))
        return
    rows = bench.sort("level", "unit_name", "trinn")
    schools = rows.filter(pl.col("level") == "skole")
    whole = _bench_table(ctx, rows)
    file_name = f"lmp_mot_landet_{pre}_{post}_{lang}"
    if schools.height <= charts.ON_DEMAND_ROWS:
        charts.show_table(whole, lang, key="sa_bench", file_name=file_name, static=True)
        return
    # the schools' rows (hundreds in the programme) are drawn when asked for; the CSV has all
    charts.show_table(_bench_table(ctx, rows.filter(pl.col("level") != "skole")), lang,
                      key="sa_bench", file_name=file_name, static=True, download=whole)
    charts.on_demand_table(_bench_table(ctx, schools), lang, key="sa_bench_schools",
                           label=ctx.t("sa_bench_schools", n=schools.height))


def _bench_table(ctx, bench: pl.DataFrame) -> charts.Table:
    out = bench.select(
        lookup(bench, "level", lambda v: ctx.t(f"eu_level_{v}")).alias(ctx.t("level")),
        pl.col("unit_name").alias(ctx.t("name")),
        pl.col("trinn").cast(pl.Int64).alias(ctx.t("trinn")),
        pl.col("unit_pre").alias(ctx.t("eu_pre")),
        pl.col("unit_post").alias(ctx.t("eu_post")),
        pl.col("unit_change").alias(ctx.t("eu_unit_change")),
        pl.col("national_change").alias(ctx.t("eu_national_change")),
        pl.col("did").alias(ctx.t("eu_did")),
        (pl.col("unit_pre").is_null() | pl.col("unit_post").is_null()).alias(ctx.t("hidden_col")))
    return charts.Table(out, {ctx.t("eu_pre"): "pctv", ctx.t("eu_post"): "pctv",
                              ctx.t("eu_unit_change"): "pp",
                              ctx.t("eu_national_change"): "pp",
                              ctx.t("eu_did"): "pp", ctx.t("trinn"): "int"},
                        hidden=ctx.t("hidden_col"))


main()
