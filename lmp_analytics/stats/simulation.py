"""Planted-effect simulation: a staggered LMP rollout with known truths, to test the estimators.

Data-generating process (one Spekter round at the end of each term t = 0..T−1; pulje g runs
phase k in term g+k−1, so the round at t = g is the first after any exposure):

    logit P(y = 1) = β₀ − 0.03·t + u_s + v_c + b_i + w_st + δ_e·1[t >= g],  e = t − g,

u_s ~ N(0, 0.54²) school, v_c ~ N(0, 0.45²) class, b_i ~ N(0, 1.40²) pupil (persistent across
rounds), δ_e = log of the cumulative conditional OR 0.70 / 0.60 / 0.55 / 0.55 after phase
1 / 2 / 3 / 4+, β₀ calibrated by Gauss–Hermite so the marginal prevalence at t = 0 is 0.11.
Six grades with 1–2 classes of 15–24 pupils; each autumn (even t > 0) classes move up, grade 10
leaves and a new grade 5 arrives; 3 % of pupils per term move and are replaced; 90 % respond.
Optional regression-to-the-mean extension: transient AR(1) school shocks w_st (sd 0.35, ρ 0.6)
and selection of the top 25 % of 4× candidate schools on u + w + N(0, 0.3²), either all at once
(2 terms before the first pulje starts) or per pulje (2 terms before its own start).

Recorded truths per pupil-row: p0/p1 = pupil-specific potential outcomes expit(η), expit(η + δ);
pi0/pi1 = class-level probabilities integrated over b (Gauss–Hermite). This is our own vectorised
implementation of the recipe; it does not reproduce the random streams of any other code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import polars as pl
from scipy.optimize import brentq
from scipy.special import expit

from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.change import linked_change, risk_difference_change
from lmp_analytics.stats.did import staggered_did
from lmp_analytics.stats.paired import mcnemar_test
from lmp_analytics.stats.proportions import wilson_bounds

__all__ = [
    "Replication",
    "SimulationConfig",
    "phase1_contrasts",
    "replicate",
    "school_panel",
    "simulate",
]

_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(30)
_GH_W = _GH_W / _GH_W.sum()


def _integrate(eta: np.ndarray, sd: float) -> np.ndarray:
    """E_b[expit(eta + b)], b ~ N(0, sd²), by 30-point Gauss–Hermite."""
    return (expit(np.asarray(eta, dtype=float)[..., None] + sd * _GH_X) * _GH_W).sum(-1)


@dataclass(frozen=True)
class SimulationConfig:
    """Parameters of the DGP; defaults are the planted-effect scenario (40 schools, 10 terms)."""

    schools: int = 40
    cohorts: tuple[int, ...] = (2, 4, 6, 8)
    terms: int = 10
    grades: int = 6
    p_base: float = 0.11
    trend: float = -0.03
    sd_school: float = 0.54
    sd_class: float = 0.45
    sd_pupil: float = 1.40
    odds_ratios: tuple[float, ...] = (0.70, 0.60, 0.55, 0.55)
    p_move: float = 0.03
    p_respond: float = 0.90
    class_size: tuple[int, int] = (15, 25)  # uniform integers, upper bound exclusive
    rtm: Literal["at_once", "staggered"] | None = None
    rtm_sd: float = 0.35
    rtm_rho: float = 0.6
    candidates_factor: int = 4
    screen_sd: float = 0.3

    def null(self) -> SimulationConfig:
        """The same design with no programme effect and no secular trend."""
        return replace(self, odds_ratios=(1.0,) * len(self.odds_ratios), trend=0.0)


def _ar1(rng: np.random.Generator, n: int, terms: int, sd: float, rho: float) -> np.ndarray:
    w = np.empty((n, terms))
    w[:, 0] = rng.normal(0, sd, n)
    innov = sd * np.sqrt(1 - rho**2)
    for t in range(1, terms):
        w[:, t] = rho * w[:, t - 1] + rng.normal(0, innov, n)
    return w


def _schools(cfg: SimulationConfig, rng: np.random.Generator):
    s = cfg.schools
    per = s // len(cfg.cohorts)
    if per * len(cfg.cohorts) != s:
        raise StatsInputError("schools must be a multiple of the number of cohorts")
    if cfg.rtm is None:
        u = rng.normal(0, cfg.sd_school, s)
        coh = rng.permutation(np.repeat(np.array(cfg.cohorts), per))
        return u, coh, np.zeros((s, cfg.terms))
    n_cand = cfg.candidates_factor * s
    u_c = rng.normal(0, cfg.sd_school, n_cand)
    w_c = _ar1(rng, n_cand, cfg.terms, cfg.rtm_sd, cfg.rtm_rho)
    if cfg.rtm == "at_once":
        t_sel = max(min(cfg.cohorts) - 2, 0)
        score = u_c + w_c[:, t_sel] + rng.normal(0, cfg.screen_sd, n_cand)
        chosen = np.argsort(-score)[:s]
        coh = rng.permutation(np.repeat(np.array(cfg.cohorts), per))
        return u_c[chosen], coh, w_c[chosen]
    if cfg.rtm != "staggered":
        raise StatsInputError(f"rtm must be None, 'at_once' or 'staggered', got {cfg.rtm!r}")
    remaining = np.arange(n_cand)
    chosen_all, coh_all = [], []
    for g in sorted(cfg.cohorts):
        t_sel = max(g - 2, 0)
        score = (
            u_c[remaining] + w_c[remaining, t_sel] + rng.normal(0, cfg.screen_sd, remaining.size)
        )
        top = remaining[np.argsort(-score)[:per]]
        chosen_all.append(top)
        coh_all.append(np.full(per, g))
        remaining = np.setdiff1d(remaining, top)
    chosen = np.concatenate(chosen_all)
    return u_c[chosen], np.concatenate(coh_all), w_c[chosen]


def simulate(seed: int, config: SimulationConfig | None = None) -> pl.DataFrame:
    """One replication of pupil-rows.

    Columns: t, school, cohort (g), cls (class id), sid (pupil id), y (0/1), p0, p1 (pupil
    potential outcomes), pi0, pi1 (class-integrated), e (= t − g).
    """
    cfg = config or SimulationConfig()
    rng = np.random.default_rng(seed)
    sd_all = np.sqrt(cfg.sd_school**2 + cfg.sd_class**2 + cfg.sd_pupil**2)
    b0 = brentq(lambda b: float(_integrate(b, sd_all)) - cfg.p_base, -10, 5)
    u, coh, w = _schools(cfg, rng)
    n_schools = u.size
    ncls = rng.integers(1, 3, n_schools)
    logor = np.log(np.asarray(cfg.odds_ratios, dtype=float))

    cls_school = np.empty(0, dtype=np.int64)
    cls_grade = np.empty(0, dtype=np.int64)
    cls_v = np.empty(0)
    st_cls = np.empty(0, dtype=np.int64)
    st_id = np.empty(0, dtype=np.int64)
    st_b = np.empty(0)
    next_id = 0

    def add_classes(schools: np.ndarray, grades: np.ndarray) -> None:
        nonlocal cls_school, cls_grade, cls_v, st_cls, st_id, st_b, next_id
        first = cls_school.size
        m = schools.size
        sizes = rng.integers(cfg.class_size[0], cfg.class_size[1], m)
        cls_school = np.concatenate([cls_school, schools])
        cls_grade = np.concatenate([cls_grade, grades])
        cls_v = np.concatenate([cls_v, rng.normal(0, cfg.sd_class, m)])
        k = int(sizes.sum())
        st_cls = np.concatenate([st_cls, np.repeat(np.arange(first, first + m), sizes)])
        st_id = np.concatenate([st_id, np.arange(next_id, next_id + k)])
        st_b = np.concatenate([st_b, rng.normal(0, cfg.sd_pupil, k)])
        next_id += k

    base_schools = np.repeat(np.arange(n_schools), ncls)
    for gr in range(cfg.grades):
        add_classes(base_schools, np.full(base_schools.size, gr))

    frames = []
    for t in range(cfg.terms):
        if t and t % 2 == 0:  # new school year: move up, grade 10 leaves, new grade 5
            cls_grade = cls_grade + 1
            staying = cls_grade[st_cls] < cfg.grades
            st_cls, st_id, st_b = st_cls[staying], st_id[staying], st_b[staying]
            add_classes(base_schools, np.zeros(base_schools.size, dtype=np.int64))
        if t:  # movers replaced by new pupils in the same class
            mv = rng.random(st_id.size) < cfg.p_move
            k = int(mv.sum())
            st_id = st_id.copy()
            st_b = st_b.copy()
            st_id[mv] = np.arange(next_id, next_id + k)
            st_b[mv] = rng.normal(0, cfg.sd_pupil, k)
            next_id += k
        e_school = t - coh
        d_school = np.where(e_school >= 0, logor[np.clip(e_school, 0, logor.size - 1)], 0.0)
        eta_cls = b0 + cfg.trend * t + u[cls_school] + cls_v + w[cls_school, t]
        d_cls = d_school[cls_school]
        pi0_cls = _integrate(eta_cls, cfg.sd_pupil)
        pi1_cls = _integrate(eta_cls + d_cls, cfg.sd_pupil)
        resp = rng.random(st_id.size) < cfg.p_respond
        c = st_cls[resp]
        eta = eta_cls[c] + st_b[resp]
        p0 = expit(eta)
        p1 = expit(eta + d_cls[c])
        y = rng.random(c.size) < p1
        s = cls_school[c]
        frames.append(
            pl.DataFrame(
                {
                    "t": np.full(c.size, t, dtype=np.int64),
                    "school": s,
                    "cohort": coh[s],
                    "cls": c,
                    "sid": st_id[resp],
                    "y": y.astype(np.int64),
                    "p0": p0,
                    "p1": p1,
                    "pi0": pi0_cls[c],
                    "pi1": pi1_cls[c],
                    "e": e_school[s],
                }
            )
        )
    return pl.concat(frames)


def school_panel(sim: pl.DataFrame) -> pl.DataFrame:
    """School × term panel: n, x, y = x/n, cohort, tau = mean(p1 − p0) (the cell's true effect)."""
    return (
        sim.group_by("school", "t")
        .agg(
            pl.len().alias("n"),
            pl.col("y").sum().alias("x"),
            pl.col("y").mean().alias("share"),
            pl.col("cohort").first(),
            (pl.col("p1") - pl.col("p0")).mean().alias("tau"),
            pl.col("pi1").mean().alias("pi_mean"),
        )
        .sort("school", "t")
    )


def phase1_contrasts(sim: pl.DataFrame, *, min_n: int = 10) -> pl.DataFrame:
    """Per-school before → after phase 1 (rounds t = g−1 and t = g) with estimates and truths.

    Columns: school, cohort, rd (all pupils), rd_low, rd_high, rd_p, rd_truth (mean π post −
    mean π pre over respondents), paired_rd, paired_low, paired_high, paired_truth (mean over
    pairs of π post − π pre), linked_n, mcnemar_exact_p, mcnemar_mid_p, post_share, post_n,
    wilson_low, wilson_high, post_truth (mean π over post respondents).
    """
    pre = sim.filter(pl.col("t") == pl.col("cohort") - 1)
    post = sim.filter(pl.col("t") == pl.col("cohort"))
    keys = ["school", "sid"]
    pairs = pre.join(post, on=keys, how="inner", suffix="_post")
    linked = pairs.group_by("school").agg(
        a=((pl.col("y") == 1) & (pl.col("y_post") == 1)).sum(),
        b=((pl.col("y") == 1) & (pl.col("y_post") == 0)).sum(),
        c=((pl.col("y") == 0) & (pl.col("y_post") == 1)).sum(),
        d=((pl.col("y") == 0) & (pl.col("y_post") == 0)).sum(),
        paired_truth=(pl.col("pi1_post") - pl.col("pi1")).mean(),
    )
    pair_ids = pairs.select(keys)
    pre_u = (
        pre.join(pair_ids, on=keys, how="anti")
        .group_by("school")
        .agg(xu0=pl.col("y").sum(), nu0=pl.len())
    )
    post_u = (
        post.join(pair_ids, on=keys, how="anti")
        .group_by("school")
        .agg(xu1=pl.col("y").sum(), nu1=pl.len())
    )
    truth = (
        pre.group_by("school")
        .agg(
            pi_pre=pl.col("pi1").mean(),
            cohort=pl.col("cohort").first(),
            pre_x=pl.col("y").sum(),
            pre_n=pl.len(),
        )
        .join(
            post.group_by("school").agg(
                pi_post=pl.col("pi1").mean(), post_x=pl.col("y").sum(), post_n=pl.len()
            ),
            on="school",
        )
    )
    table = (
        truth.join(linked, on="school", how="left")
        .join(pre_u, on="school", how="left")
        .join(post_u, on="school", how="left")
        .fill_null(0)
        .sort("school")
    )
    out = []
    for r in table.iter_rows(named=True):  # one scalar call per school (~40 per replication)
        t = (r["a"], r["b"], r["c"], r["d"])
        allc = risk_difference_change(t, (r["xu0"], r["nu0"]), (r["xu1"], r["nu1"]), min_n=min_n)
        same = linked_change(*t, min_n=min_n)
        mc = mcnemar_test(r["b"], r["c"])
        out.append(
            {
                "school": r["school"],
                "cohort": r["cohort"],
                "rd": allc.diff,
                "rd_low": allc.ci_low,
                "rd_high": allc.ci_high,
                "rd_p": allc.p_value,
                "rd_truth": r["pi_post"] - r["pi_pre"],
                "paired_rd": same.diff,
                "paired_low": same.ci_low,
                "paired_high": same.ci_high,
                "paired_truth": r["paired_truth"] if same.linked_n else None,
                "linked_n": same.linked_n,
                "mcnemar_exact_p": mc.exact_p,
                "mcnemar_mid_p": mc.mid_p,
                "pre_x": r["pre_x"],
                "pre_n": r["pre_n"],
                "post_share": r["post_x"] / r["post_n"],
                "post_n": r["post_n"],
                "post_x": r["post_x"],
                "post_truth": r["pi_post"],
            }
        )
    frame = pl.DataFrame(out)
    low, high = wilson_bounds(frame["post_x"].to_numpy(), frame["post_n"].to_numpy())
    return frame.with_columns(pl.Series("wilson_low", low), pl.Series("wilson_high", high))


@dataclass(frozen=True)
class Replication:
    """Estimates and truths from one simulated rollout.

    ``cs_*``: Callaway–Sant'Anna (not-yet-treated) simple and e = 0 estimates with SE and
    t_{G−1} interval; ``truth_*``: the replication's sample truths (mean of tau over the cells the
    estimate averages); ``cs_pre_e1`` and ``cs_pre_e1_z``: the e = −1 pre-period estimate and
    its z; ``naive_e0``: mean over schools (g < g_max) of the all-pupil before→after change;
    ``contrasts``: per-school phase-1 frame from :func:`phase1_contrasts`.
    """

    seed: int
    cs_simple: float
    cs_simple_se: float
    cs_simple_ci: tuple[float, float]
    cs_e0: float
    cs_e0_se: float
    cs_e0_ci: tuple[float, float]
    cs_pre_e1: float | None
    cs_pre_e1_z: float | None
    pre_trend_p: float | None
    truth_simple: float
    truth_e0: float
    naive_e0: float
    contrasts: pl.DataFrame


def replicate(seed: int, config: SimulationConfig | None = None) -> Replication:
    """Simulate once and run the per-school contrasts and the CS estimator on the school panel."""
    cfg = config or SimulationConfig()
    sim = simulate(seed, cfg)
    panel = school_panel(sim)
    g_max = max(cfg.cohorts)
    res = staggered_did(
        panel.rename({"school": "skole_orgnr", "share": "y", "cohort": "g"}),
        control_group="not_yet_treated",
    )
    ev = {row["e"]: row for row in res.event_study.iter_rows(named=True)}
    e0 = ev[0]
    e_1 = ev.get(-1)
    pre_z = e_1["att"] / e_1["se"] if e_1 is not None and e_1["se"] not in (None, 0.0) else None
    treated = panel.filter(pl.col("cohort") < g_max)
    truth_e0 = treated.filter(pl.col("t") == pl.col("cohort"))["tau"].mean()
    truth_simple = treated.filter((pl.col("t") >= pl.col("cohort")) & (pl.col("t") < g_max))[
        "tau"
    ].mean()
    contrasts = phase1_contrasts(sim)
    naive = contrasts.filter(pl.col("cohort") < g_max)["rd"].mean()
    return Replication(
        seed=seed,
        cs_simple=res.simple.att,
        cs_simple_se=res.simple.se,
        cs_simple_ci=(res.simple.ci_low, res.simple.ci_high),
        cs_e0=e0["att"],
        cs_e0_se=e0["se"],
        cs_e0_ci=(e0["ci_low"], e0["ci_high"]),
        cs_pre_e1=None if e_1 is None else e_1["att"],
        cs_pre_e1_z=pre_z,
        pre_trend_p=None if res.pre_trend is None else res.pre_trend.p_value,
        truth_simple=float(truth_simple),
        truth_e0=float(truth_e0),
        naive_e0=float(naive),
        contrasts=contrasts,
    )
