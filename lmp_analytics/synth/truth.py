"""The planted truth of a synthetic world on the scales the estimators report.

``truth.json`` plants the programme effect as a *conditional odds ratio* on the latent logit of
every bullying item (OR 0.85 after phase 1, 0.70 from phase 2), and on the cumulative logit of
the relation items (OR 1.15 from phase 2). The staggered difference-in-differences of
:func:`lmp_analytics.evaluation.programme.programme_effect` estimates something else: an average
change of a *school's share* (risk difference) or *scale mean*. This module turns the planted
parameters into that estimand, with the generator's own formulas (``lmp_analytics.synth``; the
generator is not changed and nothing is re-simulated):

Share of ``mobbet >= 3`` of school *s* in term *t*, integrated over class and pupil effects and
conditional on the realised school effect ``u_s`` and transient shock ``w_st``::

    p_s,t(δ) = Σ_k n_s,t,k · E[expit(β0 + trend_t + u_s + w_st + grade_slope·(k − 7) + δ + σ·Z)]
               / Σ_k n_s,t,k,        σ² = sd_class² + sd_pupil²,  k = trinn,

with ``n_s,t,k`` the respondents per trinn (the observed composition; equal weights over the
surveyed trinn when none is given) and δ the planted log-OR of the school's exposure level in
term t (``bully_log_or_by_term``). The school-term effect is ``p(δ) − p(0)``. The same
expectation pooled over a group's schools reproduces truth.json's ``expected_given_schools``
(:func:`pooled_expectation`), which checks these formulas against the generator.

Scale mean (``relasjon_laerer``, ``relasjon_elev``, ``klasseledelse``, ``trivsel_skala``): the
climate latent ζ of a pupil given the school is normal with mean ``climate_s − loading·u_s`` and
variance ``climate_sd_class² + climate_sd_pupil² + loading²·(sd_class² + sd_pupil²)``; an item
with location ``a`` answers ``P(Y ≥ j) = expit(±(ζ + ρ) + a + cut_j)`` (− for reversed items, ρ the
planted relation log-OR), so ``E[Y] = 1 + Σ_j E[expit(...)]``; a reversed item scores ``6 − Y``.
Skipped items are missing completely at random and exchangeable, so the expected mean of the
answered items is the mean of the items' expectations. Items outside ``relation_items`` (the
well-being items ``trivsel``, ``trygg``) carry no planted effect: a negative control.

The Callaway–Sant'Anna truth averages these school-term effects exactly as the estimator weights
them (:func:`att_gt_truth`, :func:`event_study_truth`): ATT(g,t) = mean over the schools of pulje
g observed in term t, and the event study θ(e) = Σ_g w_g ATT(g, g+e) / Σ_g w_g over the cohorts
whose ATT(g, g+e) was estimated, ``w_g`` = number of schools of g in the panel (``differences``
uses entity-level cohort shares). Event time follows DESIGN.md: g is the term after the phase-1
term, e = 0 is after phase 1, e = 1 after phase 2.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from lmp_analytics.synth.responses import logistic_normal_mean
from lmp_analytics.terms import term_index

__all__ = [
    "NaiveTruth",
    "att_gt_truth",
    "bullying_truth",
    "change_truth",
    "event_study_truth",
    "expected_panel",
    "find_truth",
    "load_truth",
    "naive_change_truth",
    "pooled_expectation",
    "respondents_by_trinn",
    "scale_items",
    "scale_truth",
    "simple_truth",
    "truth_matches",
]

TRUTH_COLUMNS = {
    "skole_orgnr": pl.String,
    "rolle": pl.String,
    "pulje": pl.Int64,
    "term": pl.String,
    "t": pl.Int64,
    "g": pl.Int64,
    "level": pl.Int64,
    "planted_log_or": pl.Float64,
    "treated": pl.Float64,
    "untreated": pl.Float64,
    "untreated_no_shock": pl.Float64,
    "effect": pl.Float64,
}


def load_truth(path: str | os.PathLike[str]) -> dict:
    """``truth.json`` of a world folder (or the file itself) as a dict."""
    p = Path(path)
    if p.is_dir():
        p = p / "truth.json"
    with p.open(encoding="utf-8") as fh:
        return json.load(fh)


def truth_matches(truth: dict, schools: Iterable[str]) -> bool:
    """Whether ``truth`` describes the warehouse whose ``dim_school.skole_orgnr`` are ``schools``.

    A notebook compares estimates with a truth only when the two describe the same world.
    """
    return {s["skole_orgnr"] for s in truth["schools"]} == set(schools)


def respondents_by_trinn(con, indicator: str = "mobbet") -> pl.DataFrame:
    """skole_orgnr, term, trinn, n: respondents of ``indicator`` per trinn in each school's
    primary round of the term (the rounds the school-term panel uses)."""
    from lmp_analytics.metrics.indicators import indicator_table

    cells = indicator_table(con, "skole", indicator=indicator, by="trinn")
    return cells.filter(pl.col("is_primary")).select(
        "skole_orgnr",
        "term",
        pl.col("breakdown_value").cast(pl.Int64).alias("trinn"),
        pl.col("n").cast(pl.Float64),
    )


def _composition(
    truth: dict, composition: pl.DataFrame | None
) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """(school, term) -> (trinn, weights)."""
    first = truth["params"]["first_spekter_trinn"]
    out: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    if composition is not None:
        for (school, term), part in composition.partition_by(
            ["skole_orgnr", "term"], as_dict=True
        ).items():
            out[(school, term)] = (
                part["trinn"].to_numpy().astype(float),
                part["n"].to_numpy().astype(float),
            )
        return out
    for s in truth["schools"]:
        lo, hi = s["trinn"]
        trinn = np.arange(max(lo, first), hi + 1, dtype=float)
        for term in s["shock_by_term"]:
            out[(s["skole_orgnr"], term)] = (trinn, np.ones_like(trinn))
    return out


def _group_of(school: dict) -> int | None:
    """First exposed term index g: the term after the phase-1 term (null if never treated)."""
    p1 = school["phases"].get("1")
    return term_index(p1) + 1 if p1 else None


def bullying_truth(truth: dict, composition: pl.DataFrame | None = None) -> pl.DataFrame:
    """Expected share ``mobbet >= 3`` per school and term with and without the programme.

    Columns: skole_orgnr, rolle, pulje, term, t, g, level (completed phases), planted_log_or,
    treated (p with the planted effect), untreated (p without it), untreated_no_shock (without
    the effect and with the transient school shock set to 0), effect = treated − untreated.
    ``composition`` (skole_orgnr, term, trinn, n) weights the trinn; school-terms missing from it
    are left out. Without it every surveyed trinn of the school weighs the same.
    """
    params = truth["params"]
    cal = truth["calibration"]
    beta0 = cal["beta0"]
    trend = cal["trend_by_term"]
    sd_within = cal["sd_within_school"]
    slope = params["grade_slope"]
    weights = _composition(truth, composition)
    rows = []
    for s in truth["schools"]:
        g = _group_of(s)
        for term, shock in s["shock_by_term"].items():
            key = (s["skole_orgnr"], term)
            if key not in weights:
                continue
            trinn, w = weights[key]
            if w.sum() <= 0:
                continue
            delta = s["bully_log_or_by_term"][term]
            base = beta0 + trend[term] + s["school_effect"] + slope * (trinn - 7)

            def share(eta: np.ndarray, w: np.ndarray = w) -> float:
                return float((logistic_normal_mean(eta, sd_within) * w).sum() / w.sum())

            treated = share(base + shock + delta)
            untreated = share(base + shock)
            rows.append((
                s["skole_orgnr"], s["rolle"], s["pulje"], term, term_index(term), g,
                s["exposure_level_by_term"][term], delta, treated, untreated, share(base),
                treated - untreated,
            ))  # fmt: skip
    return pl.DataFrame(rows, schema=TRUTH_COLUMNS, orient="row")


def scale_items(indicator: str, version: str = "spekter-2022-forebyggende") -> dict[str, bool]:
    """Items of a scale indicator in the codebook of ``version`` -> whether reversed (6 − x)."""
    from lmp_analytics.codebook import load_codebook

    ind = load_codebook(version).indicators[indicator]
    if ind.kind != "scale":
        raise ValueError(f"{indicator} is a {ind.kind} indicator, not a scale")
    return {item: item in ind.reversed for item in ind.items}


def scale_truth(truth: dict, indicator: str | dict[str, bool]) -> pl.DataFrame:
    """Expected scale mean per school and term with and without the programme.

    ``indicator`` names a scale of the codebook (``relasjon_laerer``, ``relasjon_elev``,
    ``klasseledelse``, ``trivsel_skala``) or maps its items to whether they are reversed.
    Same columns as :func:`bullying_truth` (``untreated_no_shock`` = ``untreated``: the climate
    latent has no transient shock, no trend and no grade gradient).
    """
    items = scale_items(indicator) if isinstance(indicator, str) else dict(indicator)
    params = truth["params"]
    loading = params["climate_bully_loading"]
    sd_zeta = math.sqrt(
        params["climate_sd_class"] ** 2
        + params["climate_sd_pupil"] ** 2
        + loading**2 * (params["sd_class"] ** 2 + params["sd_pupil"] ** 2)
    )
    location = dict(params["enighet_location"])
    cuts = np.asarray(params["enighet_cuts"], dtype=float)
    relation = set(params["relation_items"])
    model_reversed = set(params["reversed_items"])
    missing = [i for i in items if i not in location]
    if missing:
        raise ValueError(f"items {missing} are not enighet items of the synthetic world")
    rel_or = params["relation_or_by_phase"]

    def rel_log_or(level: int) -> float:
        return 0.0 if level <= 0 else math.log(rel_or[min(level, len(rel_or)) - 1])

    def item_mean(mu: float, item: str, shift: float) -> float:
        sign = -1.0 if item in model_reversed else 1.0
        rho = shift if item in relation else 0.0
        value = 1.0 + float(logistic_normal_mean(sign * (mu + rho) + location[item] + cuts,
                                                 sd_zeta).sum())
        return 6.0 - value if items[item] else value

    rows = []
    for s in truth["schools"]:
        g = _group_of(s)
        mu = s["climate_effect"] - loading * s["school_effect"]
        by_level: dict[int, float] = {}
        untreated = float(np.mean([item_mean(mu, i, 0.0) for i in items]))
        for term in s["shock_by_term"]:
            level = s["exposure_level_by_term"][term]
            shift = rel_log_or(level)
            if level not in by_level:
                by_level[level] = float(np.mean([item_mean(mu, i, shift) for i in items]))
            treated = by_level[level]
            rows.append((
                s["skole_orgnr"], s["rolle"], s["pulje"], term, term_index(term), g, level,
                shift, treated, untreated, untreated, treated - untreated,
            ))  # fmt: skip
    return pl.DataFrame(rows, schema=TRUTH_COLUMNS, orient="row")


def pooled_expectation(school_truth: pl.DataFrame, composition: pl.DataFrame) -> pl.DataFrame:
    """rolle, term, expected, expected_no_programme: respondent-weighted means of
    :func:`bullying_truth` over each group's schools — the generator's ``expected_given_schools``
    and ``expected_no_programme_given_schools`` of ``truth.json`` ``prevalence``."""
    n = composition.group_by("skole_orgnr", "term").agg(pl.col("n").sum())
    return (
        school_truth.join(n, on=["skole_orgnr", "term"])
        .group_by("rolle", "term", "t")
        .agg(
            ((pl.col("treated") * pl.col("n")).sum() / pl.col("n").sum()).alias("expected"),
            ((pl.col("untreated") * pl.col("n")).sum() / pl.col("n").sum()).alias(
                "expected_no_programme"
            ),
            pl.col("n").sum().alias("n"),
        )
        .sort("rolle", "t")
        .drop("t")
    )


def change_truth(school_truth: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """The truth beside each before/after row of ``phase_changes`` / ``compare_rounds``.

    Adds ``true_change`` (expected post − pre of the school, all causes), ``true_programme``
    (the part the planted effect makes: effect(post) − effect(pre)), ``true_no_programme``
    (what happens without the programme), split into ``true_trend_composition`` (secular trend,
    age and grade mix, transient shocks held at 0) and ``true_transient`` (the change of the
    transient school shock: regression to the mean for schools selected on a high). Rows whose
    rounds the truth does not know get nulls.
    """
    cols = {"treated": "t", "untreated": "u", "untreated_no_shock": "n", "effect": "e"}
    st = school_truth.select("skole_orgnr", "term", *cols)
    pre = st.rename({"term": "pre_term", **{c: f"_{a}0" for c, a in cols.items()}})
    post = st.rename({"term": "post_term", **{c: f"_{a}1" for c, a in cols.items()}})
    return (
        changes.join(pre, on=["skole_orgnr", "pre_term"], how="left")
        .join(post, on=["skole_orgnr", "post_term"], how="left")
        .with_columns(
            (pl.col("_t1") - pl.col("_t0")).alias("true_change"),
            (pl.col("_e1") - pl.col("_e0")).alias("true_programme"),
            (pl.col("_u1") - pl.col("_u0")).alias("true_no_programme"),
            (pl.col("_n1") - pl.col("_n0")).alias("true_trend_composition"),
        )
        .with_columns(
            (pl.col("true_no_programme") - pl.col("true_trend_composition")).alias(
                "true_transient"
            )
        )
        .drop(*[f"_{a}{i}" for a in cols.values() for i in (0, 1)])
    )


def att_gt_truth(
    school_truth: pl.DataFrame, panel: pl.DataFrame, att_gt: pl.DataFrame
) -> pl.DataFrame:
    """True ATT(g,t) for every cell the estimator reports: g, t, e, schools, truth.

    ``panel`` is the school-term panel the estimate used (skole_orgnr, t, g, y); the truth of a
    cell is the mean effect over the schools of pulje g with an outcome in term t.
    """
    observed = panel.filter(pl.col("g").is_not_null() & pl.col("y").is_not_null()).select(
        "skole_orgnr", "t", "g"
    )
    effects = observed.join(
        school_truth.select("skole_orgnr", "t", "effect"), on=["skole_orgnr", "t"], how="left"
    )
    if effects["effect"].null_count():
        raise ValueError("the truth lacks some school-terms of the panel (a different world?)")
    cells = effects.group_by("g", "t").agg(
        pl.len().alias("schools"), pl.col("effect").mean().alias("truth")
    )
    return (
        att_gt.select("g", "t", "e", pl.col("att").alias("estimate"))
        .join(cells, on=["g", "t"], how="left")
        .sort("g", "t")
    )


def _weighted_cells(
    school_truth: pl.DataFrame, panel: pl.DataFrame, att_gt: pl.DataFrame
) -> pl.DataFrame:
    sizes = (
        panel.filter(pl.col("g").is_not_null())
        .group_by("g")
        .agg(pl.col("skole_orgnr").n_unique().alias("w"))
    )
    cells = att_gt_truth(school_truth, panel, att_gt).filter(pl.col("estimate").is_not_null())
    return cells.join(sizes, on="g")


def event_study_truth(
    school_truth: pl.DataFrame, panel: pl.DataFrame, att_gt: pl.DataFrame
) -> pl.DataFrame:
    """True θ(e): e, cohorts, truth — the cohort-size-weighted mean of the true ATT(g, g+e) over
    the cells with an estimate, as the estimator aggregates them (weights = schools per pulje)."""
    return (
        _weighted_cells(school_truth, panel, att_gt)
        .group_by("e")
        .agg(
            pl.len().alias("cohorts"),
            ((pl.col("truth") * pl.col("w")).sum() / pl.col("w").sum()).alias("truth"),
        )
        .sort("e")
    )


def simple_truth(school_truth: pl.DataFrame, panel: pl.DataFrame, att_gt: pl.DataFrame) -> float:
    """True "simple" aggregate: the cohort-size-weighted mean of the true ATT(g,t) over every
    post-period cell with an estimate (t >= g, also with anticipation, as ``differences``
    averages them)."""
    cells = _weighted_cells(school_truth, panel, att_gt).filter(pl.col("e") >= 0)
    return float((cells["truth"] * cells["w"]).sum() / cells["w"].sum())


def find_truth(schools: Iterable[str], path: str | os.PathLike[str] | None = None) -> dict | None:
    """The truth of the world a warehouse was built from, or None.

    ``path`` is a world folder or ``truth.json`` (default: the demo world that ``lmp demo``
    writes, ``demo/world`` in the data folder: ``$LMP_HOME`` or ``./data``). None when the
    file is missing or describes other schools than ``schools`` (the warehouse's
    ``dim_school.skole_orgnr``) — real data has no truth.
    """
    from lmp_analytics.config import demo_dir

    target = Path(path) if path else demo_dir() / "world"
    if target.is_dir():
        target = target / "truth.json"
    if not target.is_file():
        return None
    truth = load_truth(target)
    return truth if truth_matches(truth, schools) else None


def expected_panel(
    school_truth: pl.DataFrame, panel: pl.DataFrame, *, programme: bool = True
) -> pl.DataFrame:
    """``panel`` with each observed school-term's ``y`` replaced by its expectation.

    With ``programme=False`` the expectation of the same world without the programme. Every
    estimator of the programme layer (naive change, ATT(g,t) and its aggregates, TWFE) is
    linear in ``y`` for a fixed set of school-terms, so running it on this panel gives its
    expected value in this world (sampling noise of pupils and classes averaged out); on the
    no-programme panel, its bias from trend, composition and regression to the mean alone.
    """
    column = "treated" if programme else "untreated"
    expected = school_truth.select("skole_orgnr", "t", pl.col(column).alias("_expected"))
    out = panel.join(expected, on=["skole_orgnr", "t"], how="left")
    if out["_expected"].null_count():
        raise ValueError("the truth lacks some school-terms of the panel (a different world?)")
    return out.with_columns(pl.col("_expected").alias("y")).drop("_expected").select(
        panel.columns
    )


@dataclass(frozen=True)
class NaiveTruth:
    """What the naive before/after change (e = −1 → e = 0) of participants is made of.

    ``effect``: the true programme effect at e = 0 (the naive estimate's target), averaged over
    the same schools; ``no_programme_change``: the expected change without the programme, split
    into ``trend_and_composition`` (secular trend, age and grade mix, shocks held at 0) and
    ``transient``, the decay of the transient school shock the schools were selected on —
    regression to the mean. ``expected_naive`` = effect + no_programme_change.
    """

    schools: int
    effect: float
    no_programme_change: float
    trend_and_composition: float
    transient: float

    @property
    def expected_naive(self) -> float:
        return self.effect + self.no_programme_change


def naive_change_truth(school_truth: pl.DataFrame, panel: pl.DataFrame) -> NaiveTruth:
    """The truth behind :func:`lmp_analytics.evaluation.programme.naive_change` on ``panel``
    (participants with an outcome both in the phase-1 term, e = −1, and in term g, e = 0)."""
    part = panel.filter(pl.col("g").is_not_null() & pl.col("y").is_not_null())
    before = part.filter(pl.col("t") == pl.col("g") - 1).select("skole_orgnr", "t")
    after = part.filter(pl.col("t") == pl.col("g")).select("skole_orgnr", "t")
    st = school_truth.select("skole_orgnr", "t", "treated", "untreated", "untreated_no_shock")
    pairs = before.join(st, on=["skole_orgnr", "t"]).join(
        after.join(st, on=["skole_orgnr", "t"]), on="skole_orgnr", suffix="_post"
    )
    if pairs.height == 0:
        raise ValueError("no participant has outcomes at both e = -1 and e = 0")
    change = (pairs["untreated_post"] - pairs["untreated"]).mean()
    trend = (pairs["untreated_no_shock_post"] - pairs["untreated_no_shock"]).mean()
    effect = (pairs["treated_post"] - pairs["untreated_post"]).mean()
    return NaiveTruth(pairs.height, float(effect), float(change), float(trend),
                      float(change - trend))
