"""The national-panel section of Sammenligning: the programme's effect in Elevundersøkelsen.

The programme role (and researchers) see the three comparison designs side by side, eligible
non-participants first, with the event study by years since start; a municipality sees its own
LMP schools against the eligible non-participants of the country as one unnamed group; a
supervisor sees the caption only. Numbers come from ``lmp_analytics.evaluation.national_view``
(fitted once per published warehouse file, never per page call) through ``lmpdash.data``."""

from __future__ import annotations

import polars as pl
import streamlit as st
from lmpdash import charts, data
from lmpdash.i18n import fmt_pp

from lmp_analytics.presentation.labels import national_note

DESIGN_KEYS = {"eligible": "np.design_eligible", "never-treated": "np.design_never",
               "not-yet-treated": "np.design_notyet", "naive": "np.design_naive"}
DESIGN_ORDER = list(DESIGN_KEYS)


def _grade(ctx, trinn: str) -> str:
    return ctx.t("np.grade_pooled") if trinn == "pooled" else ctx.t("np.grade_n", trinn=trinn)


def section(ctx) -> None:
    """Draw the section for the context's role."""
    st.subheader(ctx.t("np.title"))
    st.caption(ctx.t("np.intro"))
    st.caption(ctx.t("np.question_note"))
    if not data.has_national_schools(ctx.src):
        st.info(ctx.t("np.empty"))
        return
    if ctx.role.kind == "kommune":
        _kommune(ctx, next(iter(ctx.role.kommuner)))
    elif ctx.role.sees_all_units:
        _programme(ctx)


def _programme(ctx) -> None:
    try:
        view = data.national_programme(ctx.src)
    except Exception as exc:
        st.warning(ctx.t("np.error", reason=type(exc).__name__))
        return
    res = view.results
    lang = ctx.lang
    head = res.filter((pl.col("design") == "eligible") & (pl.col("trinn") == "pooled")
                      & pl.col("estimate_pp").is_not_null())
    if head.height:
        r = head.row(0, named=True)
        st.markdown(ctx.t("np.headline", est=fmt_pp(r["estimate_pp"], lang),
                          lo=fmt_pp(r["ci_low_pp"], lang), hi=fmt_pp(r["ci_high_pp"], lang),
                          trinn=_grade(ctx, "pooled")))
    else:
        st.info(ctx.t("np.headline_none"))
    st.warning(ctx.t("np.rtm"))
    order = {d: i for i, d in enumerate(DESIGN_ORDER)}
    table = res.sort(pl.col("design").replace_strict(order, default=99),
                     pl.col("trinn").replace_strict({"7": 0, "10": 1, "pooled": 2}, default=3))
    shown = pl.DataFrame({
        ctx.t("np.design"): [ctx.t(DESIGN_KEYS.get(d, d)) if d in DESIGN_KEYS else d
                             for d in table["design"]],
        ctx.t("np.grade"): [_grade(ctx, t) for t in table["trinn"]],
        ctx.t("np.estimate"): (table["estimate_pp"] * 100).round(6),
        ctx.t("ci_low"): (table["ci_low_pp"] * 100).round(6),
        ctx.t("ci_high"): (table["ci_high_pp"] * 100).round(6),
        ctx.t("np.lmp_schools"): table["n_lmp_schools"],
        ctx.t("np.comparison_schools"): table["n_comparison_schools"],
    })
    charts.show_table(charts.Table(shown, {ctx.t("np.estimate"): "pp", ctx.t("ci_low"): "pp",
                                           ctx.t("ci_high"): "pp"}),
                      lang, key="np_designs", file_name=f"lmp_elevundersokelsen_{lang}",
                      static=True)
    es = view.event_study.filter((pl.col("design") == "eligible")
                                 & (pl.col("trinn") == "pooled"))
    if es.height:
        st.markdown(f"**{ctx.t('np.es_title')}**")
        frame = es.select((pl.col("e")).alias("e"), (pl.col("att") * 100).alias("att"),
                          (pl.col("ci_low") * 100).alias("lo"),
                          (pl.col("ci_high") * 100).alias("hi"))
        chart = charts.national_event_chart(frame, x_title=ctx.t("np.years_since"),
                                            y_title=ctx.t("np.estimate"))
        table_es = charts.Table(frame.rename({"e": ctx.t("np.years_since"),
                                              "att": ctx.t("np.estimate"),
                                              "lo": ctx.t("ci_low"), "hi": ctx.t("ci_high")}),
                                {ctx.t("np.estimate"): "pp", ctx.t("ci_low"): "pp",
                                 ctx.t("ci_high"): "pp"})
        charts.show_chart(chart, table_es, lang, key="np_es",
                          file_name=f"lmp_elevundersokelsen_hendelse_{lang}",
                          alt_text=ctx.t("np.es_title"))
    notes = _notes(ctx, view)
    if notes:
        with st.expander(ctx.t("sa_tech_notes")):
            for line in notes:
                st.caption(line)


def _notes(ctx, view) -> list[str]:
    """The designs' notes in the reader's language: those of every row once, then each row's
    own under its design and grade. A sentence of the estimator this package does not know is
    shown as it came, as code (wraps, unlike st.code)."""
    rows = [(d, t) for d, t in view.results.select("design", "trinn").iter_rows()]
    per_row = {row: [national_note(n.key, dict(n.values), ctx.lang) or f"`{n.english()}`"
                     for n in view.notes.get(row, ())] for row in rows}
    common = [n for n in dict.fromkeys(x for v in per_row.values() for x in v)
              if all(n in v for v in per_row.values())]
    out = list(common)
    for (design, trinn), lines in per_row.items():
        own = [n for n in lines if n not in common]
        if own:
            name = ctx.t(DESIGN_KEYS[design]) if design in DESIGN_KEYS else design
            out.append(f"**{name}, {_grade(ctx, trinn)}:** " + " ".join(own))
    return out


def _kommune(ctx, kommune: str) -> None:
    frame = data.national_kommune(ctx.src, kommune)
    st.markdown(f"**{ctx.t('np.kommune_title')}**")
    eligible = frame.filter(pl.col("group") == "eligible")
    n = int(eligible["schools"].max() or 0) if eligible.height else 0
    st.caption(ctx.t("np.kommune_caption", n=n))
    if frame.height == 0:
        st.info(ctx.t("np.headline_none"))
        return
    shown = frame.select(
        pl.when(pl.col("group") == "eligible").then(pl.lit(ctx.t("np.eligible_group")))
        .otherwise(pl.col("skole")).alias("series"),
        pl.col("survey_year").alias("year"), (pl.col("share") * 100).round(6).alias("share"))
    chart = charts.national_kommune_chart(shown, x_title=ctx.t("np.year"),
                                          y_title=ctx.t("np.share"),
                                          colour_title=ctx.t("np.school"))
    table = charts.Table(shown.rename({"series": ctx.t("np.school"), "year": ctx.t("np.year"),
                                       "share": ctx.t("np.share")}),
                         {ctx.t("np.share"): "pctv"})
    charts.show_chart(chart, table, ctx.lang, key="np_kommune",
                      file_name=f"lmp_elevundersokelsen_kommune_{ctx.lang}",
                      alt_text=ctx.t("np.kommune_title"))
