"""Coverage of the national-panel designs on the synthetic country (slow; issue 17's check).

    .venv/bin/python benchmarks/coverage_national.py                  # 200 seeds, all grades
    .venv/bin/python benchmarks/coverage_national.py --seeds 5        # smoke run
    make coverage-national

Each replication builds a synthetic country (``build_world(Params(country_schools=N), seed)``:
N grunnskoler, 18 LMP schools in three puljer chosen at random among the schools meeting the
selection rule on the 2020–2022 surveys, surveys 2016–2025, Udir's suppression below 10), runs
the eligible-non-participant DiD and the naive before/after (``national_evaluation`` on the
country's panel, as read from a warehouse) and compares each with its truth: the estimator's own
aggregation of the planted cell effects (``lmp_analytics.synth.country_panel.truth_of``).

Prints per design × grade: coverage of the 95 % interval (with its binomial 95 % interval), mean
bias (estimate − truth) with its standard error, SD of the estimates, mean reported SE, mean
truth; writes everything (and every replication) to JSON. Exits 1 when the eligible design's
coverage is outside 91–98 % or the naive before/after is not biased downwards (the direction
regression to the mean predicts: schools chosen after a high fall back, which the naive
comparison counts as programme effect) by more than two standard errors.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BAND = (0.91, 0.98)


def _one(job: tuple[int, int, tuple[str, ...]]) -> list[dict]:
    from lmp_analytics.synth import Params
    from lmp_analytics.synth.country_panel import replicate

    seed, schools, trinn = job
    frame = replicate(seed, Params(country_schools=schools), designs=("eligible", "naive"),
                      trinn=trinn)
    return frame.drop("warning").to_dicts()


def summarise(rows: list[dict]) -> list[dict]:
    """Per design × grade: replications, coverage (+ Wilson 95 %), bias, SDs, truth."""
    from lmp_analytics.stats._common import t_crit

    out = []
    keys = sorted({(r["design"], r["trinn"]) for r in rows})
    for design, trinn in keys:
        part = [r for r in rows if (r["design"], r["trinn"]) == (design, trinn)
                and r["estimate_pp"] is not None and r["truth"] is not None]
        n = len(part)
        if n == 0:
            continue
        cov = sum(bool(r["covered"]) for r in part) / n
        z = 1.959964
        centre = (cov + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(cov * (1 - cov) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        bias = [r["estimate_pp"] - r["truth"] for r in part]
        mean_bias = sum(bias) / n
        sd_bias = math.sqrt(sum((b - mean_bias) ** 2 for b in bias) / max(n - 1, 1))
        est = [r["estimate_pp"] for r in part]
        mean_est = sum(est) / n
        se = [(r["ci_high_pp"] - r["ci_low_pp"]) / 2 / t_crit(0.95, r["n_lmp_schools"] - 1)
              for r in part]
        out.append({
            "design": design, "trinn": trinn, "replications": n,
            "missing": sum((r["design"], r["trinn"]) == (design, trinn) for r in rows) - n,
            "coverage": cov, "coverage_low": centre - half, "coverage_high": centre + half,
            "mean_bias": mean_bias, "bias_se": sd_bias / math.sqrt(n),
            "sd_estimate": math.sqrt(sum((e - mean_est) ** 2 for e in est) / max(n - 1, 1)),
            "mean_se": sum(se) / n, "mean_truth": sum(r["truth"] for r in part) / n,
            "mean_estimate": mean_est,
            "mean_comparison_schools": sum(r["n_comparison_schools"] for r in part) / n,
        })
    return out


def checks(summary: list[dict]) -> dict[str, tuple[bool, str]]:
    """The acceptance checks: eligible coverage in the band, naive biased downwards."""
    out = {}
    for s in summary:
        if s["design"] == "eligible":
            out[f"eligible {s['trinn']}: coverage in 91-98 %"] = (
                BAND[0] <= s["coverage"] <= BAND[1], f"{s['coverage']:.1%}")
        if s["design"] == "naive":
            out[f"naive {s['trinn']}: biased downwards (RTM)"] = (
                s["mean_bias"] < -2 * s["bias_se"],
                f"bias {s['mean_bias'] * 100:+.2f} pp (SE {s['bias_se'] * 100:.2f})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=200, help="replications (200)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--schools", type=int, default=600,
                        help="grunnskoler of the synthetic country (600)")
    parser.add_argument("--trinn", default="pooled,7,10")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "coverage_national.json")
    args = parser.parse_args(argv)
    trinn = tuple(t.strip() for t in args.trinn.split(","))
    jobs = [(args.first_seed + i, args.schools, trinn) for i in range(args.seeds)]
    started = time.perf_counter()
    rows: list[dict] = []
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            for i, part in enumerate(pool.map(_one, jobs), 1):
                rows += part
                if i % 20 == 0:
                    print(f"  {i}/{len(jobs)} replications, {time.perf_counter() - started:.0f} s",
                          flush=True)
    else:
        for i, job in enumerate(jobs, 1):
            rows += _one(job)
            if i % 20 == 0:
                print(f"  {i}/{len(jobs)} replications, {time.perf_counter() - started:.0f} s",
                      flush=True)
    seconds = time.perf_counter() - started
    summary = summarise(rows)
    print(f"\nNational panel, synthetic country of {args.schools} schools: {args.seeds} seeds "
          f"({args.first_seed}..{args.first_seed + args.seeds - 1}) in {seconds / 60:.1f} min")
    print(f"{'design':<9} {'trinn':<7} {'n':>4} {'coverage':>9} {'(95 % CI)':>15} "
          f"{'bias pp':>8} {'±SE':>5} {'SD est':>7} {'mean SE':>8} {'truth pp':>9} "
          f"{'controls':>9}")
    for s in summary:
        print(f"{s['design']:<9} {s['trinn']:<7} {s['replications']:>4} {s['coverage']:>9.1%} "
              f"({s['coverage_low']:.1%}-{s['coverage_high']:.1%}) "
              f"{s['mean_bias'] * 100:>+8.2f} {s['bias_se'] * 100:>5.2f} "
              f"{s['sd_estimate'] * 100:>7.2f} {s['mean_se'] * 100:>8.2f} "
              f"{s['mean_truth'] * 100:>+9.2f} {s['mean_comparison_schools']:>9.0f}")
    result = checks(summary)
    for name, (ok, detail) in result.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}: {detail}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "seeds": args.seeds, "first_seed": args.first_seed, "schools": args.schools,
        "seconds": seconds, "summary": summary,
        "checks": {k: {"ok": ok, "detail": d} for k, (ok, d) in result.items()},
        "replications": rows,
    }, indent=1, default=str))
    print(f"JSON: {args.out}")
    return 0 if all(ok for ok, _ in result.values()) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT.parent))
    sys.exit(main())
