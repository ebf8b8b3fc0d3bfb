"""A real browser against ``lmp dashboard``: Playwright drives Debian's /usr/bin/chromium (never a
downloaded browser), opens every page, waits for the charts to render, switches language, saves
a screenshot per page and language, and then ingests a new round while the server is running.

Screenshots: ``test-artifacts/dashboards/`` (or ``$LMP_TEST_ARTIFACTS/dashboards``).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path

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

ARTIFACTS = Path(os.environ.get("LMP_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "dashboards"
# (slug, sidebar label nb, sidebar label en, heading nb, heading en, charts always present)
PAGES = [
    ("oversikt", "Oversikt", "Overview", "Oversikt", "Overview", True),
    ("skole", "Skole", "School", "Skole", "School", True),
    ("faser", "Faser", "Phases", "Før og etter hver fase", "Before and after each phase", False),
    ("sammenligning", "Sammenligning", "Comparison", "Sammenligning", "Comparison", True),
    ("datakvalitet", "Datakvalitet", "Data quality", "Datakvalitet", "Data quality", True),
    ("om-tallene", "Om tallene", "About the numbers", "Om tallene", "About the numbers", False),
]


def _lmp() -> list[str]:
    script = Path(sys.executable).with_name("lmp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lmp_analytics.cli"]


@pytest.fixture(scope="module")
def server(world, tmp_path_factory):
    require_chromium("browser test")
    tmp = tmp_path_factory.mktemp("browser")
    warehouse = world.copy(tmp / "served.duckdb")
    roles = tmp / "users.toml"
    roles.write_text("[users]\n", encoding="utf-8")
    port = free_port()
    env = dict(os.environ, LMP_ROLES=str(roles))
    url = f"http://127.0.0.1:{port}"
    with serve([*_lmp(), "dashboard", "-w", str(warehouse), "--port", str(port)], url=url,
               env=env, log_path=tmp / "server.log", what="lmp dashboard"):
        yield {"url": url, "warehouse": warehouse, "log": tmp / "server.log"}


def _idle(page, *, charts: bool) -> None:
    """Wait until the script run is over and every chart has drawn its marks."""
    wait_idle(page)
    if charts:
        page.wait_for_selector("[data-testid='stVegaLiteChart'] .marks", timeout=60_000)
    page.wait_for_timeout(300)   # charts of the run mount right after the run ends
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
                 .filter(c => c.offsetParent !== null)   // not in a tab that is not open
                 .every(c => c.querySelector('.marks'))""", timeout=60_000)
    page.wait_for_timeout(400)


def _goto(page, label: str, heading: str, *, charts: bool) -> None:
    """Click a page in the sidebar and wait for its run to finish."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=label).first.click()
    page.wait_for_function(
        "t => document.querySelector('h1') && document.querySelector('h1').innerText.trim() === t",
        arg=heading, timeout=120_000)
    _idle(page, charts=charts)


def _screenshot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport first."""
    height = page.evaluate(
        "() => (document.querySelector('[data-testid=\"stMain\"]') || document.body).scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(900, min(int(height) + 80, 15000))})
    page.wait_for_timeout(500)
    _idle(page, charts=False)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def _assert_clean(page, server) -> None:
    body = page.locator("[data-testid='stMain']").inner_text()
    clean = (page.locator("[data-testid='stException']").count() == 0
             and "Traceback" not in body and "Noe gikk galt" not in body
             and "Something went wrong" not in body)
    assert clean, body[:2000] + "\n--- server log ---\n" + server["log"].read_text()[-4000:]


def _svg_text(page) -> str:
    return page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg text')]"
        ".map(t => t.textContent).join('\\n')")


def test_pages_render_in_chromium_switch_language_and_show_new_data(server, world, tmp_path):
    from playwright.sync_api import sync_playwright

    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 900}, locale="nb-NO")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(server["url"], wait_until="domcontentloaded")
            _idle(page, charts=True)
            assert "Demomodus" in page.locator("[data-testid='stMain']").inner_text()
            for lang, label_i, head_i in (("nb", 1, 3), ("en", 2, 4)):
                if lang == "en":
                    page.locator("[data-testid='stSidebar'] label", has_text="English").click()
                    page.wait_for_function(
                        "() => document.querySelector('h1') && "
                        "document.querySelector('h1').innerText.trim() === 'About the numbers'",
                        timeout=60_000)
                    _idle(page, charts=False)
                for spec in PAGES:
                    slug, has_charts = spec[0], spec[5]
                    _goto(page, spec[label_i], spec[head_i], charts=has_charts)
                    _assert_clean(page, server)
                    if has_charts:
                        assert page.locator("[data-testid='stVegaLiteChart'] .marks").count() >= 1
                    _screenshot(page, ARTIFACTS / f"{lang}_{slug}.png")

            # A new round is ingested while the server keeps serving this browser session:
            # the pages keep working during the ingest, and the new round appears after it.
            _goto(page, "Overview", "Overview", charts=True)
            new_label = {"V": "Spring", "H": "Autumn"}[world.last_term[4]] + " " + \
                world.last_term[:4]
            assert new_label not in _svg_text(page)
            result: list = []
            ingest = threading.Thread(
                target=lambda: result.append(world.ingest_all(server["warehouse"])))
            ingest.start()
            visits = 0
            while ingest.is_alive() or visits < 2:
                for label in ("Data quality", "Overview"):
                    _goto(page, label, label, charts=False)
                    _assert_clean(page, server)
                    visits += 1
            ingest.join()
            assert result and result[0].published, result
            _goto(page, "School", "School", charts=False)
            _goto(page, "Overview", "Overview", charts=True)
            page.wait_for_function(
                "t => [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg text')]"
                ".some(e => e.textContent === t)", arg=new_label, timeout=60_000)
            _assert_clean(page, server)
            _screenshot(page, ARTIFACTS / "en_oversikt_after_ingest.png")
        finally:
            context.close()
    shots = sorted(p.name for p in ARTIFACTS.glob("*.png"))
    assert len(shots) == 2 * len(PAGES) + 1, shots
