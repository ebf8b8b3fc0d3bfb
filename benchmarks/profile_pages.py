"""Where a dashboard page run spends its time: cProfile inside Streamlit's script thread.

    .venv/bin/python -m benchmarks.profile_pages -w WAREHOUSE [--runs 3] [--top 30]
        [--roles program,kommune:0301,...] [--pages oversikt,skole,...] [--pstats F]

Runs ``dashboards/app.py`` in ``streamlit.testing.v1.AppTest`` (the same script run a browser
session gets, without the websocket) for each role and page: one untimed run per page first
(the warehouse caches of ``lmpdash.data`` are filled, as on a server that has been up a while),
then ``--runs`` profiled runs. The profiler (clock: the process's CPU time, so other load on
the machine does not count) is enabled in the script-runner thread only (the
thread that runs the page), so the figures are a page run's own work: the split the server's
CPU per page switch is made of (minus the websocket and protobuf send). Prints the script
seconds per page and role, then the top functions by cumulative and by own time over all runs,
and the share of a few known items (Altair ``to_dict``, jsonschema validation, Arrow
conversions). Nothing is timed in ``make test``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
PAGES = {
    "oversikt": "app_pages/oversikt.py",
    "skole": "app_pages/skole.py",
    "faser": "app_pages/faser.py",
    "sammenligning": "app_pages/sammenligning.py",
    "datakvalitet": "app_pages/datakvalitet.py",
}
#: (label, substring of "file:function") summed over the profile (cumulative time; nested
#: entries of the same item are counted once by taking the outermost match per call path is
#: not possible from pstats, so the figures are each function's own cumulative time).
ITEMS = (
    ("altair to_dict (all)", "altair/vegalite/v6/api.py:to_dict"),
    ("jsonschema validate", "altair/utils/schemapi.py:validate_jsonschema"),
    ("streamlit altair->vega spec", "vega_charts.py:_convert_altair_to_vega_lite_spec"),
    ("streamlit _vega_lite_chart", "vega_charts.py:_vega_lite_chart"),
    ("arrow bytes (streamlit)", "dataframe_util.py:convert_anything_to_arrow_bytes"),
    ("polars to_pandas", "polars/dataframe/frame.py:to_pandas"),
    ("polars to_arrow", "polars/dataframe/frame.py:to_arrow"),
    ("st.dataframe", "arrow.py:dataframe"),
    ("st.table", "arrow.py:table"),
    ("Table.display", "lmpdash/charts.py:display"),
)


def _install_profiler(profile: cProfile.Profile | None) -> dict:
    """Wrap ScriptRunner._run_script so each run is profiled in its own thread."""
    from streamlit.runtime.scriptrunner import script_runner

    state = {"on": False, "seconds": 0.0, "cold": False}
    original = script_runner.ScriptRunner._run_script

    def run(self, rerun_data):
        if not state["on"]:
            return original(self, rerun_data)
        specs = sys.modules.get("lmpdash.specs")
        if state["cold"] and hasattr(specs, "clear_spec_cache"):
            specs.clear_spec_cache()   # outside the measured time
        t0 = time.process_time()
        if profile is not None:
            profile.enable()
        try:
            return original(self, rerun_data)
        finally:
            if profile is not None:
                profile.disable()
            state["seconds"] += time.process_time() - t0

    script_runner.ScriptRunner._run_script = run
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-w", "--warehouse", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--roles", default=None, help="comma-separated roles (default: the "
                        "demo's first programme, kommune and veileder roles)")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--pstats", type=Path, default=None, help="write the raw profile here")
    parser.add_argument("--clock", choices=("process", "wall"), default="process",
                        help="the profiler's clock: this process's CPU seconds (default; the "
                             "machine's load does not count, polars' and DuckDB's pools do) "
                             "or wall seconds")
    parser.add_argument("--no-profile", action="store_true",
                        help="only the process CPU seconds per page run, without the profiler "
                             "(its overhead inflates Python-heavy code)")
    parser.add_argument("--cold", action="store_true",
                        help="forget the dashboard's chart and table cache (lmpdash.specs) "
                             "before every measured run: a page's first view by anyone")
    args = parser.parse_args(argv)
    os.environ["LMP_WAREHOUSE"] = str(args.warehouse.resolve())
    roles_file = ROOT / "benchmarks" / ".cache" / "profile-no-users.toml"
    roles_file.parent.mkdir(parents=True, exist_ok=True)
    roles_file.write_text('default_role = "program"\n[users]\n')
    os.environ["LMP_ROLES"] = str(roles_file)

    from streamlit.testing.v1 import AppTest

    if args.roles:
        roles = args.roles.split(",")
    else:
        from lmp_analytics.readmodels import role_picker

        offered = role_picker.demo_roles(warehouse=args.warehouse, extra=())
        roles = [next(r for r in offered if r.startswith(k))
                 for k in ("program", "kommune:", "veileder:")
                 if any(r.startswith(k) for r in offered)]
    pages = args.pages.split(",")
    profile = cProfile.Profile(time.process_time if args.clock == "process"
                               else time.perf_counter)
    state = _install_profiler(None if args.no_profile else profile)
    state["cold"] = args.cold
    per: dict[tuple[str, str], float] = {}
    for role in roles:
        at = AppTest.from_file(str(APP), default_timeout=300)
        at.query_params["role"] = role
        at.run()
        for page in pages:          # fill the caches (the warm-up thread may still run)
            at.switch_page(PAGES[page]).run()
        for page in pages:
            before = state["seconds"]
            state["on"] = True
            for _ in range(args.runs):
                at.switch_page(PAGES[page]).run()
            state["on"] = False
            errors = [e.value for e in at.exception] + [e.value for e in at.error]
            per[(role, page)] = (state["seconds"] - before) / args.runs
            print(f"{role:34} {page:14} {per[(role, page)]:.3f} s CPU per run"
                  + (f"  ERRORS: {errors}" if errors else ""), flush=True)
    total = state["seconds"]
    runs = len(per) * args.runs
    print(f"\nscript CPU per page run, all roles and pages: {total / max(1, runs):.3f} s "
          f"({runs} runs)")
    if args.no_profile:
        return 0
    stats = pstats.Stats(profile)
    if args.pstats:
        stats.dump_stats(str(args.pstats))
    # Profiled time (with cProfile's overhead) per item, as a share of the profiled total.
    raw = stats.stats  # type: ignore[attr-defined]
    profiled = sum(v[2] for v in raw.values())   # sum of own times
    print(f"profiled time (own times summed, profiler overhead included): {profiled:.2f} s\n")
    for label, needle in ITEMS:
        cum = sum(v[3] for (file, _line, fn), v in raw.items() if needle in f"{file}:{fn}")
        print(f"  {label:32} {cum:7.2f} s  {100 * cum / profiled:5.1f} %")
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(args.top)
        text = out.getvalue()
        print(f"\n---- top {args.top} by {order} ----")
        print(text[text.find("   ncalls"):])
    return 0


if __name__ == "__main__":
    sys.exit(main())
