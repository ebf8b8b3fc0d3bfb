"""Small page helpers shared by every page: empty states, selectors, name lookups."""

from __future__ import annotations

from collections import Counter

import polars as pl
import streamlit as st

from lmp_analytics.config import DEFAULT_MIN_N
from lmp_analytics.errors import LmpError
from lmp_analytics.frames import lookup
from lmp_analytics.readmodels.catalogue import indicator_catalogue

from . import data
from .context import Context, current, query_param
from .i18n import term_label, term_short


def require_data(ctx: Context) -> bool:
    """Show the empty state and return False when there is nothing to show yet."""
    if not ctx.src.exists:
        st.info(ctx.t("empty_warehouse"))
        return False
    if not data.terms(ctx.src):
        st.info(ctx.t("empty_warehouse"))
        return False
    return True


def indicator_picker(ctx: Context, *, key: str, shares_only: bool = False,
                     default: str = "mobbet") -> str:
    """A selectbox of indicators (headline first); ``?indikator=`` preselects once."""
    catalogue = indicator_catalogue()
    ids = [k for k, v in catalogue.items() if v.kind == "share" or not shares_only]
    state_key = f"ind_{key}"
    if state_key not in st.session_state:
        wanted = query_param("indikator")
        st.session_state[state_key] = wanted if wanted in ids else (
            default if default in ids else ids[0])
    elif st.session_state[state_key] not in ids:
        st.session_state[state_key] = ids[0]
    return st.selectbox(ctx.t("indicator"), ids, key=state_key,
                        format_func=lambda k: catalogue[k].label(ctx.lang))


def indicator_label(indicator: str, lang: str) -> str:
    info = indicator_catalogue().get(indicator)
    return info.label(lang) if info else indicator


def indicator_kind(indicator: str) -> str:
    info = indicator_catalogue().get(indicator)
    return info.kind if info else "share"


def term_order(terms: list[str], lang: str, short: bool = False) -> list[str]:
    fmt = term_short if short else term_label
    return [fmt(x, lang) for x in terms]


def school_names(ctx: Context) -> dict[str, str]:
    frame = data.schools(ctx.src, ctx.role)
    return dict(zip(frame["skole_orgnr"].to_list(), frame["skole"].to_list(), strict=True))


def min_n_value() -> int:
    """The threshold the page's numbers were suppressed with (the warehouse's recorded one)."""
    try:
        src = current().src
        return data.threshold(src) if src.exists else DEFAULT_MIN_N
    except (RuntimeError, ValueError, LmpError):
        return DEFAULT_MIN_N


def suppression_caption(ctx: Context) -> None:
    st.caption(ctx.t("suppression_caption", min_n=min_n_value()))


def with_term_labels(frame: pl.DataFrame, lang: str, column: str = "term",
                     short: bool = False) -> pl.DataFrame:
    fmt = term_short if short else term_label
    return frame.with_columns(lookup(frame, column, lambda x: fmt(x, lang)).alias("x"))


def school_labels(ctx: Context) -> dict[str, str]:
    """orgnr -> the school's name, with the kommune added where two schools in the role's
    scope share a name (and the orgnr if they still do)."""
    frame = data.schools(ctx.src, ctx.role)
    names = Counter(frame["skole"].to_list())   # counted once: list.count per school was
    out: dict[str, str] = {}                     # quadratic (1 s a run for 2,700 schools)
    for orgnr, name, kommune in frame.select("skole_orgnr", "skole", "kommune").iter_rows():
        out[orgnr] = f"{name} ({kommune})" if names[name] > 1 else name
    labels = Counter(out.values())
    return {o: (f"{v} {o}" if labels[v] > 1 else v) for o, v in out.items()}


def with_school_labels(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """Replace ``skole`` by the unambiguous label (rows without an orgnr keep theirs)."""
    if "skole_orgnr" not in frame.columns or frame.height == 0:
        return frame
    labels = school_labels(ctx)
    return frame.with_columns(
        pl.col("skole_orgnr").replace_strict(labels, default=None, return_dtype=pl.String)
        .fill_null(pl.col("skole") if "skole" in frame.columns else pl.lit(None))
        .alias("skole"))


def interval_columns(ctx: Context, value: str, low: str, high: str, *, scale: float,
                     label: str = "value") -> list[pl.Expr]:
    """An estimate and its 95 % interval as every table shows them: scaled (100 for shares, so
    percent), six decimals (the table shows one; rounding to two first rounded twice: 4.749 was
    shown as 4,8), under the translated headings ``label``, ``ci_low``, ``ci_high``."""
    return [(pl.col(value) * scale).round(6).alias(ctx.t(label)),
            (pl.col(low) * scale).round(6).alias(ctx.t("ci_low")),
            (pl.col(high) * scale).round(6).alias(ctx.t("ci_high"))]


def series_table(ctx: Context, long: pl.DataFrame, labels: dict[str, str], kind: str,
                 term: pl.Expr):
    """The table alternative of a series chart (``long``: series, term, value, ci_low, ci_high,
    n_display, suppressed), in time order, series named by ``labels``, ``term`` as shown,
    hidden rows marked: the same table on Oversikt and in the supervisor's school view."""
    from lmp_analytics.terms import term_order as term_key

    from .charts import Table

    scale = 100.0 if kind == "share" else 1.0
    fmt = "pctv" if kind == "share" else "mean"
    frame = long.sort(term_key("term"), "series").select(
        pl.col("series").replace_strict(labels, default=pl.col("series")).alias(
            ctx.t("series")),
        term.alias(ctx.t("term")),
        *interval_columns(ctx, "value", "ci_low", "ci_high", scale=scale),
        pl.col("n_display").alias(ctx.t("n")),
        pl.col("suppressed").alias(ctx.t("hidden_col")))
    return Table(frame, {ctx.t("value"): fmt, ctx.t("ci_low"): fmt, ctx.t("ci_high"): fmt},
                 hidden=ctx.t("hidden_col"))
