"""Om tallene: definitions, methods, caveats, data sources and suppression rules in plain
language (bokmål, nynorsk and English; the texts are in the strings files)."""

from __future__ import annotations

import polars as pl
import streamlit as st
from lmpdash import charts, ui
from lmpdash.context import current

from lmp_analytics.presentation.labels import power_caveat, rtm_caveat
from lmp_analytics.readmodels import catalogue

#: Sections of the page: their titles and bodies are ``dashboard.om.s<N>_title/_body`` in
#: ``lmp_analytics/presentation/strings/<lang>.toml``; the caveats follow sections 2 and 3.
SECTIONS = 6
AFTER = {2: "power", 3: "rtm"}


def main() -> None:
    ctx = current()
    lang = ctx.lang
    st.title(ctx.t("om_title"))
    for i in range(1, SECTIONS + 1):
        st.subheader(ctx.t(f"om.s{i}_title"))
        st.markdown(ctx.t(f"om.s{i}_body", min_n=ui.min_n_value()))
        if AFTER.get(i) == "power":
            st.info(power_caveat(lang))
        if AFTER.get(i) == "rtm":
            st.warning(rtm_caveat(lang))
    st.subheader(ctx.t("indicator"))
    rows = [{ctx.t("indicator"): info.label(lang), "id": info.id,
             " ": ctx.t("axis_share") if info.kind == "share" else ctx.t("axis_mean")}
            for info in catalogue.indicator_catalogue().values()]
    charts.show_table(charts.Table(pl.DataFrame(rows)), lang, key="om_indicators",
                      file_name=f"lmp_indikatorer_{lang}")


main()
