"""The dashboard in a real browser: what a user waits for (Playwright, Debian's chromium).

    .venv/bin/python -m benchmarks.browser [-w WAREHOUSE] [--sessions 20] [--rounds 2] [--json F]
        [--concurrent-client protocol|browser] [--processes N]

Starts ``lmp dashboard`` on a free port and measures, each from the click (or the navigation) to
the page's main chart drawn (its first Vega-Lite chart with marks; a page without charts: its
script run finished), once no element is still a skeleton waiting for its front-end code
(``python -m benchmarks.browser_split`` shows where such a page's time goes):

- **first page after server start**: the first browser session, right after the server answers
  its health check (target < 2 s);
- **new session's first page**: a fresh browser context later (target < 1.5 s); beside it, a
  new tab of the first browser (a new Streamlit session with the front end cached);
- **page switches**: every page of the sidebar, clicked in turn, ``--rounds`` times (p95 < 1 s);
- **concurrent sessions**: ``--sessions`` sessions at once, each paging through every page
  (p95 < 2 s, no error on any page). By default (``--concurrent-client protocol``) each session
  is a websocket speaking Streamlit's protocol (``benchmarks.sessions``): the server does all it
  does for a browser tab, timed from the page request to the end of its run, while the client
  costs almost nothing; 20 Chromium renderers drawing charts on the server's own 2 cores would
  measure the client machine's load, not the server (``--concurrent-client browser``: one
  Chromium, a context per session, timed to the chart drawn, as before). The server's CPU
  seconds and the load average over the phase are reported beside the figures.

Without ``-w`` it builds the demo warehouse into ``benchmarks/.cache/demo`` (``lmp demo
--no-dashboard``). Figures are printed with their targets and written as JSON; nothing is timed
in ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TARGETS = {"first_page_after_start_s": 2.0, "new_session_first_page_s": 1.5,
           "page_switch_p95_s": 1.0, "concurrent_page_p95_s": 2.0}

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
CHART = "[data-testid='stVegaLiteChart'] .marks"
ERROR = "[data-testid='stException']"
#: Streamlit's placeholder for an element whose code (a lazily loaded chunk) has not arrived
LOADING = "[data-testid='stElementContainer'] [data-testid='stSkeleton']"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_warehouse() -> Path:
    """The demo warehouse in the benchmark cache (built once)."""
    home = CACHE / "demo"
    target = home / "warehouse.duckdb"
    if not target.exists():
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "lmp_analytics.cli", "demo", "--no-dashboard"],
                       env={**os.environ, "LMP_HOME": str(home)}, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    return target


def start_server(warehouse: Path, log: Path, processes: int = 1
                 ) -> tuple[subprocess.Popen, str, float]:
    """``lmp dashboard`` on a free port (``processes`` > 1: that many Streamlit processes
    behind haproxy); the process, its URL and seconds until healthy."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LMP_ROLES": str(log.parent / "no-users.toml")}
    (log.parent / "no-users.toml").write_text('default_role = "program"\n[users]\n')
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "lmp_analytics.cli", "dashboard", "-w",
                             str(warehouse), "--port", str(port),
                             *(["--processes", str(processes)] if processes > 1 else [])],
                            cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url, time.perf_counter() - t0
        except OSError:
            pass
        if proc.poll() is not None or time.perf_counter() - t0 > 120:
            raise RuntimeError("the dashboard did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.1)


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its descendants (Linux
    /proc; 0.0 elsewhere): what a page costs the server, apart from the machine's load."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.0


def cpu_by_process(pid: int) -> dict[str, float]:
    """CPU seconds so far of each child of ``pid`` (with its descendants), by pid and program
    (``lmp dashboard --processes N``: each Streamlit process and haproxy)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            name = Path(f"/proc/{child}/comm").read_text().strip()
            out[f"{name}:{child}"] = server_cpu(int(child))
    return out


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


#: A run that ends is taken as the page's last only if no other starts within this time (not
#: counted): a session's first page can be run twice (a rerun right after the first run), and
#: the pause between the two runs once passed for the page drawn, before any chart was there.
SETTLE_S = 0.5
RUNS = """() => { const a = document.querySelector("[data-testid='stApp']");
  if (!a.lmpRuns) {
    a.lmpRuns = {n: 0};
    new MutationObserver(() => {
      if (a.getAttribute('data-test-script-state') === 'running') a.lmpRuns.n++;
    }).observe(a, {attributes: true, attributeFilter: ['data-test-script-state']});
  }
  return a.lmpRuns.n; }"""


async def _drawn(page, t0: float) -> tuple[float, bool]:
    """Seconds from ``t0`` until the main chart is drawn (or the run is over on a page without
    charts), and whether the page shows an error."""
    while True:
        await page.wait_for_selector(IDLE, timeout=120_000)
        # an element whose front-end code is still loading is a skeleton (React Suspense), not
        # yet a chart: a fresh browser can finish the run before the chart's code arrives
        await page.wait_for_selector(LOADING, state="detached", timeout=120_000)
        if await page.locator("[data-testid='stVegaLiteChart']").count():
            await page.wait_for_selector(CHART, timeout=120_000)
        elapsed = time.perf_counter() - t0
        runs = await page.evaluate(RUNS)
        await asyncio.sleep(SETTLE_S)
        if await page.evaluate(RUNS) == runs and await page.locator(IDLE).count():
            return elapsed, await page.locator(ERROR).count() > 0


async def _open(context, url: str) -> tuple[object, float, bool]:
    page = await context.new_page()
    t0 = time.perf_counter()
    await page.goto(url, wait_until="commit")
    # the first run starts after the websocket connects: wait for the app, then for the chart
    await page.wait_for_selector("[data-testid='stApp']", timeout=120_000)
    await page.wait_for_selector("[data-testid='stSidebarNav'] a", timeout=120_000)
    elapsed, error = await _drawn(page, t0)
    return page, elapsed, error


async def _tour(page, rounds: int) -> tuple[list[float], int]:
    """Click every sidebar page ``rounds`` times; seconds per switch and errors seen."""
    links = page.locator("[data-testid='stSidebarNav'] a")
    count = await links.count()
    times, errors = [], 0
    for _ in range(rounds):
        for i in [*range(1, count), 0]:
            heading = await page.locator("h1").first.inner_text()
            t0 = time.perf_counter()
            await links.nth(i).click()
            await page.wait_for_function(
                "h => { const e = document.querySelector('h1'); return e && e.innerText !== h }",
                arg=heading, timeout=120_000)
            elapsed, error = await _drawn(page, t0)
            times.append(elapsed)
            errors += error
    return times, errors


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _concurrent_protocol(url: str, sessions: int) -> dict:
    """``sessions`` websocket sessions (``benchmarks.sessions``), each through every page."""
    from benchmarks.sessions import concurrent_tours

    results = await concurrent_tours(url, sessions, rounds=1, timeout=120.0)
    times = [run.seconds for r in results for run in r.runs]
    problems = [f"{run.page}: {p}" for r in results for run in r.runs for p in run.problems]
    failed = [r.error for r in results if r.error]
    return {"times": times, "errors": len(failed) + len(problems),
            "failures": [*failed, *problems][:20]}


async def measure(url: str, sessions: int, rounds: int, *, client: str = "protocol",
                  server_pid: int | None = None) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            cpu = (lambda: server_cpu(server_pid)) if server_pid else (lambda: 0.0)
            first = await browser.new_context(viewport={"width": 1400, "height": 900},
                                              locale="nb-NO")
            c0 = cpu()
            page, out["first_page_after_start_s"], err = await _open(first, url)
            c1 = cpu()
            switches, errors = await _tour(page, rounds)
            out["server_cpu_first_page_s"] = c1 - c0   # with the warm-up running beside it
            out["server_cpu_per_switch_s"] = (cpu() - c1) / max(1, len(switches))
            out["page_switch_p50_s"] = statistics.median(switches)
            out["page_switch_p95_s"] = p95(switches)
            out["page_switches"] = len(switches)
            out["errors_single"] = errors + err
            # A new session in a browser that has been here before (a new tab: its own
            # Streamlit session, Streamlit's front end from the browser's cache). Printed
            # beside the target figure below, which is the first visit of a fresh browser.
            c0 = cpu()
            _, out["new_tab_session_first_page_s"], err = await _open(first, url)
            out["server_cpu_new_tab_session_s"] = cpu() - c0
            out["errors_single"] += err
            await first.close()

            fresh = await browser.new_context(viewport={"width": 1400, "height": 900})
            c0 = cpu()
            _, out["new_session_first_page_s"], err = await _open(fresh, url)
            out["server_cpu_new_session_s"] = cpu() - c0
            out["errors_single"] += err
            await fresh.close()

            async def one() -> tuple[list[float], int]:
                ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
                try:
                    page, first_s, err = await _open(ctx, url)
                    times, errors = await _tour(page, 1)
                    return [first_s, *times], errors + err
                finally:
                    await ctx.close()

            out["concurrent_client"] = client
            out["concurrent_load_average_start"] = list(os.getloadavg())
            cpu0 = server_cpu(server_pid) if server_pid else None
            each0 = cpu_by_process(server_pid) if server_pid else {}
            t0 = time.perf_counter()
            if client == "protocol":
                found = await _concurrent_protocol(url, sessions)
                times, errors, failures = found["times"], found["errors"], found["failures"]
            else:
                results = await asyncio.gather(*(one() for _ in range(sessions)),
                                               return_exceptions=True)
                failed = [r for r in results if isinstance(r, BaseException)]
                times = [t for r in results if not isinstance(r, BaseException) for t in r[0]]
                errors = len(failed) + sum(
                    r[1] for r in results if not isinstance(r, BaseException))
                failures = [repr(f)[:300] for f in failed]
            out["concurrent_wall_s"] = time.perf_counter() - t0
            cpu1 = server_cpu(server_pid) if server_pid else None
            each1 = cpu_by_process(server_pid) if server_pid else {}
            out["concurrent_server_cpu_by_process_s"] = {
                k: round(v - each0.get(k, 0.0), 2) for k, v in each1.items()}
            out["concurrent_server_cpu_s"] = (None if cpu0 is None or cpu1 is None
                                              else cpu1 - cpu0)
            out["concurrent_load_average_end"] = list(os.getloadavg())
            out["concurrent_sessions"] = sessions
            out["concurrent_pages"] = len(times)
            out["concurrent_page_p50_s"] = statistics.median(times) if times else None
            out["concurrent_page_p95_s"] = p95(times) if times else None
            out["concurrent_errors"] = errors
            out["concurrent_failures"] = failures
        finally:
            await browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-w", "--warehouse", type=Path, default=None)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrent-client", choices=("protocol", "browser"),
                        default="protocol",
                        help="the concurrent sessions as websocket clients (default) or as "
                             "Chromium contexts")
    parser.add_argument("--processes", type=int, default=1,
                        help="lmp dashboard --processes: Streamlit processes behind haproxy")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" /
                        "browser.json")
    args = parser.parse_args(argv)
    warehouse = args.warehouse or demo_warehouse()
    work = CACHE / "browser"
    work.mkdir(parents=True, exist_ok=True)
    proc, url, started = start_server(warehouse, work / "server.log", args.processes)
    try:
        res = {"warehouse": str(warehouse), "processes": args.processes,
               "server_start_s": started,
               "load_average_start": list(os.getloadavg()),
               **asyncio.run(measure(url, args.sessions, args.rounds,
                                     client=args.concurrent_client, server_pid=proc.pid))}
    finally:
        stop_server(proc)
    res["load_average"] = list(os.getloadavg())
    res["targets"] = {k: {"target": v, "value": res.get(k),
                          "met": res.get(k) is not None and res[k] < v}
                      for k, v in TARGETS.items()}
    for name, value in res.items():
        if name != "targets":
            print(f"{name:32} {value:.3f}" if isinstance(value, float) else
                  f"{name:32} {value}")
    for name, t in res["targets"].items():
        value = "no value" if t["value"] is None else f"{t['value']:.2f} s"
        print(f"target {name:32} < {t['target']:.1f} s: {value} "
              f"{'met' if t['met'] else 'MISSED'}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
