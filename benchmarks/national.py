"""National-panel evaluation at national scale: every design × grade in under 10 s on 2 cores.

    .venv/bin/python benchmarks/national.py              # 3 runs, prints figures, writes JSON
    .venv/bin/python benchmarks/national.py --repeat 5 --out /tmp/national.json

The country: the synthetic world at ``national`` scale (2,700 grunnskoler, 120 LMP schools in
three puljer) with every school a 1–10 school (both grades) and surveys 2014–2025: 2,700 schools
× 12 years × 2 grades, the country file written in the statistics bank's layout and loaded with
``ingest-national`` into a real warehouse together with the roster (setup, untimed). Timed: one
``national_evaluation(warehouse)`` call in a fresh process (so the import of ``differences`` and
the warehouse read are counted), all four designs × 7th, 10th and pooled, once inside the series
segment (2016+, the default) and once with the 2016 break bridged (all 12 years).
Also run as step 6 of ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 10.0
ROOT = Path(__file__).resolve().parent


def build(directory: Path) -> dict:
    """The national-scale country in a real warehouse (untimed setup)."""
    from lmp_analytics.ingest import protect
    from lmp_analytics.jobs import ingest_national
    from lmp_analytics.pipeline import ingest_files
    from lmp_analytics.synth import Params
    from lmp_analytics.synth.eus_files import country_csv
    from lmp_analytics.synth.roster_files import program_csv
    from lmp_analytics.synth.world import build_world

    params = Params.for_scale("national")
    params = type(params)(**{**params.__dict__, "country_first_year": 2014,
                             "school_type_shares": (0.0, 0.0, 1.0)})
    world = build_world(params, 2026)
    country = directory / "elevundersokelsen_skoler.csv"
    country.write_bytes(country_csv(world))
    roster = directory / "program.csv"
    roster.write_bytes(program_csv(world))
    (directory / "no_exports").mkdir(exist_ok=True)
    warehouse = directory / "national.duckdb"
    key = protect.generate_key().encode("ascii")
    ingest_national([country], warehouse=warehouse)
    # the roster alone (a folder without Spekter exports) into the existing warehouse
    report = ingest_files([directory / "no_exports"], roster, warehouse=warehouse, key=key)
    if report.exit_code != 0:
        raise SystemExit(f"roster ingest failed: {report.outcomes}")
    return {"warehouse": str(warehouse), "schools": len(world.schools),
            "lmp_schools": sum(s.rolle == "deltaker" for s in world.schools),
            "years": [int(y) for y in world.country.years]}


CHILD = """
import json, sys, time
start = time.perf_counter()
from lmp_analytics.evaluation.national_designs import national_evaluation
result = national_evaluation(sys.argv[1], bridge_breaks=sys.argv[2] == "1")
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rows": result.results.height,
                  "event_rows": result.event_study.height,
                  "results": result.results.drop("warning").to_dicts()}))
"""


def run_once(warehouse: str, bridged: bool) -> dict:
    """One evaluation in a fresh process: its own timing (import + read + every fit)."""
    out = subprocess.run([sys.executable, "-c", CHILD, warehouse, "1" if bridged else "0"],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_national(repeat: int = 3, log=print) -> dict:
    """Build the country once, time the evaluation ``repeat`` times per variant."""
    with tempfile.TemporaryDirectory(prefix="lmp-national-") as tmp:
        started = time.perf_counter()
        meta = build(Path(tmp))
        import duckdb

        with duckdb.connect(meta["warehouse"], read_only=True) as con:
            meta["cells"] = con.sql("SELECT count(*) FROM fct_eu_result WHERE level = 'skole' "
                                    "AND indicator_code = 'EU_MOBBING'").fetchall()[0][0]
        meta["setup_s"] = time.perf_counter() - started
        log(f"  national panel: {meta['schools']:,} schools ({meta['lmp_schools']} LMP), "
            f"{len(meta['years'])} years, {meta['cells']:,} school cells; setup "
            f"{meta['setup_s']:.0f} s")
        out: dict = {"world": meta}
        for name, bridged in (("segment 2016+", False), ("bridged 2014-2025", True)):
            runs = [run_once(meta["warehouse"], bridged) for _ in range(repeat)]
            seconds = [r["seconds"] for r in runs]
            out[name] = {"n": len(runs), "median": statistics.median(seconds),
                         "min": min(seconds), "max": max(seconds), "rows": runs[0]["rows"],
                         "results": runs[0]["results"]}
            log(f"  national evaluation ({name}): median {out[name]['median']:.2f} s "
                f"(min {min(seconds):.2f}, max {max(seconds):.2f}; {runs[0]['rows']} result "
                f"rows)")
    worst = max(out[k]["median"] for k in ("segment 2016+", "bridged 2014-2025"))
    out["target_s"] = TARGET_S
    out["met"] = worst < TARGET_S
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "national.json")
    args = parser.parse_args(argv)
    res = bench_national(args.repeat)
    for name in ("segment 2016+", "bridged 2014-2025"):
        s = res[name]
        print(f"{'national evaluation, ' + name:<44} n={s['n']}  median {s['median']:6.2f} s  "
              f"min {s['min']:6.2f}  max {s['max']:6.2f}")
    print(f"target: whole evaluation < {TARGET_S:.0f} s on 2 cores -> "
          f"{'met' if res['met'] else 'MISSED'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1, default=str))
    print(f"JSON: {args.out}")
    return 0 if res["met"] else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT.parent))
    sys.exit(main())
