"""Real login: the dashboard's OIDC sign-in end to end, in a real browser against a real OpenID
Connect provider started by the test (``oidc-provider-mock``, a Flask/Authlib provider on a free
localhost port). One Streamlit server with ``[auth]`` in its secrets file, one Chromium
(Debian's /usr/bin/chromium):

1. a user mapped to ``kommune:<nr>`` in users.toml signs in and sees exactly its municipality's
   schools (the school picker, the page text holds no other school's name), then signs out
   through the provider's end-session page and is back at the sign-in page;
2. a user without a role signs in and gets the polite refusal and no data, then signs out.
"""

from __future__ import annotations

import os
import secrets
import sys

import polars as pl
import pytest
from browser_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    free_port,
    require_chromium,
    serve,
    wait_idle,
)

pytestmark = pytest.mark.browser

KOMMUNE_USER = "ola.nordmann@kommune.example.no"
NO_ROLE_USER = "kari.ukjent@example.no"
TIMEOUT = 120_000


@pytest.fixture(scope="module")
def provider():
    """A real OpenID Connect provider (discovery, authorize, token, JWKS, userinfo,
    end-session) on a free localhost port; any client id is accepted, the user types a
    subject, which is also the e-mail claim."""
    from oidc_provider_mock import run_server_in_thread

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")   # plain http on localhost
        with run_server_in_thread(port=0, require_nonce=True) as server:
            yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def login_server(world, roster, provider, tmp_path_factory):
    """The dashboard with login configured: secrets.toml [auth] pointing at the provider,
    users.toml mapping one user to the first kommune and nobody else (no default_role)."""
    require_chromium("login test")
    tmp = tmp_path_factory.mktemp("login")
    warehouse = world.copy(tmp / "served.duckdb")
    roles = tmp / "users.toml"
    roles.write_text(f'[users]\n"{KOMMUNE_USER}" = "kommune:{roster["kommune"]}"\n',
                     encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secrets_file = tmp / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "lmp-dashboard"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8")
    env = dict(os.environ, LMP_WAREHOUSE=str(warehouse), LMP_ROLES=str(roles),
               AUTHLIB_INSECURE_TRANSPORT="1")
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboards" / "app.py"),
           "--server.address", "127.0.0.1", "--server.port", str(port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--secrets.files", str(secrets_file)]
    with serve(cmd, url=url, env=env, log_path=tmp / "server.log"):
        yield {"url": url, "log": tmp / "server.log"}


def _idle(page) -> None:
    wait_idle(page)
    page.wait_for_timeout(300)


def _heading(page, text: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('h1') && document.querySelector('h1').innerText.trim() === t",
        arg=text, timeout=TIMEOUT)
    _idle(page)


def _sign_in(page, provider: str, email: str) -> None:
    """From the dashboard's sign-in page through the provider's form back to the app."""
    _heading(page, "Logg inn")
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(f"{provider}/oauth2/authorize*", timeout=TIMEOUT)
    page.fill("input[name='sub']", email)
    page.get_by_role("button", name="Authorize").click()


def _sign_out(page, provider: str, where: str) -> None:
    """The dashboard's "Logg ut" button, then the provider's end-session confirmation."""
    page.locator(f"[data-testid='{where}'] button", has_text="Logg ut").click()
    page.wait_for_url(f"{provider}/oauth2/end_session*", timeout=TIMEOUT)
    page.get_by_role("button", name="End session").click()
    _heading(page, "Logg inn")


def _toolbar_labels(page) -> list[str]:
    """The buttons of the first table's hover toolbar (search, fullscreen, CSV download)."""
    page.locator("[data-testid='stDataFrame']:visible").first.hover()
    buttons = page.locator("[data-testid='stElementToolbar'] button:visible")
    buttons.first.wait_for(timeout=20_000)
    return [b.get_attribute("aria-label") or b.inner_text() for b in buttons.all()]


def _main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def test_oidc_sign_in_scopes_to_the_kommune_refuses_no_role_and_signs_out(
        login_server, provider, roster, tmp_path):
    from playwright.sync_api import sync_playwright

    schools = roster["schools"]
    mine = schools.filter(pl.col("kommunenummer") == roster["kommune"])["skole"].to_list()
    others = schools.filter(pl.col("kommunenummer") != roster["kommune"])["skole"].to_list()
    assert mine and others
    url = login_server["url"]
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 900}, locale="nb-NO")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(url, wait_until="domcontentloaded")
            _idle(page)
            # Not signed in: the sign-in page and no data, no role picker, no demo banner.
            assert "Demomodus" not in _main_text(page)
            assert not any(name in _main_text(page) for name in mine + others)

            # 1. The kommune user sees its municipality's schools and nothing else.
            _sign_in(page, provider, KOMMUNE_USER)
            page.wait_for_url(f"{url}/**", timeout=TIMEOUT)
            sidebar = page.locator("[data-testid='stSidebar']")
            sidebar.get_by_text(f"Innlogget som {KOMMUNE_USER}").wait_for(timeout=TIMEOUT)
            assert roster["kommune"] in sidebar.inner_text()
            page.locator("[data-testid='stSidebarNav'] a", has_text="Skole").first.click()
            _heading(page, "Skole")
            page.locator("[data-testid='stSelectbox']").first.click()
            options = page.locator("[role='option']")
            options.first.wait_for(timeout=TIMEOUT)
            shown = options.all_inner_texts()
            page.keyboard.press("Escape")
            assert len(shown) == len(mine), shown
            assert all(any(name in o for name in mine) for o in shown), (shown, mine)
            text = _main_text(page) + "\n".join(shown)
            assert not [name for name in others if name in text]
            # Tables offer only the formula-safe "Last ned CSV", not Streamlit's raw export
            # (on Datakvalitet: the Skole page's tables are static st.table, with no toolbar).
            page.locator("[data-testid='stSidebarNav'] a", has_text="Datakvalitet").first.click()
            _heading(page, "Datakvalitet")
            assert _toolbar_labels(page), "no table toolbar appeared"
            assert "Download as CSV" not in _toolbar_labels(page)
            assert page.locator("[data-testid='stDownloadButton']").count() > 0

            _sign_out(page, provider, "stSidebar")
            assert KOMMUNE_USER not in page.content()

            # 2. A user without a role: the polite refusal, no data.
            _sign_in(page, provider, NO_ROLE_USER)
            _heading(page, "Du har ikke tilgang ennå")
            text = _main_text(page)
            assert NO_ROLE_USER in text
            assert not [name for name in mine + others if name in text]
            assert page.locator("[data-testid='stSidebarNav']").count() == 0
            assert page.locator("[data-testid='stVegaLiteChart']").count() == 0
            _sign_out(page, provider, "stMain")
            assert NO_ROLE_USER not in page.content()
        finally:
            context.close()
    log = login_server["log"].read_text()
    assert "Traceback" not in log, log
