"""The supervisor's view of one school (on the Skole page): the school through every phase, and
the school against its pulje and the country. Formats and draws only; the numbers are
``api.compare`` (per phase), ``api.indicators`` (school and pulje cells) and
``readmodels.comparison.national_series`` through the data layer."""

from __future__ import annotations

import polars as pl
import streamlit as st

from lmp_analytics.frames import each_row, lookup
from lmp_analytics.readmodels import catalogue
from lmp_analytics.terms import term_index, term_order

from . import charts, data, ui
from .context import Context
from .i18n import (
    fmt_change,
    fmt_change_interval,
    fmt_value,
    fmt_value_ci,
    term_label,
    verdict_text,
)
from .landing import phase_name

PHASES = ("1", "2", "3", "4", "program")
NATIONAL_INDICATORS = ("mobbet", "mobbet_samlet")


def phases_section(ctx: Context, orgnr: str, indicator: str, kind: str) -> None:
    """One row per phase: before and after with their terms, the change with its interval and
    verdict; a hidden change reads 'skjult', a phase without both rounds 'ingen runde'."""
    lang = ctx.lang
    rows = []
    for phase in PHASES:
        found = data.compare(ctx.src, ctx.role, indicator=indicator, phase=phase)
        found = found.filter(pl.col("skole_orgnr") == orgnr)
        if found.height == 0:
            continue
        r = found.row(0, named=True)
        diff = r["diff_pp"] if kind == "share" else r["diff_mean"]
        if r["pre_round"] is None or r["post_round"] is None:
            none = ctx.t("landing.cell_no_round")
            before = none if r["pre_round"] is None else "–"
            after = none if r["post_round"] is None else "–"
            change = none
        elif r["suppressed"]:
            cell = ctx.t("landing.cell_hidden")
            before = after = change = cell
        else:
            before = fmt_value(r["pre_value"], kind, lang)
            after = fmt_value(r["post_value"], kind, lang)
            change = (f"{fmt_change(diff, kind, lang)} "
                      f"({fmt_change_interval(r['diff_ci_low'], r['diff_ci_high'], kind, lang)})")
        rows.append({
            ctx.t("landing.col_phase"): phase_name(ctx, phase),
            ctx.t("landing.col_before"): before + (
                f" ({term_label(r['pre_term'], lang)})" if r["pre_term"] else ""),
            ctx.t("landing.col_after"): after + (
                f" ({term_label(r['post_term'], lang)})" if r["post_term"] else ""),
            ctx.t("landing.col_change"): change,
            ctx.t("fa_verdict"): verdict_text(r["verdict"], lang),
        })
    if not rows:
        return
    with st.container(key="school_phases"):
        st.subheader(ctx.t("landing.sv_title"))
        st.caption(ctx.t("landing.sv_intro"))
        table = charts.Table(pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}))
        charts.show_table(table, lang, key="sv_phases", file_name=f"lmp_skole_faser_{lang}",
                          static=True)


def versus_section(ctx: Context, school: dict, cells: pl.DataFrame, indicator: str,
                   kind: str) -> None:
    """The school's primary round per term, its pulje pooled and the national figure; a
    hidden school term is drawn as the word 'skjult' on the axis, never as a gap alone."""
    lang = ctx.lang
    value, low, high = catalogue.value_columns(kind)
    primary = data.rounds(ctx.src, ctx.role).select(
        pl.col("round_id").alias("round"), "is_primary")
    own = cells.join(primary, on="round", how="left").filter(
        pl.col("is_primary").fill_null(True))
    frames = [own.select(
        pl.lit("skole").alias("series"), "term", pl.col(value).alias("value"),
        pl.col(low).alias("ci_low"), pl.col(high).alias("ci_high"), "n_display",
        pl.col("suppressed").fill_null(False))]
    labels = {"skole": ctx.t("landing.series_school")}
    if school["pulje"] is not None:
        pulje = data.indicators(ctx.src, ctx.role, "pulje", indicator=indicator)
        pulje = pulje.filter((pl.col("pulje").cast(pl.String) == str(school["pulje"]))
                             & (pl.col("rolle") == "deltaker"))
        frames.append(pulje.select(
            pl.lit("pulje").alias("series"), "term", pl.col(value).alias("value"),
            pl.col(low).alias("ci_low"), pl.col(high).alias("ci_high"), "n_display",
            pl.col("suppressed").fill_null(False)))
        labels["pulje"] = f"{ctx.t('landing.series_pulje')} ({school['pulje']})"
    if indicator in NATIONAL_INDICATORS and kind == "share":
        nat = data.national(ctx.src, ctx.role).filter(
            (pl.col("level") == "nasjon") & (pl.col("value_type") == "pct")
            & pl.col("trinn").is_in([7, 10]))
        if nat.height:
            frames.append(nat.select(
                pl.format("nasjon_{}", pl.col("trinn")).alias("series"), "term",
                (pl.col("value") / 100).alias("value"),
                pl.lit(None, pl.Float64).alias("ci_low"), pl.lit(None, pl.Float64).alias("ci_high"),
                pl.col("n_answered").cast(pl.String).fill_null("*").alias("n_display"),
                pl.col("suppressed").fill_null(False)))
            labels["nasjon_7"] = f"{ctx.t('nasjonalt')}, {ctx.t('grade_n', n=7)}"
            labels["nasjon_10"] = f"{ctx.t('nasjonalt')}, {ctx.t('grade_n', n=10)}"
    long = pl.concat(frames, how="vertical_relaxed")
    own_terms = set(own["term"].to_list())
    if own_terms:
        first = min(term_index(x) for x in own_terms)
        long = long.filter(term_order("term") >= first)
    if long.height == 0:
        return
    terms = sorted(set(long["term"].to_list()), key=term_index)
    order = [term_label(x, lang) for x in terms]
    long = long.with_columns(lookup(long, "term", lambda x: term_label(x, lang)).alias("x"))
    visible = long.filter(~pl.col("suppressed") & pl.col("value").is_not_null())
    visible = visible.with_columns(each_row(
        visible, ("value", "ci_low", "ci_high"),
        lambda r: fmt_value_ci(r["value"], r["ci_low"], r["ci_high"], kind, lang),
    ).alias("tooltip"))
    hidden = long.filter(pl.col("suppressed") & (pl.col("series") == "skole"))
    chart = charts.series_with_hidden(visible, hidden.select("x"), kind=kind, lang=lang,
                                      order=order, series_labels=labels, band=False)
    table = ui.series_table(ctx, long, labels, kind, pl.col("x"))
    with st.container(key="school_versus"):
        st.subheader(ctx.t("landing.sv_vs_title"))
        charts.show_chart(chart, table, lang, key="sv_versus",
                          file_name=f"lmp_skole_mot_pulje_{lang}",
                          alt_text=ctx.t("landing.sv_vs_title"))
        st.caption(ctx.t("landing.sv_vs_caption", pulje=school["pulje"] or "–"))
