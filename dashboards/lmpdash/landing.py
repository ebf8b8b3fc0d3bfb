"""The landing panel ("did it work here?") and the alert list, drawn from
:mod:`lmp_analytics.readmodels.landing` through the data layer. Formats and draws only."""

from __future__ import annotations

import polars as pl
import streamlit as st

from . import charts, data
from .context import Context
from .i18n import (
    fmt_change,
    fmt_change_interval,
    fmt_value,
    term_label,
    verdict_text,
)
from .ui import indicator_label, with_school_labels

PHASES = ("1", "2", "3", "4")


def scope_text(ctx: Context) -> str:
    """Whose schools the panel pools, in words."""
    role = ctx.role
    if role.kind == "kommune":
        kommuner = data.kommuner(ctx.src, role)
        names = ", ".join(kommuner["kommune"].to_list()) or ", ".join(sorted(role.kommuner))
        return ctx.t("landing.scope_kommune", kommune=names)
    if role.kind == "veileder":
        return ctx.t("landing.scope_veileder")
    return ctx.t("landing.scope_program")


def phase_name(ctx: Context, phase: str) -> str:
    return ctx.t("landing.phase_program") if phase == "program" else ctx.t(
        "landing.phase", phase=phase)


def _terms(text: str | None, lang: str) -> str:
    if not text:
        return "–"
    return ", ".join(term_label(x.strip(), lang) for x in text.split(","))


def _change_line(ctx: Context, row: dict, kind: str) -> str:
    lang = ctx.lang
    if row["tested"]:
        ci = fmt_change_interval(row["ci_low"], row["ci_high"], kind, lang)
        return ctx.t("landing.ci_line", ci=ci, verdict=verdict_text(row["verdict"], lang))
    return ctx.t("landing.no_interval")


def _adjusted_line(ctx: Context, row: dict, kind: str, *, short: bool = False) -> str:
    lang = ctx.lang
    if row["adjusted"] is not None:
        if row["adjusted_tested"]:
            ci = fmt_change_interval(row["adjusted_ci_low"], row["adjusted_ci_high"], kind, lang)
        else:
            ci = ctx.t("landing.adjusted_no_interval")
        label = ctx.t("landing.adjusted_short" if short else "landing.adjusted")
        return f"{label}: **{fmt_change(row['adjusted'], kind, lang)}** ({ci})"
    if row["adjusted_reason"] == "not_share":
        return ctx.t("landing.adjusted_none_not_share")
    return ctx.t("landing.adjusted_none_no_comparison")


def _schools_lines(ctx: Context, row: dict) -> list[str]:
    out = [ctx.t("landing.schools_line", n=row["schools"], down=row["down"],
                 unchanged=row["unchanged"], up=row["up"])]
    if row["untested"]:
        out.append(ctx.t("landing.schools_untested", n=row["untested"]))
    if row["hidden_schools"]:
        out.append(ctx.t("landing.hidden_schools", n=row["hidden_schools"]))
    if row["no_round_schools"]:
        out.append(ctx.t("landing.no_round_schools", n=row["no_round_schools"]))
    return out


def _card(ctx: Context, row: dict, kind: str, *, wide: bool = False) -> None:
    """One phase: before/after, the change with its interval, schools by verdict, the adjusted
    estimate and the regression-to-the-mean caution beside a drop (``wide``: two columns)."""
    lang = ctx.lang
    with st.container(border=True, key=f"landing_phase_{row['phase']}"):
        st.markdown(f"**{phase_name(ctx, row['phase'])}**")
        if row["suppressed"]:
            reason = row["suppression_reason"]
            key = {"no_round": "landing.no_round", "no_schools": "landing.no_schools"}.get(
                reason, "landing.all_hidden")
            st.caption(ctx.t(key))
            for line in _schools_lines(ctx, row)[1:]:
                st.caption(line)
            return
        left, right = st.columns(2) if wide else (st.container(), st.container())
        with left:
            st.markdown(ctx.t("landing.before_after",
                              pre=fmt_value(row["pre_value"], kind, lang),
                              post=fmt_value(row["post_value"], kind, lang)))
            st.markdown(f"### {fmt_change(row['change'], kind, lang)}")
            st.caption(_change_line(ctx, row, kind))
            st.caption(f"{ctx.t('landing.terms')}: {_terms(row['pre_terms'], lang)} → "
                       f"{_terms(row['post_terms'], lang)}")
        with right:
            st.markdown("  \n".join(_schools_lines(ctx, row)))
            st.markdown(_adjusted_line(ctx, row, kind, short=not wide))
            if row["rtm_warning"]:
                st.warning(ctx.t("landing.rtm" if wide else "landing.rtm_short"),
                           icon=":material/warning:")


def phase_panel(ctx: Context, indicator: str, kind: str) -> pl.DataFrame:
    """The panel: the whole period first, then each phase; a table + CSV underneath.
    Returns the summary it drew (for tests and the page)."""
    summary = data.phase_summary(ctx.src, ctx.role, indicator)
    scope = scope_text(ctx)
    title = (ctx.t("landing.title", scope=scope) if indicator == "mobbet" else
             ctx.t("landing.title_indicator", indicator=indicator_label(indicator, ctx.lang),
                   scope=scope))
    with st.container(key="landing_panel"):
        st.subheader(title)
        st.caption(ctx.t("landing.intro", scope=scope))
        rows = {r["phase"]: r for r in summary.iter_rows(named=True)}
        if "program" in rows:
            _card(ctx, rows["program"], kind, wide=True)
        cols = st.columns(len(PHASES))
        for col, phase in zip(cols, PHASES, strict=True):
            if phase in rows:
                with col:
                    _card(ctx, rows[phase], kind)
        with st.expander(ctx.t("landing.table")):
            charts.show_table(_table(ctx, summary, kind), ctx.lang, key="landing",
                              file_name=f"lmp_virket_det_{ctx.lang}", static=True)
    return summary


def _table(ctx: Context, summary: pl.DataFrame, kind: str) -> charts.Table:
    lang = ctx.lang
    rows = []
    for r in summary.iter_rows(named=True):
        hidden = r["suppressed"]
        cell = ctx.t("landing.cell_no_round") if r["suppression_reason"] in (
            "no_round", "no_schools") else ctx.t("landing.cell_hidden")
        change = (f"{fmt_change(r['change'], kind, lang)} ("
                  f"{fmt_change_interval(r['ci_low'], r['ci_high'], kind, lang)})")
        adj_ci = fmt_change_interval(r["adjusted_ci_low"], r["adjusted_ci_high"], kind, lang)
        adjusted = ("–" if r["adjusted"] is None else
                    f"{fmt_change(r['adjusted'], kind, lang)} ({adj_ci})")
        rows.append({
            ctx.t("landing.col_phase"): phase_name(ctx, r["phase"]),
            ctx.t("landing.col_before"): cell if hidden else fmt_value(r["pre_value"], kind,
                                                                         lang),
            ctx.t("landing.col_after"): cell if hidden else fmt_value(r["post_value"], kind,
                                                                        lang),
            ctx.t("landing.col_change"): cell if hidden else change,
            ctx.t("landing.col_down"): str(r["down"]),
            ctx.t("landing.col_unchanged"): str(r["unchanged"]),
            ctx.t("landing.col_up"): str(r["up"]),
            ctx.t("landing.col_hidden"): str(r["hidden_schools"]),
            ctx.t("landing.col_no_round"): str(r["no_round_schools"]),
            ctx.t("landing.col_adjusted"): cell if hidden else adjusted,
            ctx.t("landing.col_caution"): ctx.t("landing.caution_short") if r["rtm_warning"]
            else "",
        })
    return charts.Table(pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}))


def alert_list(ctx: Context, indicator: str, kind: str) -> pl.DataFrame:
    """The role's schools that went clearly the wrong way (latest round or phase)."""
    lang = ctx.lang
    found = data.alerts(ctx.src, ctx.role, indicator)
    with st.container(key="landing_alerts"):
        st.subheader(ctx.t("landing.alerts_title"))
        st.caption(ctx.t("landing.alerts_caption"))
        if found.height == 0:
            st.success(ctx.t("landing.alerts_none"), icon=":material/check_circle:")
            return found
        shown = with_school_labels(found, ctx)
        rows = []
        for r in shown.iter_rows(named=True):
            when = (ctx.t("landing.alerts_when_round") if r["scope"] == "runde"
                    else ctx.t("landing.alerts_when_phase", phase=r["scope"]))
            rows.append({
                ctx.t("landing.col_school"): r["skole"],
                ctx.t("landing.col_when"): f"{when}: {term_label(r['pre_term'], lang)} → "
                                           f"{term_label(r['post_term'], lang)}",
                ctx.t("landing.col_before"): fmt_value(r["pre_value"], kind, lang),
                ctx.t("landing.col_after"): fmt_value(r["post_value"], kind, lang),
                ctx.t("landing.col_change"): f"{fmt_change(r['change'], kind, lang)} ("
                f"{fmt_change_interval(r['ci_low'], r['ci_high'], kind, lang)})",
            })
        table = charts.Table(pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}))
        st.warning(ctx.t("landing.alerts_title") + f": {found.height}",
                   icon=":material/priority_high:")
        charts.show_table(table, lang, key="alerts", file_name=f"lmp_varsler_{lang}", static=True)
    return found
