"""Nightly coverage run of the planted-effect simulation (methods note §3.3 and §1e).

    .venv/bin/python benchmarks/coverage.py              # 200 + 100 + 2×100 replications
    .venv/bin/python benchmarks/coverage.py --quick      # 3 replications each, smoke run

Prints, per scenario:
- planted effect: coverage of Wilson (school share after phase 1), MOVER (all-pupil change),
  Newcombe paired (same pupils), and Callaway–Sant'Anna simple and e = 0 intervals, with bias and
  SD(estimate) vs mean SE; also the interval that ignores the linkage, for comparison;
- null (no effect, no trend): McNemar exact and mid-p type I error, overlap score z, CS rejections,
  pre-trend F rejections;
- regression to the mean: naive before→after vs CS e = 0 when schools are selected on a transient
  high, all at once or per pulje, and how often the e = −1 pre-period estimate is flagged.
Exits 1 when an acceptance check fails (coverage in [0.91, 0.98], mid-p type I error <= 0.06,
staggered-RTM pre-period flagged in > 40 % of replications), except with --quick.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import polars as pl

from lmp_analytics.stats.change import risk_difference_change
from lmp_analytics.stats.simulation import Replication, SimulationConfig, replicate


def _run(label: str, reps: int, seed0: int, config: SimulationConfig) -> list[Replication]:
    start = time.perf_counter()
    out = [replicate(seed0 + i, config) for i in range(reps)]
    print(f"\n== {label}: {reps} replications in {time.perf_counter() - start:.0f} s")
    return out


def _covers(low: pl.Expr, high: pl.Expr, truth: pl.Expr) -> pl.Expr:
    return ((low <= truth) & (truth <= high)).cast(pl.Float64)


def _line(name: str, value: float, extra: str = "") -> None:
    print(f"  {name:<46} {value:7.3f} {extra}")


def planted(reps: int, seed0: int) -> dict[str, float]:
    runs = _run("Planted effect (OR 0.70/0.60/0.55/0.55)", reps, seed0, SimulationConfig())
    c = pl.concat([r.contrasts for r in runs])
    indep = [
        risk_difference_change((0, 0, 0, 0), (px, pn), (qx, qn), min_n=1)
        for px, pn, qx, qn in c.select("pre_x", "pre_n", "post_x", "post_n").iter_rows()
    ]
    c = c.with_columns(
        pl.Series("indep_low", [r.ci_low for r in indep]),
        pl.Series("indep_high", [r.ci_high for r in indep]),
    )
    cov = c.select(
        wilson=_covers(pl.col("wilson_low"), pl.col("wilson_high"), pl.col("post_truth")).mean(),
        mover=_covers(pl.col("rd_low"), pl.col("rd_high"), pl.col("rd_truth")).mean(),
        mover_width=(pl.col("rd_high") - pl.col("rd_low")).mean(),
        indep=_covers(pl.col("indep_low"), pl.col("indep_high"), pl.col("rd_truth")).mean(),
        indep_width=(pl.col("indep_high") - pl.col("indep_low")).mean(),
        paired=_covers(pl.col("paired_low"), pl.col("paired_high"), pl.col("paired_truth"))
        .filter(pl.col("linked_n") >= 10)
        .mean(),
        rd_bias=(pl.col("rd") - pl.col("rd_truth")).mean(),
        rd_truth=pl.col("rd_truth").mean(),
        power=(pl.col("rd_p") < 0.05).cast(pl.Float64).mean(),
    ).row(0, named=True)
    print(f"  per-school contrasts: {c.height}")
    _line("Wilson coverage, share after phase 1", cov["wilson"])
    _line("MOVER coverage, all-pupil change", cov["mover"], f"mean width {cov['mover_width']:.3f}")
    _line(
        "  (linkage ignored: Newcombe unlinked)",
        cov["indep"],
        f"mean width {cov['indep_width']:.3f}",
    )
    _line("Newcombe paired coverage, same pupils", cov["paired"])
    _line("All-pupil RD bias", cov["rd_bias"], f"(mean truth {cov['rd_truth']:.4f})")
    _line("Per-school power, overlap score z", cov["power"])
    out = {"wilson": cov["wilson"], "mover": cov["mover"], "paired": cov["paired"]}
    for name, est, se, ci, truth in (
        ("simple", "cs_simple", "cs_simple_se", "cs_simple_ci", "truth_simple"),
        ("e0", "cs_e0", "cs_e0_se", "cs_e0_ci", "truth_e0"),
    ):
        e = np.array([getattr(r, est) for r in runs])
        s = np.array([getattr(r, se) for r in runs])
        lo = np.array([getattr(r, ci)[0] for r in runs])
        hi = np.array([getattr(r, ci)[1] for r in runs])
        t_rep = np.array([getattr(r, truth) for r in runs])
        t_pop = t_rep.mean()
        cov_pop = float(np.mean((lo <= t_pop) & (t_pop <= hi)))
        cov_rep = float(np.mean((lo <= t_rep) & (t_rep <= hi)))
        print(
            f"  CS {name:<6} truth {t_pop:.4f} bias {e.mean() - t_pop:+.4f} "
            f"SD {e.std(ddof=1):.4f} vs mean SE {s.mean():.4f}"
        )
        _line(f"CS {name} coverage (population truth, t_(G-1))", cov_pop)
        _line(f"CS {name} coverage (replication truth)", cov_rep)
        out[f"cs_{name}"] = cov_pop
    return out


def null(reps: int, seed0: int) -> dict[str, float]:
    runs = _run("Null (all OR = 1, no trend)", reps, seed0, SimulationConfig().null())
    c = pl.concat([r.contrasts for r in runs]).filter(pl.col("linked_n") >= 10)
    rates = c.select(
        exact=(pl.col("mcnemar_exact_p") < 0.05).cast(pl.Float64).mean(),
        mid=(pl.col("mcnemar_mid_p") < 0.05).cast(pl.Float64).mean(),
        overlap=(pl.col("rd_p") < 0.05).cast(pl.Float64).mean(),
    ).row(0, named=True)
    print(f"  school contrasts with >= 10 linked pupils: {c.height}")
    _line("McNemar exact type I error", rates["exact"])
    _line("McNemar mid-p type I error", rates["mid"])
    _line("Overlap score z type I error", rates["overlap"])
    cs_simple = np.mean([not (r.cs_simple_ci[0] <= 0 <= r.cs_simple_ci[1]) for r in runs])
    cs_e0 = np.mean([not (r.cs_e0_ci[0] <= 0 <= r.cs_e0_ci[1]) for r in runs])
    pre = [r.pre_trend_p for r in runs if r.pre_trend_p is not None]
    _line("CS simple rejection rate", float(cs_simple))
    _line("CS e=0 rejection rate", float(cs_e0))
    _line("Pre-trend F test rejection rate", float(np.mean(np.array(pre) < 0.05)))
    return {"mid_p": rates["mid"]}


def rtm(reps: int, seed0: int) -> dict[str, float]:
    out = {}
    print("\n== Regression to the mean (transient AR(1) shocks, top 25 % of 4x candidates)")
    print(
        f"  {'selection':<10} {'truth e0':>9} {'naive':>8} {'bias':>8} {'CS e0':>8} "
        f"{'bias':>8} {'cover':>6} {'CS e=-1':>8} {'flagged':>8}"
    )
    for scheme in ("at_once", "staggered"):
        runs = [replicate(seed0 + i, SimulationConfig(rtm=scheme)) for i in range(reps)]
        truth = np.mean([r.truth_e0 for r in runs])
        naive = np.mean([r.naive_e0 for r in runs])
        cs = np.array([r.cs_e0 for r in runs])
        cover = np.mean([r.cs_e0_ci[0] <= truth <= r.cs_e0_ci[1] for r in runs])
        pre = np.mean([r.cs_pre_e1 for r in runs if r.cs_pre_e1 is not None])
        flagged = np.mean([r.cs_pre_e1_z is not None and abs(r.cs_pre_e1_z) > 1.96 for r in runs])
        print(
            f"  {scheme:<10} {truth:9.4f} {naive:8.4f} {naive - truth:+8.4f} {cs.mean():8.4f} "
            f"{cs.mean() - truth:+8.4f} {cover:6.2f} {pre:+8.4f} {flagged:8.2f}"
        )
        out[scheme] = float(flagged)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200, help="planted-effect replications")
    parser.add_argument("--null-reps", type=int, default=100)
    parser.add_argument("--rtm-reps", type=int, default=100, help="per selection scheme")
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="3 replications each; no verdict")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps = args.null_reps = args.rtm_reps = 3
    cov = planted(args.reps, args.seed)
    nul = null(args.null_reps, args.seed + 100_000)
    sel = rtm(args.rtm_reps, args.seed + 200_000)
    checks = {
        **{
            f"coverage {k} in [0.91, 0.98]": 0.91 <= v <= 0.98
            for k, v in cov.items()
            if k in ("wilson", "mover", "paired", "cs_simple")
        },
        "McNemar mid-p type I error <= 0.06": nul["mid_p"] <= 0.06,
        "staggered RTM: e=-1 flagged in > 40 %": sel["staggered"] > 0.40,
    }
    print("\n== Acceptance")
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if args.quick or all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
