"""Who may see what: login (st.login/st.user) with the role configuration, the polite refusal,
demo mode only on 127.0.0.1, manipulated query parameters, empty states."""

from __future__ import annotations

import polars as pl
from dash_helpers import PAGES, app, dataframes, open_page, problems, texts

from lmp_analytics.privacy.scope import scope

AUTH = {"auth": {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret",
    "client_id": "test-client",
    "client_secret": "test-secret",
    "server_metadata_url": "https://login.example.invalid/.well-known/openid-configuration",
}}


def _users(env, text: str) -> None:
    env["roles"].write_text(text, encoding="utf-8")


def _scope_leaks(at, roster: dict, role: str) -> list[str]:
    schools = roster["schools"]
    inside = set(scope(schools, role, "dashboard")["skole_orgnr"].to_list())
    inside_names = set(schools.filter(pl.col("skole_orgnr").is_in(sorted(inside)))["skole"])
    outside = schools.filter(~pl.col("skole_orgnr").is_in(sorted(inside)))
    needles = {n for n in outside["skole"].to_list() if n not in inside_names}
    needles |= set(outside["skole_orgnr"].to_list())
    blob = "\n".join(texts(at))          # the whole app, sidebar included
    return sorted(n for n in needles if n in blob)


def test_login_maps_email_to_role_and_query_params_cannot_widen_it(env, roster):
    kommune = roster["kommune"]
    role = f"kommune:{kommune}"
    _users(env, f'[users]\n"Ola.Nordmann@Kommune.no" = "{role}"\n')
    other = roster["schools"].filter(pl.col("kommunenummer") != kommune)["skole_orgnr"][0]
    at = app(secrets=AUTH, user={"is_logged_in": True, "email": "ola.nordmann@kommune.no"},
             query={"role": "program", "skole": other})
    for page in PAGES:
        open_page(at, page)
        assert not problems(at), (page, problems(at))
        assert not _scope_leaks(at, roster, role), page
        # No role picker and no demo banner when the role is fixed by login.
        assert not [s for s in at.sidebar.selectbox if s.key == "lmp_demo_role"]
        assert not any("Demomodus" in i.value for i in at.info)
    assert any("ola.nordmann@kommune.no" in c.value for c in at.sidebar.caption)
    fresh = app(secrets=AUTH, user={"is_logged_in": True, "email": "ola.nordmann@kommune.no"},
                query={"role": "program", "skole": other})
    open_page(fresh, "skole")
    assert fresh.selectbox(key="sk_school").value != other
    assert any("utenfor det du har tilgang til" in w.value for w in fresh.warning)


def test_login_veileder_sees_only_assigned_schools(env, roster):
    role = "veileder:" + ",".join(roster["veileder"])
    _users(env, f'[users]\n"kari@lms.uis.no" = "{role}"\n')
    at = app(secrets=AUTH, user={"is_logged_in": True, "email": "kari@lms.uis.no"},
             query={"role": "program"})
    open_page(at, "oversikt")
    table = dataframes(at)[0]
    names = set(roster["schools"].filter(
        pl.col("skole_orgnr").is_in(roster["veileder"]))["skole"])
    assert set(table["Skole"]) == names
    for page in PAGES:
        open_page(at, page)
        assert not problems(at), page
        assert not _scope_leaks(at, roster, role), page
    open_page(at, "skole")
    assert set(at.selectbox(key="sk_school").options) == names


def test_user_without_role_gets_a_polite_refusal_and_no_data(env):
    _users(env, '[users]\n"someone@else.no" = "program"\n')
    at = app(secrets=AUTH, user={"is_logged_in": True, "email": "stranger@example.com"},
             query={"role": "program"})
    at.run()
    assert not at.exception
    assert any("har ikke tilgang" in t.value for t in at.title)
    assert any("stranger@example.com" in i.value for i in at.info)
    assert not dataframes(at, main_only=False)
    assert not [e for e in at._tree.main.children.values() if getattr(e, "type", "") ==
                "vega_lite_chart"]
    assert [b for b in at.button if b.label == "Logg ut"]


def test_default_role_in_configuration_applies_to_unlisted_users(env, roster):
    role = f"kommune:{roster['kommune']}"
    _users(env, f'default_role = "{role}"\n[users]\n')
    at = app(secrets=AUTH, user={"is_logged_in": True, "email": "anyone@kommune.no"})
    open_page(at, "oversikt")
    assert not problems(at)
    assert not _scope_leaks(at, roster, role)


def test_not_signed_in_sees_only_the_login_button(env):
    at = app(secrets=AUTH, user={"is_logged_in": False}, query={"role": "program"})
    at.run()
    assert not at.exception
    assert [b for b in at.button if b.label == "Logg inn"]
    assert not dataframes(at, main_only=False)
    next(b for b in at.button if b.label == "Logg inn").click().run()
    assert not at.exception          # st.login redirects, or (no Authlib) a plain message
    assert not dataframes(at, main_only=False)


def test_broken_role_configuration_refuses_everyone(env):
    _users(env, "[users\nbroken")
    at = app(secrets=AUTH, user={"is_logged_in": True, "email": "ola@kommune.no"})
    at.run()
    assert not at.exception
    assert any("Rollekonfigurasjonen" in e.value for e in at.error)
    assert not dataframes(at, main_only=False)


def test_demo_mode_refuses_to_serve_beyond_loopback(env):
    import streamlit.config as st_config

    st_config.set_option("server.address", "0.0.0.0")
    at = app()
    at.run()
    assert not at.exception
    assert any("127.0.0.1" in e.value for e in at.error)
    assert not dataframes(at, main_only=False)


def test_demo_mode_query_role_preselects_and_bad_values_are_ignored(env, roster):
    at = app(query={"role": "kommune:99x9"})
    open_page(at, "oversikt")
    assert not problems(at)
    assert at.sidebar.selectbox(key="lmp_demo_role").value == "program"


def test_out_of_scope_school_in_link_is_not_shown(env, roster):
    role = "veileder:" + ",".join(roster["veileder"])
    outside = roster["schools"].filter(
        ~pl.col("skole_orgnr").is_in(roster["veileder"]))["skole_orgnr"][0]
    for target in (outside, "123456785", "not-an-orgnr"):
        at = app(role=role, query={"skole": target})
        open_page(at, "skole")
        assert not problems(at)
        assert at.selectbox(key="sk_school").value in roster["veileder"]
        assert any("utenfor det du har tilgang til" in w.value for w in at.warning)
        assert outside not in "\n".join(texts(at, main_only=True))


def test_empty_warehouse_shows_a_clear_empty_state(env, monkeypatch, tmp_path):
    monkeypatch.setenv("LMP_WAREHOUSE", str(tmp_path / "nothing-here.duckdb"))
    at = app()
    for page in ("oversikt", "skole", "faser", "sammenligning", "datakvalitet"):
        open_page(at, page)
        assert not problems(at), page
        assert any("ingen data ennå" in i.value.lower() for i in at.info), page
    open_page(at, "om")
    assert not problems(at)


def test_school_without_rounds_has_an_empty_state(env, monkeypatch, world, tmp_path):
    monkeypatch.setenv("LMP_WAREHOUSE", str(world.copy(tmp_path / "partial.duckdb")))
    at = app(query={"skole": world.missing_school})
    open_page(at, "skole")
    assert not problems(at)
    assert at.selectbox(key="sk_school").value == world.missing_school
    assert any("ingen Spekter-runder" in i.value for i in at.info)


def test_forsker_role_sees_programme_aggregates_only(env):
    """A researcher gets pupil and class level in notebooks only: in the dashboard exactly what
    the programme owner sees."""
    tables = {}
    for role in ("program", "forsker"):
        at = app(role=role)
        open_page(at, "oversikt")
        assert not problems(at)
        tables[role] = dataframes(at)[0]
    assert tables["program"].equals(tables["forsker"])


def test_demo_mode_is_refused_behind_a_proxy_or_for_a_public_host_name():
    from lmpdash.context import local_request

    assert local_request({})
    assert local_request({"Host": "127.0.0.1:8501"})
    assert local_request({"host": "localhost:8501"})
    assert local_request({"Host": "[::1]:8501"})
    assert not local_request({"Host": "dashboard.kommune.no"})
    assert not local_request({"Host": "127.0.0.1:8501", "X-Forwarded-For": "203.0.113.7"})
    assert not local_request({"Host": "localhost", "Forwarded": "for=203.0.113.7"})
