"""Many sessions at once on one real dashboard server (issue #21: 20 concurrent sessions paging
through every page, no errors; #19 item 7).

A real ``lmp dashboard`` (Streamlit, the warm-up thread of ``dashboards/serve.py`` starting as
the server comes up) serves the test world; :data:`SESSIONS` sessions connect at once over
Streamlit's own websocket protocol (``benchmarks.sessions``: what a browser tab sends, without
a browser's cost) and each runs the default page and then every page of the navigation. Every
run must end successfully within :data:`PAGE_TIMEOUT` with no exception and no generic error.

What it attacks: the polars deadlock of session 6. A polars UDF running on polars' thread
pool in one script thread while another thread converts a frame (``st.dataframe`` calls
``to_pandas``, which holds the GIL while it waits for that pool) stops the whole server for
good (pola-rs/polars#26821, #27396). Before the UDFs were removed this test hung every session
(run against that code: all sessions timed out with the script threads parked in polars); a
UDF brought back is caught by ``tests/test_no_polars_udf.py`` first, and by this test if it
deadlocks anyway. When a session times out, the assertion carries a ``py-spy dump`` of the
server's threads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser_helpers import free_port, serve

from benchmarks.sessions import run_concurrent

SESSIONS = 8
PAGE_TIMEOUT = 150.0   # seconds for one page run; a deadlocked server never ends one
PAGES = {"", "skole", "faser", "sammenligning", "datakvalitet", "tilstandsrapport",
         "om-tallene"}


def _lmp() -> list[str]:
    script = Path(sys.executable).with_name("lmp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lmp_analytics.cli"]


def _stacks(pid: int) -> str:
    """Every thread's stack of the server (py-spy), for a failure message."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return "(py-spy not installed: no stacks)"
    try:
        done = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(py-spy failed: {exc})"
    return (done.stdout + done.stderr)[-12000:]


def _server_pid(launcher: subprocess.Popen) -> int:
    """The Streamlit server: ``lmp dashboard``'s child (serve.py), else the launcher itself."""
    try:
        children = Path(f"/proc/{launcher.pid}/task/{launcher.pid}/children").read_text().split()
    except OSError:
        children = []
    return int(children[0]) if children else launcher.pid


@pytest.mark.slow
def test_concurrent_sessions_page_through_every_page_without_errors(world, tmp_path):
    warehouse = world.copy(tmp_path / "served.duckdb")
    roles = tmp_path / "users.toml"
    roles.write_text("[users]\n", encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, LMP_ROLES=str(roles))
    env.pop("LMP_MIN_N", None)
    with serve([*_lmp(), "dashboard", "-w", str(warehouse), "--port", str(port)], url=url,
               env=env, log_path=tmp_path / "server.log", what="lmp dashboard") as launcher:
        results = run_concurrent(url, SESSIONS, rounds=1, timeout=PAGE_TIMEOUT)
        stuck = [r.error for r in results if r.error]
        stacks = _stacks(_server_pid(launcher)) if stuck else ""
    log = (tmp_path / "server.log").read_text(errors="replace")[-4000:]
    assert not stuck, (f"{len(stuck)} of {SESSIONS} sessions could not finish: {stuck[:3]}\n"
                       f"--- server threads ---\n{stacks}\n--- server log ---\n{log}")
    problems = [(run.page, p) for r in results for run in r.runs for p in run.problems]
    assert problems == [], f"{problems[:10]}\n--- server log ---\n{log}"
    for r in results:
        pages = {run.page for run in r.runs}
        assert pages >= {"(default)"} | (PAGES - {""}), pages   # every page ran in every session


def test_the_client_counts_an_exception_and_the_generic_error():
    """The client is not blind: an exception element and the app's generic error (any
    language) in a run's messages are problems; other alerts are not."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from benchmarks.sessions import _problems
    from lmp_analytics.presentation.strings import text

    def element(fill) -> ForwardMsg:
        msg = ForwardMsg()
        fill(msg.delta.new_element)
        return msg

    def exception(e) -> None:
        e.exception.type = "ValueError"
        e.exception.message = "boom"

    def alert(body: str):
        def fill(e) -> None:
            e.alert.body = body
        return fill

    assert _problems(element(exception)) == ["exception: ValueError: boom"]
    for lang in ("nb", "nn", "en"):
        generic = text("dashboard.error_generic", lang)
        assert _problems(element(alert(generic))) == [f"error: {generic}"]
    assert _problems(element(alert(text("dashboard.empty_warehouse", "nb")))) == []
    assert _problems(ForwardMsg()) == []
