"""Tilstandsrapport: the municipality's state-report chapter as a download (the same function
as ``lmp tilstandsrapport``; audited)."""

from __future__ import annotations

import streamlit as st
from lmpdash import data, ui
from lmpdash.context import current

from lmp_analytics.reports.tilstand import FORMATS, filename
from lmp_analytics.terms import school_year

MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "pdf": "application/pdf", "html": "text/html", "md": "text/markdown"}


def main() -> None:
    ctx = current()
    st.title(ctx.t("tr_title"))
    st.caption(ctx.t("tr_intro"))
    if not ui.require_data(ctx):
        return
    kommuner = data.kommuner(ctx.src, ctx.role)
    if kommuner.height == 0:
        st.info(ctx.t("tr_none"))
        return
    names = dict(kommuner.select("kommunenummer", "kommune").iter_rows())
    kommune = st.selectbox(ctx.t("tr_kommune"), list(names), key="tr_kommune",
                           format_func=lambda k: f"{names.get(k) or k} ({k})")
    years = sorted({school_year(t) for t in data.terms(ctx.src)}, reverse=True)
    skoleaar = st.selectbox(ctx.t("tr_year"), years, key="tr_year")
    fmt = st.radio(ctx.t("tr_format"), FORMATS, key="tr_format", horizontal=True,
                   format_func=str.upper)
    key = f"tr_{kommune}_{skoleaar}_{fmt}_{ctx.lang}_{ctx.role}"
    if st.button(ctx.t("tr_make"), key="tr_make"):
        try:
            st.session_state[key] = data.tilstandsrapport(ctx.src, ctx.role, kommune, skoleaar,
                                                          ctx.lang, fmt)
        except Exception:  # a user sees a polite message, the log gets the traceback
            data.log.exception("tilstandsrapport for %s failed", kommune)
            st.warning(ctx.t("tr_failed"))
    if key in st.session_state:
        st.download_button(ctx.t("tr_download"), st.session_state[key],
                           file_name=filename(kommune, skoleaar, ctx.lang, fmt),
                           mime=MIME[fmt], key="tr_download")


main()
