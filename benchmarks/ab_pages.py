"""Time each dashboard page call of whichever checkout is first on ``PYTHONPATH``, for
before/after comparisons run back to back (``benchmarks/README.md``, "Page calls after the
architecture step"). Prints one JSON object: per call, the median wall and CPU seconds
(``time.process_time``: this process's CPU in all its threads, so DuckDB's and polars' pools
count, and another process's load does not).

    PYTHONPATH=/tmp/old python benchmarks/ab_pages.py WAREHOUSE REPEAT [PAGE,PAGE]

The script uses only ``benchmarks.pages.page_queries`` of the checkout on the path, so the
same file drives an older checkout (its own page calls, on a warehouse that checkout built).
Each call runs once untimed (imports, codebook caches), then ``REPEAT`` times.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> dict:
    from benchmarks.pages import page_queries

    warehouse, repeat = Path(argv[0]), int(argv[1])
    only = set(argv[2].split(",")) if len(argv) > 2 else None
    out: dict[str, dict] = {}
    for page, name, fn in page_queries(warehouse):
        if only and page not in only:
            continue
        try:
            fn()
            walls, cpus = [], []
            for _ in range(repeat):
                start, start_cpu = time.perf_counter(), time.process_time()
                fn()
                walls.append(time.perf_counter() - start)
                cpus.append(time.process_time() - start_cpu)
            out[f"{page}: {name}"] = {"page": page, "wall": statistics.median(walls),
                                      "cpu": statistics.median(cpus)}
        except Exception as exc:  # a call the checkout does not have
            out[f"{page}: {name}"] = {"page": page, "error": f"{type(exc).__name__}: {exc}"}
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
