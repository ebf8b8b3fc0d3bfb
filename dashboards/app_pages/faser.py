"""Faser: before/after each phase per school - the pre(k)/post(k) rounds named, the change with
its 95 % interval and the test used, all vs linked respondents, and the regression-to-the-mean
caveat where it applies."""

from __future__ import annotations

import polars as pl
import streamlit as st
from lmpdash import charts, data, ui
from lmpdash.context import current
from lmpdash.i18n import (
    fmt_change,
    fmt_change_interval,
    term_label,
    test_label,
    verdict_text,
)

from lmp_analytics.frames import each_row, lookup
from lmp_analytics.presentation.labels import no_before_caveat, power_caveat, rtm_caveat
from lmp_analytics.stats.verdict import Verdict

PHASES = ("1", "2", "3", "4", "program")


def main() -> None:
    ctx = current()
    lang = ctx.lang
    st.title(ctx.t("fa_title"))
    st.caption(ctx.t("fa_intro"))
    if not ui.require_data(ctx):
        return
    c1, c2 = st.columns(2)
    with c1:
        indicator = ui.indicator_picker(ctx, key="faser")
    with c2:
        phase = st.selectbox(ctx.t("fa_pick"), PHASES, key="fa_phase",
                             format_func=lambda p: ctx.t("programme_span") if p == "program"
                             else ctx.t("phase_n", k=p))
    kind = ui.indicator_kind(indicator)
    changes = data.compare(ctx.src, ctx.role, indicator=indicator, phase=phase)
    changes = ui.with_school_labels(changes.sort("kommunenummer", "skole"), ctx)
    if changes.height == 0:
        st.info(ctx.t("fa_no_rows"))
        return
    ui.suppression_caption(ctx)
    diff_col = "diff_pp" if kind == "share" else "diff_mean"
    scale = 100.0 if kind == "share" else 1.0

    visible = changes.filter(~pl.col("suppressed").fill_null(True)
                             & pl.col(diff_col).is_not_null()
                             & pl.col("diff_ci_low").is_not_null())
    if visible.filter(pl.col("rtm_warning").fill_null(False)).height:
        st.warning(rtm_caveat(lang), icon=":material/trending_down:")
    st.caption(power_caveat(lang))
    if phase in ("1", "program") and not data.pre_programme_rounds(ctx.src, ctx.role):
        st.info(no_before_caveat(lang), icon=":material/info:")
    if changes.filter(pl.col("pre_round").is_not_null()
                      & pl.col("post_round").is_not_null()).height == 0:
        st.info(ctx.t("na_phase_pairs"))

    st.subheader(ctx.t("fa_chart_title"))
    chart_data = visible.select(
        pl.format("{} ({} → {})", pl.col("skole"),
                  lookup(visible, "pre_term", lambda x: term_label(x, lang)),
                  lookup(visible, "post_term", lambda x: term_label(x, lang))).alias("label"),
        (pl.col(diff_col) * scale).alias("change"),
        (pl.col("diff_ci_low") * scale).alias("ci_low"),
        (pl.col("diff_ci_high") * scale).alias("ci_high"),
        lookup(visible, "verdict", lambda v: verdict_text(v, lang)).fill_null(
            verdict_text(Verdict.NO_CLEAR_CHANGE.value, lang)).alias("verdict_label"),
        each_row(visible, (diff_col, "diff_ci_low", "diff_ci_high"), lambda r: (
            f"{fmt_change(r[diff_col], kind, lang)} "
            f"({fmt_change_interval(r['diff_ci_low'], r['diff_ci_high'], kind, lang)})"),
        ).alias("tooltip"))
    x_title = ctx.t("axis_change_pp") if kind == "share" else ctx.t("axis_change_mean")
    verdicts = [verdict_text(v.value, lang) for v in Verdict]
    chart = charts.change_chart(chart_data, kind=kind, lang=lang, x_title=x_title,
                                domain=verdicts) if chart_data.height else None
    main_table, detail = _tables(ctx, changes, kind, diff_col, scale)
    charts.show_chart(chart, main_table, lang, key="fa_changes",
                      file_name=f"lmp_faser_{phase}_{lang}", alt_text=ctx.t("fa_chart_title"),
                      expanded=True, static=True)
    with st.expander(ctx.t("fa_detail")):   # the test used, responses and linked pupils
        charts.show_table(detail, lang, key="fa_detail",
                          file_name=f"lmp_faser_{phase}_detaljer_{lang}", static=True)
    st.caption(ctx.t("fa_linked_caption", min_n=ui.min_n_value()))


DETAIL = ("fa_test", "fa_n_pre", "fa_n_post", "fa_linked", "fa_linked_change")


def _tables(ctx, changes: pl.DataFrame, kind: str, diff_col: str,
            scale: float) -> tuple[charts.Table, charts.Table]:
    """The change per school (rounds, before, after, change with interval, verdict) and, split
    off so that each fits 1280 px, its detail (test, responses, same pupils), row for row."""
    lang = ctx.lang
    missing = ctx.t("fa_missing_round")
    fmt_v = "pctv" if kind == "share" else "mean"
    fmt_d = "pp" if kind == "share" else "meand"
    rows = []
    for r in changes.iter_rows(named=True):
        def num(x, r=r):
            return None if x is None or r["suppressed"] else round(float(x) * scale, 2)

        # A change without a pre or post round is not available ("–", "mangler runde"), not
        # hidden: its numbers are empty either way, the label says why.
        unavailable = r["pre_round"] is None or r["post_round"] is None

        rows.append({
            ctx.t("school"): r["skole"],
            ctx.t("fa_pre_round"): term_label(r["pre_term"], lang) if r["pre_round"] else missing,
            ctx.t("fa_post_round"): term_label(r["post_term"], lang) if r["post_round"]
            else missing,
            ctx.t("fa_pre"): num(r["pre_value"]),
            ctx.t("fa_post"): num(r["post_value"]),
            ctx.t("fa_change"): num(r[diff_col]),
            ctx.t("ci_low"): num(r["diff_ci_low"]),
            ctx.t("ci_high"): num(r["diff_ci_high"]),
            ctx.t("fa_test"): "" if r["suppressed"] else test_label(
                r["test"] if r["tested"] else None, lang),
            ctx.t("fa_verdict"): "" if r["suppressed"] else verdict_text(r["verdict"], lang),
            ctx.t("fa_n_pre"): r["pre_n"],
            ctx.t("fa_n_post"): r["post_n"],
            ctx.t("fa_linked"): r["linked_n"],
            ctx.t("fa_linked_change"): num(r["linked_diff"]),
            ctx.t("hidden_col"): bool(r["suppressed"]) and not unavailable,
        })
    floats = (ctx.t("fa_pre"), ctx.t("fa_post"), ctx.t("fa_change"), ctx.t("ci_low"),
              ctx.t("ci_high"), ctx.t("fa_linked_change"))
    ints = (ctx.t("fa_n_pre"), ctx.t("fa_n_post"), ctx.t("fa_linked"))
    schema = {k: pl.Float64 if k in floats else pl.Int64 if k in ints
              else pl.Boolean if k == ctx.t("hidden_col") else pl.String for k in rows[0]}
    frame = pl.DataFrame(rows, schema=schema)
    formats = {ctx.t("fa_pre"): fmt_v, ctx.t("fa_post"): fmt_v, ctx.t("fa_change"): fmt_d,
               ctx.t("ci_low"): fmt_d, ctx.t("ci_high"): fmt_d,
               ctx.t("fa_linked_change"): fmt_d, ctx.t("fa_n_pre"): "int",
               ctx.t("fa_n_post"): "int", ctx.t("fa_linked"): "int"}
    detail = [ctx.t(k) for k in DETAIL]
    keep = [ctx.t("school"), ctx.t("fa_pre_round")]
    main_cols = [c for c in frame.columns if c not in detail]
    detail_cols = keep + detail + [ctx.t("hidden_col")]
    return (charts.Table(frame.select(main_cols), formats, hidden=ctx.t("hidden_col")),
            charts.Table(frame.select(detail_cols), formats, hidden=ctx.t("hidden_col")))


main()
