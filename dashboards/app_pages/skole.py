"""Skole: one school over all terms with its phases shaded, every indicator with its 95 %
interval, the breakdown by grade and gender where min_n allows, and what changed since the
previous round."""

from __future__ import annotations

import polars as pl
import streamlit as st
from lmpdash import charts, data, school_view, ui
from lmpdash.context import current, query_param
from lmpdash.i18n import (
    breakdown_label,
    fmt_change,
    fmt_change_interval,
    fmt_value,
    fmt_value_ci,
    rolle_label,
    term_label,
    term_short,
    verdict_text,
)

from lmp_analytics.frames import each_row, lookup
from lmp_analytics.presentation.labels import power_caveat
from lmp_analytics.readmodels.catalogue import indicator_catalogue, value_columns
from lmp_analytics.stats.verdict import Verdict
from lmp_analytics.terms import term_index, term_order, terms_between

SCHOOL_KEY = "sk_school"


def main() -> None:
    ctx = current()
    lang = ctx.lang
    st.title(ctx.t("sk_title"))
    if not ui.require_data(ctx):
        return
    schools = data.schools(ctx.src, ctx.role)
    if schools.height == 0:
        st.info(ctx.t("sk_no_schools"))
        return
    orgnrs = schools["skole_orgnr"].to_list()
    names = ui.school_labels(ctx)
    participants = schools.filter(pl.col("rolle") == "deltaker")["skole_orgnr"].to_list()

    wanted = query_param("skole")
    if SCHOOL_KEY not in st.session_state or st.session_state[SCHOOL_KEY] not in orgnrs:
        st.session_state[SCHOOL_KEY] = wanted if wanted in orgnrs else (
            participants or orgnrs)[0]
    if wanted is not None and wanted not in orgnrs:
        # Same message for a school that does not exist and one outside the role's scope.
        st.warning(ctx.t("sk_not_available"))
    c1, c2 = st.columns(2)
    with c1:
        orgnr = st.selectbox(ctx.t("sk_pick"), orgnrs, key=SCHOOL_KEY,
                             format_func=lambda o: names.get(o, o))
    with c2:
        indicator = ui.indicator_picker(ctx, key="skole")
    if wanted is not None and wanted != orgnr:
        st.query_params["skole"] = orgnr
    school = schools.filter(pl.col("skole_orgnr") == orgnr).row(0, named=True)
    if school["rolle"] == "deltaker":
        st.caption(ctx.t("sk_facts", kommune=school["kommune"],
                         rolle=rolle_label(school["rolle"], lang), pulje=school["pulje"],
                         oppstart=term_label(school["oppstart"] or "", lang)))
    else:
        st.caption(ctx.t("sk_facts_comp", kommune=school["kommune"]))

    all_cells = data.indicators(ctx.src, ctx.role, "skole", school=orgnr)
    if all_cells.height == 0:
        st.info(ctx.t("sk_no_rounds", school=names.get(orgnr, school["skole"])))
        _phase_table(ctx, orgnr)
        return
    ui.suppression_caption(ctx)
    kind = ui.indicator_kind(indicator)
    cells = all_cells.filter(pl.col("indicator") == indicator)
    _changed(ctx, orgnr, indicator, kind)
    school_view.phases_section(ctx, orgnr, indicator, kind)
    school_view.versus_section(ctx, school, cells, indicator, kind)
    st.subheader(ctx.t("sk_time_title"))
    _time_chart(ctx, orgnr, cells, kind)
    _phase_table(ctx, orgnr)
    st.subheader(ctx.t("sk_all_title"))
    _all_indicators(ctx, all_cells)
    st.subheader(ctx.t("sk_breakdown_title"))
    _breakdowns(ctx, orgnr, indicator, kind, cells)
    _report_download(ctx, orgnr)


def _report_download(ctx, orgnr: str) -> None:
    """The school report of ``lmp report`` (same function), made on request and audited."""
    st.subheader(ctx.t("sk_report_title"))
    st.caption(ctx.t("sk_report_help"))
    key = f"sk_report_{orgnr}_{ctx.lang}_{ctx.role}"
    if st.button(ctx.t("sk_report_make"), key=f"{key}_make"):
        try:
            st.session_state[key] = data.school_report(ctx.src, ctx.role, orgnr, ctx.lang)
        except Exception:  # a user sees a polite message, the log gets the traceback
            data.log.exception("school report for %s failed", orgnr)
            st.warning(ctx.t("sk_report_failed"))
    if key in st.session_state:
        st.download_button(ctx.t("sk_report_download"), st.session_state[key],
                           file_name=f"skolerapport_{orgnr}_{ctx.lang}.pdf",
                           mime="application/pdf", key=f"{key}_download")


def _changed(ctx, orgnr: str, indicator: str, kind: str) -> None:
    lang = ctx.lang
    st.subheader(ctx.t("sk_changed_title"))
    changes = data.school_changes(ctx.src, ctx.role, orgnr, indicator=indicator)
    changes = changes.filter(pl.col("pre_round").is_not_null())
    label = ui.indicator_label(indicator, lang)
    if changes.height == 0:
        st.caption(ctx.t("sk_changed_none"))
        return
    last = changes.sort(term_order("post_term")).row(-1, named=True)
    diff = last["diff_pp"] if kind == "share" else last["diff_mean"]
    if last["suppressed"]:
        st.markdown(ctx.t("sk_changed_hidden", indicator=label))
    elif not last["tested"] or diff is None:
        st.markdown(ctx.t("sk_changed_untested", indicator=label))
    else:
        st.markdown(ctx.t(
            "sk_changed_line", indicator=label,
            pre=fmt_value(last["pre_value"], kind, lang),
            pre_term=term_label(last["pre_term"], lang),
            post=fmt_value(last["post_value"], kind, lang),
            post_term=term_label(last["post_term"], lang),
            diff=fmt_change(diff, kind, lang),
            lo=fmt_change(last["diff_ci_low"], kind, lang),
            hi=fmt_change(last["diff_ci_high"], kind, lang),
            verdict=verdict_text(last["verdict"], lang)))
        if last["verdict"] == Verdict.NO_CLEAR_CHANGE.value:
            st.caption(power_caveat(lang))
    rows = []
    for r in changes.sort(term_order("post_term")).iter_rows(named=True):
        d = r["diff_pp"] if kind == "share" else r["diff_mean"]
        rows.append({
            ctx.t("fa_pre_round"): term_label(r["pre_term"], lang),
            ctx.t("fa_post_round"): term_label(r["post_term"], lang),
            ctx.t("fa_pre"): fmt_value(r["pre_value"], kind, lang),
            ctx.t("fa_post"): fmt_value(r["post_value"], kind, lang),
            ctx.t("fa_change"): ctx.t("hidden") if r["suppressed"] else fmt_change(d, kind, lang),
            ctx.t("interval"): fmt_change_interval(r["diff_ci_low"], r["diff_ci_high"], kind,
                                                   lang),
            ctx.t("fa_verdict"): verdict_text(r["verdict"], lang),
        })
    with st.expander(ctx.t("table_alt")):
        charts.show_table(charts.Table(pl.DataFrame(rows, schema={k: pl.String for k in rows[0]})),
                          lang, key="sk_changes", file_name=f"lmp_skole_endringer_{lang}")


def _phase_rows(ctx, orgnr: str) -> pl.DataFrame:
    return data.phase_calendar(ctx.src, ctx.role).filter(pl.col("skole_orgnr") == orgnr)


def _time_chart(ctx, orgnr: str, cells: pl.DataFrame, kind: str) -> None:
    lang = ctx.lang
    value, low, high = value_columns(kind)
    cells = cells.sort(term_order("term"), "round")
    # A second round in a term (e.g. a targeted one) gets its own label on the axis.
    cells = cells.with_columns(pl.col("round").cum_count().over("term").alias("_k"))
    label = each_row(
        cells, ("term", "_k"),
        lambda r: term_label(r["term"], lang) + (f" ({r['_k']})" if r["_k"] > 1 else ""))
    cells = cells.with_columns(label.alias("x"))
    phases = _phase_rows(ctx, orgnr)
    all_terms = sorted(set(cells["term"].to_list()) | set(phases["termin"].to_list()),
                       key=term_index)
    if all_terms:
        all_terms = terms_between(all_terms[0], all_terms[-1])
    order = []
    for term in all_terms:
        xs = cells.filter(pl.col("term") == term)["x"].to_list()
        order += xs or [term_label(term, lang)]
    phase_data = phases.select(
        lookup(phases, "termin", lambda x: term_label(x, lang)).alias("x"),
        pl.format("{} {}", pl.lit(ctx.t("phase")), pl.col("fase")).alias("phase_label"),
        pl.format("F{}", pl.col("fase")).alias("phase_short"))
    visible = cells.filter(~pl.col("suppressed").fill_null(True) & pl.col(value).is_not_null())
    chart_data = visible.select(
        "x", pl.col(value).alias("value"), pl.col(low).alias("ci_low"),
        pl.col(high).alias("ci_high"), pl.col("n_display").alias("n_text"),
        each_row(visible, (value, low, high),
                 lambda r: fmt_value_ci(r[value], r[low], r[high], kind, lang),
                 ).alias("tooltip"))
    chart = charts.phase_chart(chart_data, phase_data, kind=kind, lang=lang, order=order)
    scale = 100.0 if kind == "share" else 1.0
    fmt = "pctv" if kind == "share" else "mean"
    phase_of = dict(zip(phases["termin"].to_list(), phases["fase"].to_list(), strict=True))
    frame = cells.select(
        pl.col("x").alias(ctx.t("round")),
        lookup(cells, "term", lambda x: str(phase_of.get(x, ""))).alias(ctx.t("phase")),
        *ui.interval_columns(ctx, value, low, high, scale=scale),
        pl.col("n_display").alias(ctx.t("n")),
        pl.col("suppressed").fill_null(False).alias(ctx.t("hidden_col")))
    table = charts.Table(frame, {ctx.t("value"): fmt, ctx.t("ci_low"): fmt,
                                 ctx.t("ci_high"): fmt}, hidden=ctx.t("hidden_col"))
    charts.show_chart(chart, table, lang, key="sk_time", file_name=f"lmp_skole_{orgnr}_{lang}",
                      alt_text=ctx.t("sk_time_title"))
    st.caption(ctx.t("sk_time_caption"))


def _phase_table(ctx, orgnr: str) -> None:
    phases = _phase_rows(ctx, orgnr)
    if phases.height == 0:
        return
    lang = ctx.lang
    frame = phases.select(
        pl.col("fase").cast(pl.String).alias(ctx.t("phase")),
        lookup(phases, "termin", lambda x: term_label(x, lang)).alias(ctx.t("term")),
        pl.col("kilde").replace_strict({"faser": ctx.t("source_faser"),
                                        "program": ctx.t("source_program")},
                                       default=pl.col("kilde")).alias(" "))
    with st.expander(ctx.t("phases_table")):
        charts.show_table(charts.Table(frame), lang, key="sk_phases",
                          file_name=f"lmp_faser_{orgnr}_{lang}")


def _all_indicators(ctx, cells: pl.DataFrame) -> None:
    """Every indicator x round, value with its 95 % interval (text), hidden cells marked."""
    lang = ctx.lang
    catalogue = indicator_catalogue()
    cells = cells.sort(term_order("term"), "round")
    cells = cells.with_columns(pl.col("round").rank("dense").over("term").alias("_k"))
    rounds = cells.select("term", "round", "_k").unique().sort(term_order("term"), "_k")
    col_of = {}
    for term, rnd, k in rounds.iter_rows():
        col_of[rnd] = term_short(term, lang) + (f" ({k})" if k > 1 else "")
    by = {(r["indicator"], r["round"]): r for r in cells.iter_rows(named=True)}
    rows = []
    for ind, info in catalogue.items():
        row = {ctx.t("indicator"): info.label(lang)}
        for rnd, col in col_of.items():
            cell = by.get((ind, rnd))
            if cell is None:
                row[col] = ctx.t("not_measured")
            elif cell["suppressed"]:
                row[col] = ctx.t("hidden")
            else:
                value, low, high = value_columns(info.kind)
                row[col] = fmt_value_ci(cell[value], cell[low], cell[high], info.kind, lang)
        rows.append(row)
    table = charts.Table(pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}))
    charts.show_table(table, lang, key="sk_all", file_name=f"lmp_skole_indikatorer_{lang}",
                      static=True)   # wraps: every round fits 1280 px


def _breakdowns(ctx, orgnr: str, indicator: str, kind: str, cells: pl.DataFrame) -> None:
    lang = ctx.lang
    value, low, high = value_columns(kind)
    rounds = cells.sort(term_order("term"), "round", descending=True)["round"].unique(
        maintain_order=True).to_list()
    term_of = dict(zip(cells["round"].to_list(), cells["term"].to_list(), strict=True))
    if not rounds:
        return
    rnd = st.selectbox(ctx.t("sk_breakdown_round"), rounds, key="sk_breakdown_round",
                       format_func=lambda r: term_label(term_of.get(r, ""), lang)
                       + ("" if r.endswith(":1") else f" ({r.rsplit(':', 1)[-1]})"))
    cols = st.columns(2)
    for col, by in zip(cols, ("trinn", "kjonn"), strict=True):
        with col:
            parts = data.indicators(ctx.src, ctx.role, "skole", indicator=indicator, by=by,
                                    school=orgnr)
            parts = parts.filter(pl.col("round") == rnd)
            if by == "trinn":
                parts = parts.sort(pl.col("breakdown_value").cast(pl.Int64, strict=False))
            else:
                order = {"jente": 0, "gutt": 1, "annet": 2, "ukjent": 3}
                parts = parts.sort(pl.col("breakdown_value").replace_strict(
                    order, default=9, return_dtype=pl.Int64))
            parts = parts.with_columns(lookup(
                parts, "breakdown_value", lambda v, by=by: breakdown_label(by, v, lang),
            ).alias("label"))
            title = ctx.t(by)
            visible = parts.filter(~pl.col("suppressed").fill_null(True)
                                   & pl.col(value).is_not_null())
            chart_data = visible.select(
                "label", pl.col(value).alias("value"), pl.col(low).alias("ci_low"),
                pl.col(high).alias("ci_high"),
                each_row(visible, (value, low, high),
                         lambda r: fmt_value_ci(r[value], r[low], r[high], kind, lang),
                         ).alias("tooltip"))
            hidden = parts.filter(pl.col("suppressed").fill_null(False))["label"].to_list()
            chart = charts.breakdown_chart(chart_data, kind=kind, lang=lang,
                                           order=parts["label"].to_list(), title=title,
                                           hidden=hidden)
            scale = 100.0 if kind == "share" else 1.0
            fmt = "pctv" if kind == "share" else "mean"
            frame = parts.select(
                pl.col("label").alias(title),
                *ui.interval_columns(ctx, value, low, high, scale=scale),
                pl.col("n_display").alias(ctx.t("n")),
                pl.col("suppressed").fill_null(False).alias(ctx.t("hidden_col")))
            table = charts.Table(frame, {ctx.t("value"): fmt, ctx.t("ci_low"): fmt,
                                         ctx.t("ci_high"): fmt}, hidden=ctx.t("hidden_col"))
            charts.show_chart(chart if parts.height else None, table, lang,
                              key=f"sk_{by}", file_name=f"lmp_skole_{by}_{lang}",
                              alt_text=f"{ctx.t('sk_breakdown_title')}: {title}")


main()
