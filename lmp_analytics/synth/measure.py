"""Measure generation time and peak memory of one scale.

Usage: ``python -m lmp_analytics.synth.measure --scale national [--out DIR]``.

Peak RSS is the process's high-water mark (``resource.getrusage``), so run one scale per process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from lmp_analytics.synth.generate import write_world


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="national", choices=("demo", "kommune", "national"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--with-errors", action="store_true")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix=f"lmp-synth-{args.scale}-"))
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30 or done == total:
            last[0] = now
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            msg = f"  {done}/{total} schools, {now - start:.0f} s, peak RSS {rss:.0f} MiB"
            print(msg, flush=True)

    start = time.perf_counter()
    summary = write_world(
        out, seed=args.seed, scale=args.scale, with_errors=args.with_errors, progress=progress
    )
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    print(
        f"scale={args.scale} schools={summary.n_schools} pupils={summary.n_pupils} "
        f"files={summary.n_files} rows={summary.n_rows} size={size:.0f} MiB "
        f"time={elapsed:.1f} s peak_rss={peak:.0f} MiB out={out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
