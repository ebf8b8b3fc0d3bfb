"""The dashboard as its three users see it, in a real browser (Debian's Chromium through
Playwright) against ``lmp dashboard``: programme, municipality and supervisor roles.

Per role: the landing panel's numbers are ``lmp_analytics.readmodels.landing.phase_summary`` of
that role, a hidden cell appears in the charts as "skjult", no raw item id, indicator id or term
code shows in the page text, and no element reaches past the viewport at 1280 px (every page)
and 1920 px (Oversikt); the Oversikt tables on view (not those folded into "Vis som tabell")
show all their columns without scrolling. Screenshots of every page per role:
``test-artifacts/dashboards-roles/`` (or ``$LMP_TEST_ARTIFACTS/dashboards-roles``)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import polars as pl
import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, require_chromium, serve

pytestmark = pytest.mark.browser

ARTIFACTS = Path(os.environ.get("LMP_TEST_ARTIFACTS", ROOT / "test-artifacts")) / \
    "dashboards-roles"
PAGES = ("", "skole", "faser", "sammenligning", "datakvalitet", "om-tallene")
WIDE_PAGES = ("",)
TERM_CODE = re.compile(r"\b20\d\d[HV]\b")

# The page's text without Material icon ligatures (their names are text in the DOM).
TEXT_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]').cloneNode(true);
  main.querySelectorAll('[data-testid="stIconMaterial"], .material-symbols-rounded,'
    + ' [class*="material"]').forEach(e => e.remove());
  const svg = [...document.querySelectorAll('[data-testid="stVegaLiteChart"] svg text')]
    .map(t => t.textContent).join('\\n');
  return main.innerText + '\\n' + svg;
}"""
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth, out = [];
  for (const e of document.querySelectorAll('[data-testid="stMain"] *')) {
    const scroller = e.closest('.dvn-scroller');
    if (scroller && scroller !== e) continue;   // inside a table's own scroll area
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.right > vw + 1)
      out.push((e.getAttribute('data-testid') || e.tagName) + ' right=' + Math.round(r.right));
  }
  return out.slice(0, 10);
}"""
SCROLLING_TABLES_JS = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] [data-testid="stDataFrame"] .dvn-scroller')]
  .filter(s => !s.closest('[data-testid="stExpander"]'))
  .filter(s => s.scrollWidth > s.clientWidth + 1).length"""


def _lmp() -> list[str]:
    script = Path(sys.executable).with_name("lmp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lmp_analytics.cli"]


@pytest.fixture(scope="module")
def server(world, tmp_path_factory):
    require_chromium("role browser test")
    tmp = tmp_path_factory.mktemp("browser_roles")
    roles = tmp / "users.toml"
    roles.write_text("[users]\n", encoding="utf-8")
    port = free_port()
    env = dict(os.environ, LMP_ROLES=str(roles))
    env.pop("LMP_MIN_N", None)
    url = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve([*_lmp(), "dashboard", "-w", str(world.warehouse), "--port", str(port)],
               url=url, env=env, log_path=tmp / "server.log", what="lmp dashboard"):
        yield {"url": url, "log": tmp / "server.log"}


@pytest.fixture(scope="module")
def browser(server, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=120_000)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
                 .filter(c => c.offsetParent !== null)   // not in a closed tab or expander
                 .every(c => c.querySelector('.marks'))""", timeout=60_000)
    page.wait_for_timeout(400)


def _codes() -> set[str]:
    """Raw ids that must never reach a reader: codebook item ids and indicator ids with an
    underscore (a plain word like 'mobbet' is also Norwegian), and role codes."""
    from lmp_analytics.codebook import indicator_ids, load_codebooks

    ids = {i for book in load_codebooks().values() for i in book.items}
    ids |= set(indicator_ids())
    return {i for i in ids if "_" in i} | {"wilson_srs", "rtm_warning", "Tegn: 2"}


def _role_of(which: str, roster: dict) -> str:
    return {"program": "program", "kommune": f"kommune:{roster['kommune']}",
            "veileder": "veileder:" + ",".join(roster["veileder"])}[which]


@pytest.mark.parametrize("which", ["program", "kommune", "veileder"])
def test_each_user_sees_their_answer_plainly_and_unclipped(server, browser, world, roster,
                                                           which):
    from lmpdash.i18n import fmt_change, fmt_change_interval, t

    from lmp_analytics import api
    from lmp_analytics.readmodels import landing

    role = _role_of(which, roster)
    slug = which
    summary = landing.phase_summary(role=role, warehouse=world.warehouse)
    # Tall enough that a page's screenshot needs no resizing (Streamlit scrolls inside main).
    page = browser.new_page(viewport={"width": 1280, "height": 4000}, locale="nb-NO")
    codes = _codes()
    try:
        for path in PAGES:
            _open(page, f"{server['url']}/{path}?role={role}")
            text = page.evaluate(TEXT_JS)
            assert "Traceback" not in text and "Noe gikk galt" not in text, \
                server["log"].read_text()[-3000:]
            leaked = sorted(c for c in codes if re.search(rf"\b{re.escape(c)}\b", text))
            assert not leaked, f"{path or 'oversikt'}: raw ids in the page: {leaked}"
            terms = sorted(set(TERM_CODE.findall(text)))
            assert not terms, f"{path or 'oversikt'}: term codes in the page: {terms}"
            assert page.evaluate(OVERFLOW_JS) == [], f"{path or 'oversikt'} at 1280 px"
            page.screenshot(path=str(ARTIFACTS / f"{slug}_{path or 'oversikt'}.png"),
                            full_page=True)
            if path == "":
                assert page.evaluate(SCROLLING_TABLES_JS) == 0, "Oversikt table scrolls"
                _check_panel(page, summary, fmt_change, fmt_change_interval, t)
                _check_hidden(page, text, role, world, api)
        page.set_viewport_size({"width": 1920, "height": 1200})
        for path in WIDE_PAGES:
            _open(page, f"{server['url']}/{path}?role={role}")
            assert page.evaluate(OVERFLOW_JS) == [], f"{path or 'oversikt'} at 1920 px"
    finally:
        page.close()


def _check_panel(page, summary: pl.DataFrame, fmt_change, fmt_change_interval, t) -> None:
    """Each phase card shows the role's pooled change, its interval, the schools by verdict
    and the adjusted estimate exactly as the API gives them."""
    shown = 0
    for row in summary.iter_rows(named=True):
        card = page.locator(f".st-key-landing_phase_{row['phase']}")
        assert card.count() == 1, row["phase"]
        text = card.inner_text()
        if row["suppressed"]:
            continue
        assert fmt_change(row["change"], "share", "nb") in text, (row["phase"], text)
        if row["tested"]:
            assert fmt_change_interval(row["ci_low"], row["ci_high"], "share", "nb") in text
        assert t("landing.schools_line", "nb", n=row["schools"], down=row["down"],
                 unchanged=row["unchanged"], up=row["up"]) in text
        if row["adjusted"] is not None:
            assert fmt_change(row["adjusted"], "share", "nb") in text
        caution = t("landing.rtm", "nb") in text or t("landing.rtm_short", "nb") in text
        assert caution == bool(row["rtm_warning"]), (row["phase"], text)
        shown += 1
    assert shown >= 2


def _check_hidden(page, text: str, role: str, world, api) -> None:
    """A hidden school cell of the role shows as 'skjult' in the chart of every school."""
    cells = api.indicators("skole", indicator="mobbet", role=role, warehouse=world.warehouse)
    if cells.filter(pl.col("suppressed")).height:
        svg = page.evaluate("() => [...document.querySelectorAll("
                            "'[data-testid=\"stVegaLiteChart\"] svg text')]"
                            ".map(t => t.textContent).join('\\n')")
        assert "skjult" in svg, "a hidden cell is not shown as 'skjult' in the charts"


# The nynorsk run: the page's text as above, without code spans (messages shown verbatim).
NN_TEXT_JS = TEXT_JS.replace(
    "' [class*=\"material\"]').forEach(e => e.remove());",
    "' [class*=\"material\"], code').forEach(e => e.remove());")
NN_PAGES = (*PAGES, "tilstandsrapport")


def test_a_municipality_in_nynorsk_sees_no_key_and_no_bokmal_or_english_word(
        server, browser, roster):
    """Every page for a municipality in nynorsk (``?lang=nn``) in the real browser, with the
    charts drawn: no string key and no bokmål-only or English word (tests.nynorsk_words)
    outside school and municipality names and code spans."""
    from tests.nynorsk_words import offending

    assert "code').forEach" in NN_TEXT_JS
    schools = roster["schools"]
    names = {n for col in ("skole", "kommune") if col in schools.columns
             for n in schools[col].to_list() if n}
    role = _role_of("kommune", roster)
    page = browser.new_page(viewport={"width": 1280, "height": 4000}, locale="nn-NO")
    found: dict[str, set[str]] = {}
    try:
        for path in NN_PAGES:
            _open(page, f"{server['url']}/{path}?role={role}&lang=nn")
            text = page.evaluate(NN_TEXT_JS)
            assert "Traceback" not in text and "Noko gjekk gale" not in text, \
                server["log"].read_text()[-3000:]
            assert re.search(r"\b(skule|skular|skulen|ikkje|elevar|tala)\b", text, re.I), \
                (path, text[:300])  # the page is in nynorsk at all
            for line in text.splitlines():
                hits = offending(line, names)
                if hits:
                    found.setdefault(path or "oversikt", set()).update(
                        f"{h!r} in {line[:90]!r}" for h in hits)
            page.screenshot(path=str(ARTIFACTS / f"nn_kommune_{path or 'oversikt'}.png"),
                            full_page=True)
    finally:
        page.close()
    assert not found, "\n".join(f"{p}: {sorted(v)[:12]}" for p, v in found.items())
