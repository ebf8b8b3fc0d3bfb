"""What the real-browser tests share: Debian's Chromium, a free port, a Streamlit server process
that is waited for and always stopped, and waiting for a script run to end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def require_chromium(test: str) -> None:
    """Fail (never skip) when Debian's chromium is missing; Playwright's download is not used."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the {test} needs Debian's chromium "
                    "(apt-get install chromium; .ci/run installs it). Playwright's own browser "
                    "download is not used.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(cmd: list[str], *, url: str, env: dict[str, str], log_path: Path,
          what: str = "the dashboard") -> Iterator[subprocess.Popen]:
    """Start ``cmd`` (a Streamlit server) in its own process group in the project root, wait
    until ``url`` is healthy (90 s), and stop the group afterwards."""
    log = log_path.open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start:\n" + log_path.read_text())
            time.sleep(0.3)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)   # the group of the process started above
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


def wait_idle(page) -> None:
    """Wait until the app's script run is over."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=120_000)
