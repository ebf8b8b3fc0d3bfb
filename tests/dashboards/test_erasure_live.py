"""Erasure with a dashboard session open: a real ``lmp dashboard`` server and a real Chromium
session hold a reader snapshot (a hard link of the published version) when ``lmp forget`` erases
a pupil. Afterwards no byte of any file beside the warehouse holds the pupil's pseudonym, and
the open session moves to the new file (its next runs link and read only the new version)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, ROOT, free_port, require_chromium, serve, wait_idle

from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.ingest.protect import pseudonym
from lmp_analytics.jobs import ingest_and_build

KEY = "erasure-live-key-0123456789abcdef0123456789"
PUPIL = "elev1235a00@feide.example.no"  # in both sample rounds


def _lmp() -> list[str]:
    script = Path(sys.executable).with_name("lmp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lmp_analytics.cli"]


def _holders(directory: Path, needle: bytes) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.is_file() and needle in
                  p.read_bytes())


def _links(warehouse: Path) -> list[Path]:
    return sorted(warehouse.parent.glob(f"{warehouse.name}.read-[0-9]*"))


def _idle(page) -> None:
    wait_idle(page)
    page.wait_for_timeout(500)


def _clean(page, log: Path) -> None:
    body = page.locator("[data-testid='stMain']").inner_text()
    ok = (page.locator("[data-testid='stException']").count() == 0
          and "Traceback" not in body and "Noe gikk galt" not in body)
    assert ok, body[:2000] + "\n--- server log ---\n" + log.read_text()[-4000:]


@pytest.fixture
def built(tmp_path) -> Path:
    warehouse = tmp_path / "served" / "w.duckdb"
    report = ingest_and_build([SAMPLE_DIR], SAMPLE_DIR / "program.csv", warehouse=warehouse,
                              key=KEY.encode())
    assert report.exit_code == 0
    return warehouse


def test_a_run_whose_snapshot_was_erased_reads_the_new_file(built):
    """The data layer: a run that began before the erasure (its Source names the deleted link)
    reads the published file; the next run links the new version."""
    from lmpdash import data

    from lmp_analytics.jobs import build_derived
    from lmp_analytics.privacy.roles import Role
    from lmp_analytics.warehouse.erasure import forget_pupil

    data.clear_cache()
    before = data.source(built)
    assert before.read_path != built and before.read_path.exists()
    assert before.reads == str(before.read_path)
    n_before = data.schools(before, Role("program")).height
    data.clear_cache()
    result = forget_pupil(PUPIL, key=KEY.encode(), warehouse=built, rebuild=build_derived)
    assert result.snapshots == 1 and not before.read_path.exists()
    assert before.reads == str(built)
    assert data.schools(before, Role("program")).height == n_before   # no error, new file
    after = data.source(built)
    assert after.stamp != before.stamp
    assert os.stat(after.read_path).st_ino == os.stat(built).st_ino
    assert _holders(built.parent, pseudonym(KEY.encode(), PUPIL).encode()) == []


@pytest.fixture(params=[1, 2], ids=["one-process", "two-processes"])
def served(built, tmp_path, request):
    """``lmp dashboard`` on the built warehouse; also with ``--processes 2`` (two Streamlit
    processes behind haproxy, each with its own reader snapshot: the erasure must reach
    both, and the browser's session stays on its process through the proxy)."""
    warehouse = built
    processes = ["--processes", str(request.param)] if request.param > 1 else []
    roles = tmp_path / "users.toml"
    roles.write_text("[users]\n", encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    env = dict(os.environ, LMP_ROLES=str(roles), PYTHONPATH=str(ROOT))
    with serve([*_lmp(), "dashboard", "-w", str(warehouse), "--port", str(port), *processes],
               url=url, env=env, log_path=log_path, what="lmp dashboard"):
        yield {"url": url, "warehouse": warehouse, "log": log_path, "roles": roles}


@pytest.mark.browser
def test_forget_with_a_dashboard_session_open_leaves_no_byte_of_the_pupil(served, tmp_path):
    from playwright.sync_api import sync_playwright

    require_chromium("erasure test")
    warehouse: Path = served["warehouse"]
    pid = pseudonym(KEY.encode(), PUPIL).encode()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="nb-NO")
            page.goto(served["url"], wait_until="domcontentloaded")
            _idle(page)
            _clean(page, served["log"])
            old = _links(warehouse)
            assert old, "the session made no reader snapshot"
            assert all(os.stat(p).st_ino == os.stat(warehouse).st_ino for p in old)
            assert set(_holders(warehouse.parent, pid)) >= {"w.duckdb", old[0].name}

            # The session stays open while the pupil is erased (the id on standard input).
            env = dict(os.environ, LMP_PSEUDONYM_KEY=KEY, LMP_ROLES=str(served["roles"]),
                       LMP_PSEUDONYM_KEY_FILE=str(tmp_path / "none.key"), PYTHONPATH=str(ROOT))
            forget = subprocess.run([*_lmp(), "forget", "--elev-id-file", "-", "-w",
                                     str(warehouse)], input=PUPIL + "\n", env=env, cwd=ROOT,
                                    capture_output=True, text=True, timeout=300)
            assert forget.returncode == 0, forget.stdout + forget.stderr
            assert "Erased 2 response(s)" in forget.stdout
            assert _holders(warehouse.parent, pid) == []
            assert not any(p.exists() for p in old)

            # The open session goes on, on the new file only.
            for label in ("Datakvalitet", "Oversikt"):
                page.locator("[data-testid='stSidebarNav'] a", has_text=label).first.click()
                page.wait_for_function(
                    "t => document.querySelector('h1') && "
                    "document.querySelector('h1').innerText.trim().startsWith(t)",
                    arg=label, timeout=120_000)
                _idle(page)
                _clean(page, served["log"])
            new = _links(warehouse)
            assert new and all(os.stat(p).st_ino == os.stat(warehouse).st_ino for p in new)
            assert _holders(warehouse.parent, pid) == []
        finally:
            browser.close()
