"""The synthetic country as the national school panel, its planted effect, and one replication of
the national evaluation against that truth (the coverage check of the eligible design).

:func:`country_frames` turns a built world's country cells into exactly what
:func:`lmp_analytics.evaluation.national_panel.school_panel` and ``lmp_treatment`` read from a
warehouse loaded with the country file and the roster (the published share with one decimal of a
percentage, null below ``country_min_n``; a test checks the two are equal), without writing and
ingesting files, so that hundreds of replications are cheap.

**The truth** of a design's estimate (:func:`truth_of`) is the estimator's own aggregation of the
true cell effects: the same DiD, on the same school-years with the same weights, of
``effect = expected share with the programme − expected share without it`` (zero for every
control school-year and every school-year before a school's start). The DiD is linear in the
outcome, so this is the weighted mean of the planted effect over the treated school-years the
estimate averages, and the estimate is unbiased for it when the controls' trend is the treated
schools' trend without the programme. For ``naive`` the truth is the weighted mean over LMP schools
of their mean effect in the after window (before-years have no effect).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from lmp_analytics.evaluation.national_designs import (
    DESIGNS,
    TRINN,
    did_panel,
    eligible_schools,
    national_evaluation,
)
from lmp_analytics.evaluation.national_panel import (
    PANEL_COLUMNS,
    first_treated_survey_year,
    pooled_panel,
)
from lmp_analytics.national.series import series_version
from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.did import staggered_did
from lmp_analytics.synth.params import Params
from lmp_analytics.synth.world import World, build_world

__all__ = ["CountryFrames", "country_frames", "frames_from_truth", "replicate", "truth_of"]


@dataclass(frozen=True)
class CountryFrames:
    """``panel`` (PANEL_COLUMNS), ``treatment`` (as ``lmp_treatment``), ``effects`` (skole_orgnr,
    survey_year, trinn, effect, n: the expected-share effect of every cell, n respondents) and
    the world's selection rule (``selection_years`` as a tuple of years, ``thresholds``)."""

    panel: pl.DataFrame
    treatment: pl.DataFrame
    effects: pl.DataFrame
    selection_years: tuple[int, ...]
    thresholds: dict[int, float]


def country_frames(world: World) -> CountryFrames:
    """The national panel, the roster's treatment and the true cell effects of ``world``."""
    country, params = world.country, world.params
    units = [(s.candidate, s.orgnr) for s in world.schools]
    units += [(s.candidate, s.orgnr) for s in world.country_schools]
    cand = np.array([c for c, _ in units])
    org = np.array([o for _, o in units], dtype=object)
    n = country.n[cand]
    k = country.k[cand]
    effect = country.p1[cand] - country.p0[cand]
    s_idx, y_idx, t_idx = np.nonzero(n > 0)
    cells_n = n[s_idx, y_idx, t_idx]
    published = cells_n >= params.country_min_n
    with np.errstate(invalid="ignore", divide="ignore"):
        # the file prints 100·k/n with one decimal; the reader divides by 100
        share = np.round(1000.0 * k[s_idx, y_idx, t_idx] / cells_n) / 1000.0
    years = country.years[y_idx].astype(np.int64)
    versions = {int(y): series_version(int(y)) for y in np.unique(years)}
    version = np.array([versions[int(y)] for y in years], dtype=object)
    panel = pl.DataFrame({
        "skole_orgnr": org[s_idx].astype(str),
        "survey_year": years,
        "trinn": country.trinn[t_idx].astype(np.int64),
        "share": np.where(published, share, np.nan),
        "n_answered": cells_n.astype(np.int64),
        "suppressed": ~published,
        "series_version": version.astype(str),
    }).with_columns(
        pl.col("share").fill_nan(None),
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("n_answered"))
        .alias("n_answered"),
        pl.col("series_version").alias("segment"),
    ).select(PANEL_COLUMNS).sort("skole_orgnr", "survey_year", "trinn")
    effects = pl.DataFrame({
        "skole_orgnr": org[s_idx].astype(str), "survey_year": years,
        "trinn": country.trinn[t_idx].astype(np.int64),
        "effect": effect[s_idx, y_idx, t_idx], "n": cells_n.astype(np.int64),
    })
    treatment = pl.DataFrame(
        [(s.orgnr, s.kommune.nummer, s.pulje, s.oppstart, first_treated_survey_year(s.oppstart))
         for s in world.schools if s.rolle == "deltaker"],
        schema={"skole_orgnr": pl.Utf8, "kommunenummer": pl.Utf8, "pulje": pl.Int64,
                "phase1_term": pl.Utf8, "first_treated_year": pl.Int64},
        orient="row",
    ).sort("skole_orgnr")
    first, last = params.selection_years
    return CountryFrames(panel, treatment, effects, tuple(range(first, last + 1)),
                         dict(params.selection_thresholds))


def frames_from_truth(truth: dict, panel: pl.DataFrame, treatment: pl.DataFrame
                      ) -> CountryFrames:
    """The frames of :func:`truth_of` for a warehouse built from a synthetic world: ``panel`` and
    ``treatment`` as read from the warehouse (``school_panel`` / ``lmp_treatment``), the true
    effect of every cell from ``truth.json['country']`` (expected share with the programme minus
    without it), and the world's selection rule."""
    country = truth["country"]
    rows = [(s["skole_orgnr"], int(c[0]), int(c[1]), float(c[4]) - float(c[5]), int(c[2]))
            for s in country["schools"] for c in s["cells"]]
    effects = pl.DataFrame(rows, schema={"skole_orgnr": pl.Utf8, "survey_year": pl.Int64,
                                         "trinn": pl.Int64, "effect": pl.Float64,
                                         "n": pl.Int64}, orient="row")
    first, last = country["selection"]["years"]
    thresholds = {int(k): float(v) for k, v in country["selection"]["thresholds"].items()}
    return CountryFrames(panel, treatment, effects, tuple(range(int(first), int(last) + 1)),
                         thresholds)


def _effect_panel(frames: CountryFrames, trinn: str) -> pl.DataFrame:
    """The panel with ``share`` replaced by the true effect of each published cell (pooled: the
    ``n_answered``-weighted mean over the published grades, as the pooled share is)."""
    cells = frames.panel.join(frames.effects.select("skole_orgnr", "survey_year", "trinn",
                                                    "effect"),
                              on=["skole_orgnr", "survey_year", "trinn"], how="left")
    cells = cells.with_columns(
        pl.when(pl.col("share").is_not_null()).then(pl.col("effect")).alias("share")
    ).drop("effect")
    if trinn == "pooled":
        return pooled_panel(cells)
    return cells.filter(pl.col("trinn") == int(trinn))


def truth_of(frames: CountryFrames, design: str, trinn: str, segment: str | None = None,
             window: int | None = None) -> float | None:
    """The planted effect the ``design`` × ``trinn`` estimate targets (see the module docstring);
    None where the design gives no estimate."""
    graded = _effect_panel(frames, trinn)
    segment = segment or graded["segment"].max()
    frame, _ = did_panel(graded, frames.treatment, segment)
    if design == "naive":
        k = window or len(frames.selection_years)
        post = frame.filter(pl.col("g").is_not_null() & (pl.col("t") >= pl.col("g"))
                            & (pl.col("t") < pl.col("g") + k))
        per = post.group_by("skole_orgnr").agg(pl.col("y").mean(), pl.col("w").first())
        return float((per["y"] * per["w"]).sum() / per["w"].sum()) if per.height else None
    if design == "eligible":
        chosen = eligible_schools(frames.panel, years=frames.selection_years,
                                  thresholds=frames.thresholds)
        lmp = frames.treatment["skole_orgnr"].implode()
        frame = frame.filter(pl.col("g").is_not_null()
                             | (pl.col("skole_orgnr").is_in(chosen.implode())
                                & ~pl.col("skole_orgnr").is_in(lmp)))
    control = "not_yet_treated" if design == "not-yet-treated" else "never_treated"
    try:
        return staggered_did(frame, y="y", weight="w", control_group=control).simple.att
    except StatsInputError:
        return None


def replicate(seed: int, params: Params | None = None, *,
              designs: tuple[str, ...] = DESIGNS, trinn: tuple[str, ...] = TRINN
              ) -> pl.DataFrame:
    """One synthetic country (``build_world(params, seed)``), the national evaluation on it and
    the truth of every row: the result columns plus seed, truth, covered (truth inside the
    interval; null without an estimate), segment and the number of eligible schools."""
    world = build_world(params or Params(), seed)
    frames = country_frames(world)
    result = national_evaluation(panel=frames.panel, treatment=frames.treatment,
                                 designs=designs, trinn=trinn,
                                 selection_years=frames.selection_years,
                                 thresholds=frames.thresholds).results
    segment = frames.panel["segment"].max()
    truths = [truth_of(frames, d, t, segment) for d, t in
              result.select("design", "trinn").iter_rows()]
    return result.with_columns(
        pl.lit(seed, pl.Int64).alias("seed"),
        pl.Series("truth", truths, dtype=pl.Float64),
    ).with_columns(
        ((pl.col("ci_low_pp") <= pl.col("truth")) & (pl.col("truth") <= pl.col("ci_high_pp")))
        .alias("covered"),
        pl.lit(int(world.country.eligible.sum()), pl.Int64).alias("eligible_schools"),
    )
