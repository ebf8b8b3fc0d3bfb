"""The dashboard as its three users see it, in a real browser (Debian's Chromium through
Playwright) against ``lmp dashboard``: programme, municipality and supervisor roles.

Per role: the landing panel's numbers are ``lmp_analytics.readmodels.landing.phase_summary`` of
that role, a hidden cell appears in the charts as "skjult", no raw item id, indicator id or term
code shows in the page text, and on every page, in bokmål and English, at 1280 and 1920 px: no
element reaches past the viewport, no table or other box on view scrolls sideways (every column
shows), and no chart label is cut off with "…". A browser print of Oversikt for a municipality
(``page.pdf``, A4) has the page's headline and content, no sidebar or buttons, and few pages.
Screenshots of every page per role and language: ``test-artifacts/dashboards-roles/`` (or
``$LMP_TEST_ARTIFACTS/dashboards-roles``)."""

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
PAGES = ("", "skole", "faser", "sammenligning", "datakvalitet", "tilstandsrapport",
         "om-tallene")
LANGS = ("nb", "en")
WIDTHS = (1280, 1920)
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
# Boxes on view that scroll sideways (a table's own scroll area, a wide st.table, a code block):
# a column or value out of sight. Closed expanders and tabs are not on view.
SCROLLING_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] *')]
  .filter(e => e.offsetParent !== null)
  .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => (e.closest('[data-testid]')?.getAttribute('data-testid') || e.tagName)
       + ' ' + e.scrollWidth + '>' + e.clientWidth + ': '
       + (e.innerText || '').slice(0, 60).replace(/\\s+/g, ' '))"""
# Chart labels cut off by Vega's label limit end in an ellipsis.
TRUNCATED_JS = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"] svg text')]
  .filter(t => t.closest('[data-testid="stVegaLiteChart"]').offsetParent !== null)
  .map(t => t.textContent).filter(t => t.endsWith('…')).slice(0, 5)"""


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


def _layout(page, where: str) -> None:
    """Nothing past the viewport, nothing on view scrolling sideways, no label cut off."""
    assert page.evaluate(OVERFLOW_JS) == [], f"{where}: past the viewport"
    assert page.evaluate(SCROLLING_JS) == [], f"{where}: scrolls sideways"
    assert page.evaluate(TRUNCATED_JS) == [], f"{where}: chart labels cut off"


def _charts_drawn(page) -> None:
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
                 .filter(c => c.offsetParent !== null)
                 .every(c => c.querySelector('.marks'))""", timeout=60_000)
    page.wait_for_timeout(600)   # charts drawn to the container's width after a resize


@pytest.mark.parametrize("which", ["program", "kommune", "veileder"])
def test_each_user_sees_their_answer_plainly_and_unclipped(server, browser, world, roster,
                                                           which):
    from lmpdash.i18n import fmt_change, fmt_change_interval, t

    from lmp_analytics import api
    from lmp_analytics.readmodels import landing

    role = _role_of(which, roster)
    slug = which
    summary = landing.phase_summary(role=role, warehouse=world.warehouse)
    codes = _codes()
    for lang in LANGS:
        # Tall enough that a page's screenshot needs no resizing (Streamlit scrolls inside
        # main); the language comes with a new session (one page load per page and language).
        page = browser.new_page(viewport={"width": WIDTHS[0], "height": 4000},
                                locale="nb-NO" if lang == "nb" else "en-GB")
        try:
            for path in PAGES:
                where = f"{path or 'oversikt'} ({lang})"
                _open(page, f"{server['url']}/{path}?role={role}&lang={lang}")
                text = page.evaluate(TEXT_JS)
                assert "Traceback" not in text and "Noe gikk galt" not in text \
                    and "Something went wrong" not in text, server["log"].read_text()[-3000:]
                leaked = sorted(c for c in codes if re.search(rf"\b{re.escape(c)}\b", text))
                assert not leaked, f"{where}: raw ids in the page: {leaked}"
                terms = sorted(set(TERM_CODE.findall(text)))
                assert not terms, f"{where}: term codes in the page: {terms}"
                _layout(page, f"{where} at {WIDTHS[0]} px")
                page.screenshot(path=str(ARTIFACTS / f"{slug}_{lang}_{path or 'oversikt'}.png"),
                                full_page=True)
                if path == "" and lang == "nb":
                    _check_panel(page, summary, fmt_change, fmt_change_interval, t)
                    _check_hidden(page, text, role, world, api)
                for width in WIDTHS[1:]:   # the same page redrawn wider
                    page.set_viewport_size({"width": width, "height": 1200})
                    _charts_drawn(page)
                    _layout(page, f"{where} at {width} px")
                page.set_viewport_size({"width": WIDTHS[0], "height": 4000})
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
NN_PAGES = PAGES  # every page, the tilstandsrapport included


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


def test_no_page_asks_any_host_but_the_dashboard(server, browser, roster):
    """Every page, as a municipality, asks nothing of any other host than the dashboard's own
    (no font, icon or script from a CDN: a user's visit must not reach a third party, and a
    dashboard on a closed network must not wait for one). Failed while the page icon was a
    Material icon, which Streamlit's front end fetches from fonts.gstatic.com."""
    asked: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="nb-NO")
    page.on("request", lambda request: asked.append(request.url))
    try:
        for path in NN_PAGES:
            _open(page, f"{server['url']}/{path}?role={_role_of('kommune', roster)}")
    finally:
        page.close()
    assert len(asked) > 20
    elsewhere = sorted({u for u in asked
                        if not u.startswith((server["url"] + "/", "data:", "blob:"))})
    assert elsewhere == [], elsewhere


HEADINGS_JS = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3')]
  .filter(h => h.offsetParent !== null).map(h => h.innerText.trim()).filter(Boolean)"""


def _words(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def test_browser_print_of_a_municipalitys_oversikt_fits_a4(server, browser, roster, tmp_path):
    """Print (Chromium's own PDF of the page, A4) of Oversikt for a kommune role: every heading
    of the page is on paper (the whole page, not the window's part), nothing of the sidebar or
    the download buttons, no text past the paper's right edge, and a handful of pages."""
    import shutil
    import subprocess

    from lmpdash.i18n import t

    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        pytest.fail("poppler-utils (pdftotext, pdfinfo) is missing; .ci/run installs it")
    role = _role_of("kommune", roster)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="nb-NO")
    try:
        _open(page, f"{server['url']}/?role={role}")
        headings = page.evaluate(HEADINGS_JS)
        pdf = tmp_path / "oversikt.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
    finally:
        page.close()
    shutil.copyfile(pdf, ARTIFACTS / "kommune_oversikt_print.pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    width = float(re.search(r"^Page size:\s+([\d.]+) x", info, re.M).group(1))
    assert 595 <= width <= 596, info   # A4 portrait
    text = _words(subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
                                 capture_output=True, text=True, check=True).stdout)
    assert len(headings) >= 5
    for heading in headings:
        assert _words(heading) in text, f"heading not on paper: {heading!r}"
    for screen_only in (t("download_csv", "nb"), "Språk / Language"):
        assert screen_only not in text, f"printed: {screen_only!r}"
    assert 2 <= pages <= 6, pages
    # Every word inside the paper: none cut off at the right edge.
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    right = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', bbox))
    assert right <= width, f"text reaches {right:.0f} pt on a {width:.0f} pt wide page"
