"""LMP dashboards: the Streamlit entry point (``lmp dashboard`` / ``lmp demo``).

Decides language, login/role and warehouse once per run, draws the sidebar and runs the chosen
page (``st.navigation``). Pages only format and draw; every number comes from
``lmp_analytics.api`` / ``lmp_analytics.readmodels`` through ``lmpdash.data``.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from lmpdash import context, data, ui_print  # noqa: E402
from lmpdash.i18n import t  # noqa: E402

log = logging.getLogger("lmp_dashboard")

PAGES = (
    ("app_pages/oversikt.py", "page_oversikt", "oversikt", ":material/dashboard:"),
    ("app_pages/skole.py", "page_skole", "skole", ":material/school:"),
    ("app_pages/faser.py", "page_faser", "faser", ":material/timeline:"),
    ("app_pages/sammenligning.py", "page_sammenligning", "sammenligning",
     ":material/compare_arrows:"),
    ("app_pages/datakvalitet.py", "page_datakvalitet", "datakvalitet", ":material/fact_check:"),
    ("app_pages/tilstandsrapport.py", "page_tilstand", "tilstandsrapport",
     ":material/description:"),
    ("app_pages/om_tallene.py", "page_om", "om-tallene", ":material/help:"),
)


def main() -> None:
    # An emoji icon is drawn by the browser itself; a Material icon would be fetched from
    # fonts.gstatic.com on every visit (a third party told of every user).
    st.set_page_config(page_title="LMP", page_icon="🏫", layout="wide")
    ui_print.inject()   # a browser print fits A4 (no sidebar, charts whole)
    lang = context.resolve_lang()
    context.language_picker(lang)
    src = data.source()

    try:
        with_login = context.login_configured()
    except context.LoginConfigError:
        log.exception("secrets.toml cannot be read")
        st.error(t("secrets_error", lang))
        st.stop()

    if with_login:
        result = context.login_flow(lang)
        if result is None:
            st.stop()
        role, email = result
        choices: tuple[str, ...] = ()
    else:
        if not context.demo_allowed():
            st.error(t("demo_public_refused", lang))
            st.stop()
        email = None
        choices = context.demo_role_choices(src)
        role = None

    names, kommuner = _unit_names(src)
    if role is None:
        labels = context.role_labels(choices, lang, names, kommuner)
        role = context.demo_role(choices, labels, lang)
        st.info(t("demo_banner", lang), icon=":material/science:")
    else:
        st.sidebar.caption(t("signed_in_as", lang, email=email))
        st.sidebar.caption(t("your_role", lang, role=context.role_label(
            role, lang, names, kommuner)))
        if st.sidebar.button(t("logout", lang)):
            st.logout()

    ctx = context.Context(lang=lang, role=role, login=with_login, email=email, src=src,
                          role_choices=choices)
    context.set_current(ctx)
    if src.exists:
        data.warm(src)
        when = dt.datetime.fromtimestamp(src.published or 0).strftime("%Y-%m-%d %H:%M")
        st.sidebar.caption(t("data_as_of", lang, when=when) + " · " + t("refresh_note", lang))

    pages = [st.Page(path, title=t(title, lang), url_path=url, icon=icon)
             for path, title, url, icon in PAGES]
    page = st.navigation(pages)
    try:
        page.run()
    except Exception:  # never a stack trace for users; the log has it
        log.exception("page %s failed", getattr(page, "url_path", "?"))
        st.error(t("error_generic", lang))


def _unit_names(src: data.Source) -> tuple[dict[str, str], dict[str, str]]:
    """School and kommune names for role labels (names are not scoped: they are the roster)."""
    if not src.exists:
        return {}, {}
    try:
        from lmp_analytics.privacy.roles import Role

        frame = data.schools(src, Role("program"))
    except Exception:
        return {}, {}
    schools = dict(zip(frame["skole_orgnr"].to_list(), frame["skole"].to_list(), strict=True))
    kommuner = dict(zip(frame["kommunenummer"].to_list(), frame["kommune"].to_list(),
                        strict=True))
    return schools, kommuner


main()
