"""Programme level: participants against comparison schools, and the staggered programme effect.

- :func:`school_term_panel`: the school x term panel of an indicator (primary round per term).
- :func:`visible_panel`: that panel cut to the cells a reader's publication shows, so that an
  estimate shown to a reader is a function of published numbers only.
- :func:`programme_effect`: Callaway & Sant'Anna (2021) ATT(g,t) on that panel with
  not-yet-treated (and comparison) schools as controls, its event study, the finite-sample
  pre-trend test, the naive before/after drop of participants for contrast (biased by regression
  to the mean: the schools were selected for high bullying) and a static TWFE contrast.
- :func:`participants_vs_comparison`: a 2x2 difference-in-differences of the pooled shares of
  participating vs comparison schools between two terms, school-cluster-robust.

Event time follows the phase calendar: g is the term after a school's phase-1 term (the first
round after any exposure), so the round in the phase-1 term has e = -1.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from lmp_analytics.metrics.phases import event_groups, phase_calendar
from lmp_analytics.stats.cluster import ClusterDiD, cluster_did
from lmp_analytics.stats.did import StaggeredDiD, TwfeContrast, staggered_did, twfe_contrast
from lmp_analytics.terms import term_order
from lmp_analytics.warehouse.queries import named


def school_term_panel(con: duckdb.DuckDBPyConnection, indicator: str = "mobbet") -> pl.DataFrame:
    """skole_orgnr, rolle, pulje, kommunenummer, term, t (term index), g, n, y.

    ``y`` is the share (or scale mean) of the school's primary round in the term; ``g`` the first
    exposed term index for participants, null for comparison schools.
    """
    panel = con.sql(named("reads", "school_term_panel"), params=[indicator]).pl()
    groups = event_groups(phase_calendar(con))
    return (
        panel.with_columns(
            term_order("term").alias("t"),  # = terms.term_index, as one expression
            (pl.col("total") / pl.col("n")).alias("y"),
        )
        .join(groups, on="skole_orgnr", how="left")
        .select("skole_orgnr", "rolle", "pulje", "kommunenummer", "term", "t", "g", "n", "y",
                "round_id")
        .sort("skole_orgnr", "t")
    )


def visible_panel(panel: pl.DataFrame, cells: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``panel`` (:func:`school_term_panel`) whose school cell the reader sees.

    ``cells``: the indicator's published school cells (breakdown ``alle``) of the publication
    the reader sees (:func:`lmp_analytics.api.published_cells` at the reader's threshold). A
    school-term whose primary round's cell is hidden by the suppression engine, or missing from
    the publication, is left out, as a school without that round would be: an estimate fitted on
    the result (event study, comparison arm) changes with no hidden number."""
    if cells.height == 0 or panel.height == 0:
        return panel.head(0)
    shown = cells.filter((pl.col("level") == "skole") & (pl.col("breakdown") == "alle")
                         & ~pl.col("suppressed").fill_null(True)).select(
        pl.col("round").alias("round_id")).unique()
    return panel.join(shown, on="round_id", how="semi")


@dataclass(frozen=True)
class NaiveChange:
    """Mean over participating schools of y(first exposed term) - y(phase-1 term)."""

    estimate: float
    schools: int
    label: str = "naive before/after (participants only; includes regression to the mean)"


@dataclass(frozen=True)
class ProgrammeEffect:
    """The staggered DiD with its contrasts."""

    did: StaggeredDiD
    naive: NaiveChange | None
    twfe: TwfeContrast | None
    indicator: str
    panel_schools: int


def naive_change(panel: pl.DataFrame) -> NaiveChange | None:
    """The naive before/after phase-1 change of participants, e = -1 -> e = 0."""
    part = panel.filter(pl.col("g").is_not_null())
    before = part.filter(pl.col("t") == pl.col("g") - 1).select("skole_orgnr", pl.col("y"))
    after = part.filter(pl.col("t") == pl.col("g")).select("skole_orgnr", pl.col("y"))
    both = before.join(after, on="skole_orgnr", suffix="_post")
    if both.height == 0:
        return None
    return NaiveChange(float((both["y_post"] - both["y"]).mean()), both.height)


def programme_effect(
    con: duckdb.DuckDBPyConnection,
    indicator: str = "mobbet",
    *,
    control_group: str = "not_yet_treated",
    anticipation: int = 0,
    base_period: str = "varying",
    weighted: bool = False,
    panel: pl.DataFrame | None = None,
) -> ProgrammeEffect:
    """Callaway & Sant'Anna on the school x term panel, with naive and TWFE contrasts.
    ``panel``: :func:`school_term_panel` of ``indicator`` when the caller has it already."""
    panel = school_term_panel(con, indicator) if panel is None else panel
    # A pupil-weighted estimand weights each school by its mean number of respondents (the
    # estimator needs one weight per school, constant over terms).
    panel = panel.with_columns(pl.col("n").mean().over("skole_orgnr").alias("school_weight"))
    did = staggered_did(
        panel.select("skole_orgnr", "t", "g", "y", "school_weight"),
        weight="school_weight" if weighted else None,
        control_group=control_group,  # type: ignore[arg-type]
        anticipation=anticipation,  # type: ignore[arg-type]
        base_period=base_period,  # type: ignore[arg-type]
    )
    try:
        twfe = twfe_contrast(panel.select("skole_orgnr", "t", "g", "y"))
    except Exception:  # the contrast is optional; the headline does not depend on it
        twfe = None
    return ProgrammeEffect(did, naive_change(panel), twfe, indicator,
                           panel["skole_orgnr"].n_unique())


def participants_vs_comparison(
    con: duckdb.DuckDBPyConnection,
    pre_term: str,
    post_term: str,
    indicator: str = "mobbet",
    *,
    kommunenummer: str | None = None,
) -> ClusterDiD:
    """(participants post - pre) - (comparison post - pre) of pooled shares, school-clustered."""
    panel = school_term_panel(con, indicator).filter(pl.col("term").is_in([pre_term, post_term]))
    if kommunenummer is not None:
        panel = panel.filter(pl.col("kommunenummer") == kommunenummer)
    frame = panel.select(
        "skole_orgnr",
        (pl.col("rolle") == "deltaker").alias("treated"),
        (pl.col("term") == post_term).alias("post"),
        (pl.col("y") * pl.col("n")).round(0).alias("x"),
        pl.col("n"),
    )
    return cluster_did(frame)
