"""Where a session's first page spends its time, in the browser's own clock.

    .venv/bin/python -m benchmarks.browser_split [-w WAREHOUSE] [--repeat 3] [--json F]

For each repetition: a new ``lmp dashboard`` (``benchmarks.browser.start_server``), then, as
``benchmarks.browser`` does, the first page after the start, a new tab of that browser (after a
tour of the pages, so the server is warm), and a fresh browser context (empty HTTP cache). Each
page is instrumented before any of its scripts runs (an init script): the navigation and
resource timings (``performance.getEntries``), the websocket's creation, open, first message
sent and every message received, every change of the app's script state, the first Vega-Lite
chart and its marks, long tasks; Chromium's per-page CPU counters (``Performance.getMetrics``:
script, compile, layout, style); the server's CPU seconds over the page (``/proc``). All times
are milliseconds from the navigation start; ``t_goto`` is the gap between the benchmark's timer
(started before ``page.goto``) and the navigation start.

A diagnostic, not a target: its figures explain ``benchmarks.browser``'s, they do not replace
them (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

from benchmarks.browser import (
    ARGS,
    CACHE,
    CHROMIUM,
    _drawn,
    _tour,
    demo_warehouse,
    server_cpu,
    start_server,
    stop_server,
)

INSTRUMENT = r"""
(() => {
  const T = window.__lmp = {marks: {}, states: [], ws: [], long: []};
  const now = () => performance.now();
  const mark = (k) => { if (!(k in T.marks)) T.marks[k] = now(); };
  const WS = window.WebSocket;
  class Traced extends WS {
    constructor(...a) {
      super(...a);
      const r = {url: String(a[0]), created: now(), sent: [], recv: []};
      T.ws.push(r);
      this.addEventListener('open', () => { r.open = now(); });
      this.addEventListener('message', (e) => {
        const d = e.data; r.recv.push([now(), d.byteLength ?? d.size ?? d.length ?? 0]); });
      this.__r = r;
    }
    send(d) { this.__r.sent.push([now(), d.byteLength ?? d.size ?? d.length ?? 0]);
              return super.send(d); }
  }
  window.WebSocket = Traced;
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries())
      T.long.push([e.startTime, e.duration]); }).observe({type: 'longtask', buffered: true});
  } catch (e) {}
  let last = null;
  const check = () => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app) return;
    mark('app');
    const s = app.getAttribute('data-test-script-state');
    if (s !== last) { T.states.push([now(), s]); last = s; }
    if (document.querySelector("[data-testid='stSidebarNav'] a")) mark('nav');
    if (document.querySelector("h1")) mark('h1');
    if (document.querySelector("[data-testid='stVegaLiteChart']")) mark('chart_el');
    if (document.querySelector("[data-testid='stVegaLiteChart'] .marks")) mark('marks');
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true,
    attributes: true, attributeFilter: ['data-test-script-state']});
  document.addEventListener('DOMContentLoaded', () => mark('dcl'));
})();
"""

COLLECT = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource').map(e => ({
    name: e.name.replace(location.origin, ''), type: e.initiatorType, start: e.startTime,
    end: e.responseEnd, size: e.transferSize, body: e.decodedBodySize}));
  const paint = performance.getEntriesByType('paint').map(e => [e.name, e.startTime]);
  return {nav: nav && {responseStart: nav.responseStart, responseEnd: nav.responseEnd,
                       dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd},
          res, paint, ...window.__lmp};
}"""

METRICS = ("ScriptDuration", "V8CompileDuration", "LayoutDuration", "RecalcStyleDuration",
           "TaskDuration", "ProcessTime")


async def _page(context, url: str, pid: int) -> dict:
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Performance.enable")
    c0 = server_cpu(pid)
    t0 = time.perf_counter()
    wall0 = time.time() * 1000
    await page.goto(url, wait_until="commit")
    await page.wait_for_selector("[data-testid='stSidebarNav'] a", timeout=120_000)
    elapsed, error = await _drawn(page, t0)
    cpu = server_cpu(pid) - c0
    got = await page.evaluate(COLLECT)
    origin = await page.evaluate("performance.timeOrigin")
    metrics = {m["name"]: m["value"] for m in
               (await cdp.send("Performance.getMetrics"))["metrics"]}
    return {"page": page, "elapsed_s": elapsed, "error": error, "server_cpu_s": cpu,
            "t_goto_ms": origin - wall0, "raw": got,
            "metrics": {k: metrics.get(k) for k in METRICS}}


def summarise(raw: dict) -> dict:
    """The split of one page, ms from the navigation start."""
    res = raw["res"]
    js = [r for r in res if r["name"].endswith(".js")]
    css = [r for r in res if r["name"].endswith(".css")]
    fonts = [r for r in res if r["name"].endswith((".woff2", ".woff", ".ttf"))]
    ws = next((w for w in raw["ws"] if "stream" in w["url"]), raw["ws"][0] if raw["ws"] else {})
    states = raw["states"]
    runs = [t for t, s in states if s == "running"]
    ends = [t for t, s in states if s == "notRunning"]
    out = {
        "html_end": raw["nav"]["responseEnd"],
        "dcl": raw["nav"]["dcl"],
        "js_requests": len(js), "js_bytes": sum(r["body"] for r in js),
        "js_transfer": sum(r["size"] for r in js),
        "js_first_end": min((r["end"] for r in js), default=None),
        "js_last_end": max((r["end"] for r in js), default=None),
        "css_fonts": len(css) + len(fonts),
        "fonts_last_end": max((r["end"] for r in fonts), default=None),
        "other_requests": [(r["name"][:60], round(r["start"]), round(r["end"]))
                           for r in res if not r["name"].endswith((".js", ".css", ".woff2"))],
        "app": raw["marks"].get("app"),
        "ws_created": ws.get("created"), "ws_open": ws.get("open"),
        "ws_first_sent": ws["sent"][0][0] if ws.get("sent") else None,
        "ws_first_recv": ws["recv"][0][0] if ws.get("recv") else None,
        "ws_msgs": len(ws.get("recv", [])),
        "ws_bytes": sum(b for _, b in ws.get("recv", [])),
        "first_run_start": runs[0] if runs else None,
        "first_run_end": ends[1] if len(ends) > 1 else (ends[0] if ends else None),
        "runs": len(runs),
        "nav": raw["marks"].get("nav"), "h1": raw["marks"].get("h1"),
        "chart_el": raw["marks"].get("chart_el"), "marks": raw["marks"].get("marks"),
        "long_tasks_ms": round(sum(d for _, d in raw["long"])),
        "long_tasks": [(round(s), round(d)) for s, d in raw["long"] if d > 80],
    }
    # messages received after the first run started, before its end (the run's deltas)
    if runs:
        out["msgs_in_run"] = sum(1 for t, _ in ws.get("recv", []) if runs[0] <= t)
        after = [r for r in res if r["start"] >= (out["ws_first_recv"] or 0)]
        out["requests_after_ws"] = [(r["name"][:60], round(r["start"]), round(r["end"]))
                                    for r in after]
    return out


async def run(url: str, pid: int, rounds: int) -> dict:
    from playwright.async_api import async_playwright

    out = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            first = await browser.new_context(viewport={"width": 1400, "height": 900},
                                              locale="nb-NO")
            await first.add_init_script(INSTRUMENT)
            got = await _page(first, url, pid)
            page = got.pop("page")
            out["first"] = got
            await _tour(page, rounds)
            got = await _page(first, url, pid)
            got.pop("page")
            out["tab"] = got
            await first.close()
            c0 = time.perf_counter()
            fresh = await browser.new_context(viewport={"width": 1400, "height": 900})
            out["context_create_s"] = time.perf_counter() - c0
            await fresh.add_init_script(INSTRUMENT)
            got = await _page(fresh, url, pid)
            got.pop("page")
            out["fresh"] = got
            await fresh.close()
        finally:
            await browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-w", "--warehouse", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" /
                        "browser_split.json")
    args = parser.parse_args(argv)
    warehouse = args.warehouse or demo_warehouse()
    work = CACHE / "browser"
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for _ in range(args.repeat):
        load = os.getloadavg()[0]
        proc, url, started = start_server(warehouse, work / "server.log")
        try:
            got = asyncio.run(run(url, proc.pid, args.rounds))
        finally:
            stop_server(proc)
        got["server_start_s"] = started
        got["load"] = [load, os.getloadavg()[0]]
        for case in ("first", "tab", "fresh"):
            got[case]["split"] = summarise(got[case]["raw"])
        results.append(got)
        print(f"load {load:.2f}  start {started:.2f} s  goto "
              f"{[round(got[c]['t_goto_ms']) for c in ('first', 'tab', 'fresh')]} ms  "
              f"context {got['context_create_s'] * 1000:.0f} ms")
        for case in ("first", "tab", "fresh"):
            c = got[case]
            s = c["split"]
            m = c["metrics"]
            print(f"  {case:6} {c['elapsed_s']:.2f} s  server cpu {c['server_cpu_s']:.2f} s  "
                  f"html {s['html_end']:.0f}  js {s['js_requests']} ({s['js_bytes'] / 1e6:.1f} MB"
                  f", xfer {s['js_transfer'] / 1e6:.2f}) last {s['js_last_end'] or 0:.0f}  "
                  f"app {s['app'] or 0:.0f}  ws {s['ws_created'] or 0:.0f}/"
                  f"{s['ws_open'] or 0:.0f}  sent {s['ws_first_sent'] or 0:.0f}  "
                  f"recv {s['ws_first_recv'] or 0:.0f}  run {s['first_run_start'] or 0:.0f}"
                  f"-{s['first_run_end'] or 0:.0f} ({s['runs']})  nav {s['nav'] or 0:.0f}  "
                  f"chart {s['chart_el'] or 0:.0f}  marks {s['marks'] or 0:.0f}")
            print(f"         browser: script {m['ScriptDuration'] * 1000:.0f} ms, compile "
                  f"{(m['V8CompileDuration'] or 0) * 1000:.0f}, layout "
                  f"{m['LayoutDuration'] * 1000:.0f}, style "
                  f"{m['RecalcStyleDuration'] * 1000:.0f}, task {m['TaskDuration'] * 1000:.0f}"
                  f"; long tasks {s['long_tasks_ms']} ms {s['long_tasks']}")
            late = s.get("requests_after_ws") or []
            if late:
                print(f"         requested after the first message: {len(late)} files, "
                      f"{min(r[1] for r in late)}-{max(r[2] for r in late)} ms")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    if len(results) > 1:
        for case in ("first", "tab", "fresh"):
            print(case, "median", statistics.median(r[case]["elapsed_s"] for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
