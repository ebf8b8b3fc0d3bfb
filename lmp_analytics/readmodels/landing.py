"""Read models for the landing page ("did it work here?") and the alert list, role-scoped.

- :func:`phase_summary`: per phase (1-4 and the whole programme), the before/after pooled over
  the role's own participating schools with a school-clustered interval, how many of them went
  clearly down / showed no clear change / went clearly up, the comparison-adjusted estimate and
  the regression-to-the-mean flag.
- :func:`alerts`: the role's schools whose latest round-to-round change or latest phase change
  went clearly the wrong way (the interval-based verdict of :mod:`lmp_analytics.stats.verdict`
  in the bad direction of the indicator).

Numbers come from :func:`lmp_analytics.api.compare` (already suppressed and scoped). The
panel is computed at publish time (:mod:`lmp_analytics.evaluation.landing_panel`, stored in
``mart_landing_panel``) and only read here. A pooled figure sums only the schools whose change
is visible to the role, so it is a sum of published cells and reveals nothing a hidden cell
holds; it still goes through the one suppression engine
(:func:`lmp_analytics.privacy.suppression.suppress`) at the reader's threshold. Schools whose
change is hidden are counted as ``hidden_schools`` (shown as "skjult"), schools without both
rounds yet as ``no_round_schools`` ("ingen runde").
"""

from __future__ import annotations

import polars as pl

from lmp_analytics import api
from lmp_analytics.evaluation import landing_panel
from lmp_analytics.evaluation.landing_panel import PHASE_SUMMARY_SCHEMA
from lmp_analytics.evaluation.programme import school_term_panel
from lmp_analytics.privacy.roles import Role
from lmp_analytics.privacy.scope import Surface
from lmp_analytics.stats.verdict import Verdict
from lmp_analytics.terms import term_order
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.meta import read_min_n

RoleArg = str | Role | None

__all__ = ["ALERT_SCHEMA", "PHASE_SUMMARY_SCHEMA", "alerts", "phase_summary"]


def phase_summary(
    *, indicator: str = "mobbet", role: RoleArg = "program", warehouse: api.WarehouseArg = None,
    min_n: int | None = None, changes: pl.DataFrame | None = None,
    surface: Surface = "dashboard",
) -> pl.DataFrame:
    """One row per phase (1-4, then 'program' = the whole period) for the role's participating
    schools (PHASE_SUMMARY_SCHEMA): the before/after pooled over the schools whose change the
    role may see, with a school-clustered 95 % interval (none below 5 schools), the count of
    schools by verdict, the comparison-adjusted estimate (a stacked DiD against the comparison
    schools over the same terms, shares only) and ``rtm_warning`` when the pooled change is a
    drop (the schools were chosen for high bullying, so part of a drop is expected anyway).

    Shares are fractions (0-1); a change of -0.03 is -3 percentage points. A phase no school has
    both rounds of yet has ``schools`` 0 and ``suppression_reason`` 'no_round' ('no_schools':
    the role has no participating school; 'all_hidden': every school's change is hidden).

    Read from ``mart_landing_panel`` (computed at publish time for the programme and every
    municipality) when it holds the role at the reader's threshold and ``changes`` is not
    given; otherwise computed here by the same function
    (:func:`lmp_analytics.evaluation.landing_panel.summarise`)."""
    r = api.as_role(role)
    with reading(warehouse) as con:
        threshold = read_min_n(con, min_n)
        key = landing_panel.stored_role(r)
        if changes is None and key is not None:
            stored = landing_panel.read_stored(con, role_key=key, indicator=indicator,
                                               min_n=threshold)
            if stored is not None:
                return api.scope(stored, r, surface)
        if changes is None:
            changes = api.compare(indicator=indicator, phase=None, role=r, warehouse=con,
                                  min_n=threshold, surface=surface)
        changes = api.scope(changes.filter((pl.col("indicator") == indicator)
                                           & (pl.col("rolle") == "deltaker")), r, surface)
        cells = api.published_cells(con, level="program", indicators=[indicator],
                                    breakdown="alle", min_n=threshold)
        out = landing_panel.summarise(
            changes, indicator=indicator, min_n=threshold, cells=cells,
            panel=lambda: school_term_panel(con, indicator).filter(
                pl.col("rolle") == "sammenligning"))
    return api.scope(out, r, surface)


# --------------------------------------------------------------------------------------------
# Alerts

ALERT_SCHEMA = {
    "kommunenummer": pl.String, "skole_orgnr": pl.String, "skole": pl.String,
    "indicator": pl.String, "kind": pl.String,
    "scope": pl.String,   # 'runde' (latest round vs the previous one) or the phase (1-4)
    "pre_term": pl.String, "post_term": pl.String, "pre_value": pl.Float64,
    "post_value": pl.Float64, "change": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "verdict": pl.String,
}


def alerts(
    *, indicator: str = "mobbet", role: RoleArg = "program", warehouse: api.WarehouseArg = None,
    min_n: int | None = None, rounds: pl.DataFrame | None = None,
    phases: pl.DataFrame | None = None, surface: Surface = "dashboard",
) -> pl.DataFrame:
    """The role's schools that moved clearly the wrong way (ALERT_SCHEMA), in the latest round
    (vs the school's previous round) or in the latest phase with a result: the verdict
    (interval wholly on one side of 0) is an increase for an indicator where higher is worse
    (``mobbet``) or a decrease where higher is better. Hidden changes never alert. Ordered by
    how far the interval's near end lies from 0 (never by the point estimate), then school.

    ``rounds`` / ``phases``: ``api.compare(phase='runde')`` / ``api.compare(phase=None)`` rows
    when the caller has them (any role, same warehouse and threshold); cut to ``role`` here."""
    from lmp_analytics.readmodels.catalogue import indicator_catalogue

    info = indicator_catalogue().get(indicator)
    bad = Verdict.DECREASE.value if (info and info.higher_is_better) else Verdict.INCREASE.value
    r = api.as_role(role)
    if rounds is None or phases is None:
        with reading(warehouse) as con:
            threshold = read_min_n(con, min_n)
            rounds = api.compare(indicator=indicator, phase="runde", role=r, warehouse=con,
                                 min_n=threshold, surface=surface)
            phases = api.compare(indicator=indicator, phase=None, role=r, warehouse=con,
                                 min_n=threshold, surface=surface)
    rounds = api.scope(rounds.filter(pl.col("indicator") == indicator), r, surface)
    phases = api.scope(phases.filter(pl.col("indicator") == indicator), r, surface)
    order = term_order("post_term")
    rounds = rounds.filter(pl.col("post_round").is_not_null())
    latest_round = (rounds.sort("skole_orgnr", order).group_by("skole_orgnr", maintain_order=True)
                    .last().with_columns(pl.lit("runde").alias("scope")))
    phases = phases.filter(pl.col("phase").is_in(["1", "2", "3", "4"])
                           & ~pl.col("suppressed").fill_null(True))
    latest_phase = (phases.sort("skole_orgnr", pl.col("phase"))
                    .group_by("skole_orgnr", maintain_order=True).last()
                    .with_columns(pl.col("phase").alias("scope")))
    both = pl.concat([latest_round, latest_phase], how="diagonal_relaxed")
    if both.height == 0:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    flagged = both.filter(~pl.col("suppressed").fill_null(True) & (pl.col("verdict") == bad))
    flagged = flagged.with_columns(
        pl.coalesce("diff_pp", "diff_mean").alias("change"),
        pl.col("diff_ci_low").alias("ci_low"), pl.col("diff_ci_high").alias("ci_high"),
        pl.min_horizontal(pl.col("diff_ci_low").abs(), pl.col("diff_ci_high").abs())
        .alias("_gap"),
    ).sort(["_gap", "skole", "scope"], descending=[True, False, False])
    return flagged.select(list(ALERT_SCHEMA)).cast(ALERT_SCHEMA)
