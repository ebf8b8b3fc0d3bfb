"""Datakvalitet: participation and response rate per school x round, quarantined rows by
reason, item non-response, instrument versions and modules per round."""

from __future__ import annotations

import polars as pl
import streamlit as st
from lmpdash import charts, data, ui
from lmpdash.context import current
from lmpdash.i18n import fmt_num, fmt_pct, term_label

from lmp_analytics.frames import each_row, each_value, lookup
from lmp_analytics.ingest import reasons
from lmp_analytics.presentation.labels import question_wording
from lmp_analytics.readmodels.quality import LOW_RESPONSE_RATE
from lmp_analytics.terms import term_index, term_order

WARN = "⚠"


def _term_sort() -> pl.Expr:
    return term_order("term")


def main() -> None:
    ctx = current()
    st.title(ctx.t("dq_title"))
    st.caption(ctx.t("dq_intro"))
    if not ui.require_data(ctx):
        return
    ui.suppression_caption(ctx)
    st.subheader(ctx.t("dq_rate_title"))
    _rates(ctx)
    st.subheader(ctx.t("dq_quarantine_title"))
    _quarantine(ctx)
    st.subheader(ctx.t("dq_nonresponse_title"))
    _nonresponse(ctx)
    st.subheader(ctx.t("dq_instrument_title"))
    _instruments(ctx)


def _round_label(rates: pl.DataFrame, lang: str) -> pl.Series:
    return each_row(rates, ("term", "runde"),
                    lambda r: term_label(r["term"], lang) + ("" if str(r["runde"]) == "1"
                                                             else f" ({r['runde']})"))


def _rates(ctx) -> None:
    lang = ctx.lang
    st.caption(ctx.t("dq_rate_caption", low=fmt_pct(LOW_RESPONSE_RATE, lang, 0)))
    rates = data.response_rates(ctx.src, ctx.role)
    if rates.height == 0:
        st.caption(ctx.t("no_rows"))
        return
    rates = ui.with_school_labels(rates.sort("kommunenummer", "skole", _term_sort(), "runde"),
                                  ctx)
    _missing_enrolment(ctx, rates)
    grid = rates.filter(pl.col("is_primary") & ~pl.col("suppressed")
                        & pl.col("response_rate").is_not_null())
    terms = sorted(set(rates["term"].to_list()), key=term_index)
    labelled = ui.with_term_labels(grid, lang, short=True)
    chart_data = labelled.select(
        "x", pl.col("skole").alias("y"), pl.col("response_rate").alias("value"),
        each_row(labelled, ("response_rate", "low_rate"),  # the number in the cell
                 lambda r: fmt_pct(r["response_rate"], lang, 0) + (f" {WARN}" if r["low_rate"]
                                                                     else "")).alias("flag"),
        each_row(labelled, ("response_rate", "n", "enrolled"),
                 lambda r: f"{fmt_pct(r['response_rate'], lang)} ({fmt_num(r['n'], lang)} / "
                           f"{fmt_num(r['enrolled'], lang)})").alias("tooltip"))
    chart = charts.heatmap(chart_data, lang=lang, x_order=ui.term_order(terms, lang, short=True),
                           y_title=ctx.t("school"), colour_title=ctx.t("axis_rate"),
                           anchor=LOW_RESPONSE_RATE)
    frame = rates.select(
        pl.col("skole").alias(ctx.t("school")),
        _round_label(rates, lang).alias(ctx.t("round")),
        pl.col("versjon").alias(ctx.t("dq_version")),
        pl.col("formal").fill_null("").replace_strict(
            {"mistanke": ctx.t("formal_mistanke"), "forebyggende": ctx.t("formal_forebyggende")},
            default="").alias(ctx.t("dq_purpose")),
        pl.col("n").alias(ctx.t("dq_respondents")),
        pl.col("enrolled").alias(ctx.t("dq_enrolled")),
        (pl.col("response_rate") * 100).round(1).alias(ctx.t("dq_rate")),
        pl.when(pl.col("low_rate")).then(pl.lit(WARN)).otherwise(pl.lit("")).alias(" "),
        pl.col("suppressed").fill_null(False).alias(ctx.t("hidden_col")))
    table = charts.Table(frame, {ctx.t("dq_respondents"): "int", ctx.t("dq_enrolled"): "int",
                                 ctx.t("dq_rate"): "pctv"}, hidden=ctx.t("hidden_col"))
    charts.show_chart(chart if chart_data.height else None, table, lang, key="dq_rates",
                      file_name=f"lmp_svarprosent_{lang}", alt_text=ctx.t("dq_rate_title"))


def _missing_enrolment(ctx, rates: pl.DataFrame) -> None:
    """Say plainly when a rate cannot be computed because ``elevtall.csv`` lacks the school
    (an optional input): the table shows no number there, never 0."""
    rated = rates.filter(~pl.col("suppressed").fill_null(False)
                         & (pl.col("formal").fill_null("") != "mistanke"))
    missing = rated.filter(pl.col("enrolled").is_null())["skole"].unique(maintain_order=True)
    if missing.len() == 0:
        return
    if missing.len() == rated["skole"].n_unique():
        st.info(ctx.t("na_enrolment_all"))
    else:
        st.info(ctx.t("na_enrolment_some", n=missing.len(), schools=", ".join(missing)))


def _quarantine(ctx) -> None:
    lang = ctx.lang
    st.caption(ctx.t("dq_quarantine_caption"))
    rows = ui.with_school_labels(data.quarantine(ctx.src, ctx.role), ctx)
    if rows.height == 0 or rows.filter(pl.col("count").fill_null(1) > 0).height == 0:
        st.success(ctx.t("dq_quarantine_none"))
        return
    rows = rows.with_columns(
        lookup(rows, "reason_code", lambda code: reasons.label(code, lang)).alias("reason"))
    level_names = {"skole": ctx.t("school"), "kommune": ctx.t("kommune"),
                   "program": ctx.t("whole_programme")}
    top = "program" if ctx.role.sees_all_units else (
        "kommune" if ctx.role.kind == "kommune" else "skole")
    focus = rows.filter((pl.col("level") == top) & ~pl.col("suppressed")
                        & (pl.col("count") > 0))
    label = pl.col("reason") if top != "skole" else pl.format("{}: {}", pl.col("skole"),
                                                              pl.col("reason"))
    chart_data = focus.select(label.alias("label"), pl.col("count").alias("value"),
                              each_value(focus, "count", lambda v: fmt_num(v, lang)).alias(
                                  "tooltip"))
    chart = charts.bar_chart(chart_data, lang=lang, x_title=ctx.t("axis_rows"),
                             y_title=ctx.t("dq_reason"), x_format="d") \
        if chart_data.height else None
    frame = rows.filter(pl.col("count").fill_null(1) > 0).select(
        pl.col("level").replace_strict(level_names, default=pl.col("level")).alias(
            ctx.t("unit")),
        pl.coalesce("skole", "kommunenummer", pl.lit("")).alias(ctx.t("school")),
        pl.col("reason").alias(ctx.t("dq_reason")),
        pl.col("n").alias(ctx.t("dq_rows_read")),
        pl.col("count").alias(ctx.t("dq_rows_quarantined")),
        (pl.col("share") * 100).round(3).alias(ctx.t("value")),
        pl.col("suppressed").fill_null(False).alias(ctx.t("hidden_col")))
    table = charts.Table(frame, {ctx.t("dq_rows_read"): "int",
                                 ctx.t("dq_rows_quarantined"): "int", ctx.t("value"): "pctv"},
                         hidden=ctx.t("hidden_col"))
    charts.show_chart(chart, table, lang, key="dq_quarantine",
                      file_name=f"lmp_karantene_{lang}", alt_text=ctx.t("dq_quarantine_title"))


def _nonresponse(ctx) -> None:
    lang = ctx.lang
    st.caption(ctx.t("dq_nonresponse_caption"))
    rows = ui.with_school_labels(data.item_nonresponse(ctx.src, ctx.role), ctx)
    if rows.height == 0:
        st.caption(ctx.t("no_rows"))
        return
    schools = rows.filter((pl.col("level") == "skole") & (pl.col("item") == "alle"))
    terms = sorted(set(rows["term"].to_list()), key=term_index)
    order = ui.term_order(terms, lang, short=True)
    grid = schools.filter(~pl.col("suppressed") & pl.col("skipped_share").is_not_null())
    grid = grid.sort(_term_sort()).group_by("skole_orgnr", "term", maintain_order=True).first()
    labelled = ui.with_term_labels(grid, lang, short=True)
    chart_data = labelled.select(
        "x", pl.col("skole").alias("y"), pl.col("skipped_share").alias("value"),
        pl.lit("").alias("flag"),
        each_value(labelled, "skipped_share", lambda v: fmt_pct(v, lang)).alias("tooltip"))
    chart = charts.heatmap(chart_data, lang=lang, x_order=order, y_title=ctx.t("school"),
                           colour_title=ctx.t("axis_skipped"), fmt=".0%", scheme="oranges")
    frame = schools.sort("kommunenummer", "skole", _term_sort()).select(
        pl.col("skole").alias(ctx.t("school")),
        lookup(schools, "term", lambda x: term_label(x, lang)).alias(ctx.t("term")),
        pl.col("n").alias(ctx.t("dq_respondents")),
        (pl.col("skipped_share") * 100).round(6).alias(ctx.t("axis_skipped")),
        pl.col("suppressed").fill_null(False).alias(ctx.t("hidden_col")))
    table = charts.Table(frame, {ctx.t("dq_respondents"): "int",
                                 ctx.t("axis_skipped"): "pctv"}, hidden=ctx.t("hidden_col"))
    charts.show_chart(chart, table, lang, key="dq_nonresponse",
                      file_name=f"lmp_ubesvart_skoler_{lang}",
                      alt_text=ctx.t("dq_nonresponse_title"))

    st.markdown(f"**{ctx.t('dq_by_item')}**")
    items = rows.filter((pl.col("level") == "program") & (pl.col("item") != "alle"))
    items = items.with_columns(  # the question, not its id
        lookup(items, "item", lambda i: question_wording(i, lang)).alias("item"))
    visible = items.filter(~pl.col("suppressed") & pl.col("skipped_share").is_not_null())
    labelled = ui.with_term_labels(visible, lang, short=True)
    chart_data = labelled.select(
        "x", pl.col("item").alias("y"), pl.col("skipped_share").alias("value"),
        pl.lit("").alias("flag"),
        each_value(labelled, "skipped_share", lambda v: fmt_pct(v, lang)).alias("tooltip"))
    chart = charts.heatmap(chart_data, lang=lang, x_order=order, y_title=ctx.t("dq_item"),
                           colour_title=ctx.t("axis_skipped"), fmt=".0%", scheme="oranges")
    frame = items.sort(_term_sort(), "item").select(
        pl.col("item").alias(ctx.t("dq_item")),
        pl.col("module").alias(ctx.t("dq_module")),
        lookup(items, "term", lambda x: term_label(x, lang)).alias(ctx.t("term")),
        pl.col("n").alias(ctx.t("dq_respondents")),
        (pl.col("skipped_share") * 100).round(6).alias(ctx.t("axis_skipped")),
        pl.col("suppressed").fill_null(False).alias(ctx.t("hidden_col")))
    table = charts.Table(frame, {ctx.t("dq_respondents"): "int",
                                 ctx.t("axis_skipped"): "pctv"}, hidden=ctx.t("hidden_col"))
    charts.show_chart(chart if chart_data.height else None, table, lang,
                      key="dq_items", file_name=f"lmp_ubesvart_sporsmal_{lang}",
                      alt_text=ctx.t("dq_by_item"))


def _instruments(ctx) -> None:
    lang = ctx.lang
    rounds = data.instruments(ctx.src, ctx.role)
    if rounds.height == 0:
        st.caption(ctx.t("no_rows"))
        return
    rounds = ui.with_school_labels(
        rounds.sort("kommunenummer", "skole", _term_sort(), "runde"), ctx)
    short = {"spekter-2018": "2018", "spekter-2022-forebyggende": "2022-F",
             "spekter-2022-mistanke": "2022-M"}
    # One row per school and term (a column per term ran past 1280 px): the versions and
    # modules of the term's rounds together.
    cells: dict[tuple[str, str], list[str]] = {}
    for r in rounds.iter_rows(named=True):
        text = f"{short.get(r['versjon'], r['versjon'])} ({r['modules']})"
        cells.setdefault((r["skole"], r["term"]), []).append(text)
    frame = pl.DataFrame(
        [{ctx.t("school"): school, ctx.t("term"): term_label(term, lang),
          ctx.t("dq_instrument_col"): " + ".join(texts)}
         for (school, term), texts in cells.items()],
        schema={ctx.t("school"): pl.String, ctx.t("term"): pl.String,
                ctx.t("dq_instrument_col"): pl.String})
    table = charts.Table(frame)
    charts.show_table(table, lang, key="dq_instruments", file_name=f"lmp_versjoner_{lang}")
    st.caption("2018 = spekter-2018 · 2022-F = spekter-2022-forebyggende · "
               "2022-M = spekter-2022-mistanke")


main()
