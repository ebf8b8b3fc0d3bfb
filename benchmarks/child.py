"""One measurement in a fresh process (so peak memory is its own): prints one JSON object.

    python -m benchmarks.child ingest WORLD WAREHOUSE [FILE ...]
    python -m benchmarks.child floor polars|duckdb WORLD
    python -m benchmarks.child queries WAREHOUSE REPEAT
    python -m benchmarks.child stats WAREHOUSE REPEAT
    python -m benchmarks.child decade YEAR_WAREHOUSE DECADE_WAREHOUSE [YEARS]

``ingest`` runs what ``lmp ingest`` runs (``jobs.ingest_and_build``: read, protect, map, validate,
load, marts, publication, atomic publish) with timers around its phases; with FILEs it ingests
only those (the incremental case) into an existing WAREHOUSE.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

KEY = b"benchmark-pseudonym-key-0123456789abcdef0123456789abcdef"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ingest(world: Path, warehouse: Path, files: list[Path]) -> dict:
    import lmp_analytics.jobs as jobs
    from lmp_analytics.evaluation.change_table import build_change_table
    from lmp_analytics.evaluation.national_view import build_national_estimates
    from lmp_analytics.metrics.marts import build_marts
    from lmp_analytics.publication import build_publication
    from lmp_analytics.warehouse import publish

    phases: dict[str, float] = {"copy": 0.0}
    copy_published = publish.copy_published

    def timed_copy(src, dst):
        start = time.perf_counter()
        try:
            return copy_published(src, dst)
        finally:
            phases["copy"] += time.perf_counter() - start

    def derived(con) -> None:
        phases["load_done"] = time.perf_counter()
        phases["load_peak_rss_mb"] = _rss_mb()
        start = time.perf_counter()
        build_marts(con)
        phases["marts"] = time.perf_counter() - start
        start = time.perf_counter()
        build_change_table(con)
        phases["changes"] = time.perf_counter() - start
        start = time.perf_counter()
        build_publication(con)
        phases["publication"] = time.perf_counter() - start
        start = time.perf_counter()
        jobs.build_estimates(con)  # stored at publish time: the pages only read them
        build_national_estimates(con)
        phases["estimates"] = time.perf_counter() - start
        phases["derived_done"] = time.perf_counter()

    publish.copy_published = timed_copy  # the write session's copy of the published file
    jobs.build_derived = derived
    start = time.perf_counter()
    report = jobs.ingest_and_build(files or [world / "spekter"], world / "program.csv",
                                   warehouse=warehouse, key=KEY)
    end = time.perf_counter()
    out = {
        "seconds": end - start,
        "copy": phases["copy"],
        "load": phases.get("load_done", end) - start - phases["copy"],
        "marts": phases.get("marts", 0.0),
        "changes": phases.get("changes", 0.0),
        "publication": phases.get("publication", 0.0),
        "estimates": phases.get("estimates", 0.0),
        "publish": end - phases.get("derived_done", end),
        "rows": report.rows_loaded,
        "files": report.count("loaded"),
        "rejected": report.count("rejected"),
        "exit_code": report.exit_code,
        "peak_rss_mb": _rss_mb(),
        "load_peak_rss_mb": phases.get("load_peak_rss_mb"),
    }
    return out


def floor(kind: str, world: Path) -> dict:
    from benchmarks.floor import duckdb_floor, polars_floor
    from benchmarks.worlds import spekter_files

    files = spekter_files(world)
    start = time.perf_counter()
    rows = (polars_floor if kind == "polars" else duckdb_floor)(files)
    return {"seconds": time.perf_counter() - start, "rows": rows, "peak_rss_mb": _rss_mb()}


BUDGET_S = 30.0  # a slow call is repeated only until this much time is spent (at least once)


def _timed(fn, repeat: int, cpu: list[float] | None = None) -> list[float]:
    """Wall seconds of each run; with ``cpu``, this process's CPU seconds of each run are
    appended to it (``time.process_time``: all threads, so DuckDB's and polars' pools count)."""
    out: list[float] = []
    while len(out) < repeat and sum(out) < BUDGET_S:
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.process_time() - start_cpu)
    return out


def queries(warehouse: Path, repeat: int) -> dict:
    from benchmarks.pages import page_queries

    results = {}
    for page, name, fn in page_queries(warehouse):
        try:
            cpu: list[float] = []
            results[f"{page}: {name}"] = {"page": page, "seconds": _timed(fn, repeat, cpu),
                                          "cpu_seconds": cpu}
        except Exception as exc:  # a page function another engineer is still writing
            results[f"{page}: {name}"] = {"page": page, "error": f"{type(exc).__name__}: {exc}"}
    return {"queries": results, "peak_rss_mb": _rss_mb()}


def stats(warehouse: Path, repeat: int) -> dict:
    from benchmarks.pages import statistics_tasks

    results = {}
    for name, fn in statistics_tasks(warehouse):
        try:
            results[name] = {"seconds": _timed(fn, repeat)}
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return {"stats": results, "peak_rss_mb": _rss_mb()}


def decade(year: Path, target: Path, years: int = 10) -> dict:
    from benchmarks.worlds import replicate_years

    start = time.perf_counter()
    info = replicate_years(year, target, years)
    return {"seconds": time.perf_counter() - start, **info, "peak_rss_mb": _rss_mb()}


def main(argv: list[str]) -> None:
    task, args = argv[0], argv[1:]
    if task == "ingest":
        out = ingest(Path(args[0]), Path(args[1]), [Path(a) for a in args[2:]])
    elif task == "floor":
        out = floor(args[0], Path(args[1]))
    elif task == "queries":
        out = queries(Path(args[0]), int(args[1]))
    elif task == "stats":
        out = stats(Path(args[0]), int(args[1]))
    elif task == "decade":
        out = decade(Path(args[0]), Path(args[1]), *(int(a) for a in args[2:3]))
    else:
        raise SystemExit(f"unknown task {task}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
