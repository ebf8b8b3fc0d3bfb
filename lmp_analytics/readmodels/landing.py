"""Read models for the landing page ("did it work here?") and the alert list, role-scoped.

- :func:`phase_summary`: per phase (1-4 and the whole programme), the before/after pooled over
  the role's own participating schools with a school-clustered interval, how many of them went
  clearly down / showed no clear change / went clearly up, the comparison-adjusted estimate and
  the regression-to-the-mean flag.
- :func:`alerts`: the role's schools whose latest round-to-round change or latest phase change
  went clearly the wrong way (the interval-based verdict of :mod:`lmp_analytics.stats.verdict`
  in the bad direction of the indicator).

Numbers come from :func:`lmp_analytics.api.compare` (already suppressed and scoped). A pooled
figure sums only the schools whose change is visible to the role, so it is a sum of published
cells and reveals nothing a hidden cell holds; it still goes through the one suppression engine
(:func:`lmp_analytics.privacy.suppression.suppress`) at the reader's threshold. Schools whose
change is hidden are counted as ``hidden_schools`` (shown as "skjult"), schools without both
rounds yet as ``no_round_schools`` ("ingen runde").
"""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics import api
from lmp_analytics.evaluation.programme import school_term_panel
from lmp_analytics.privacy.roles import Role
from lmp_analytics.privacy.scope import Surface
from lmp_analytics.privacy.suppression import suppress
from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.cluster import cluster_did
from lmp_analytics.stats.pooled_change import pooled_change
from lmp_analytics.stats.verdict import Verdict, verdict_from_interval
from lmp_analytics.terms import term_index
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.meta import read_min_n

RoleArg = str | Role | None

__all__ = ["ALERT_SCHEMA", "PHASE_SUMMARY_SCHEMA", "alerts", "phase_summary"]

PHASES = ("1", "2", "3", "4", "program")

PHASE_SUMMARY_SCHEMA = {
    "phase": pl.String, "indicator": pl.String, "kind": pl.String,
    "schools": pl.Int64,            # schools pooled (change visible)
    "hidden_schools": pl.Int64,     # change hidden by suppression ("skjult")
    "no_round_schools": pl.Int64,   # before or after round missing ("ingen runde")
    "pre_terms": pl.String, "post_terms": pl.String,   # e.g. "2023H" or "2023H, 2024V"
    "pre_n": pl.Int64, "post_n": pl.Int64, "n_display": pl.String,
    "pre_value": pl.Float64, "post_value": pl.Float64,
    "change": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
    "tested": pl.Boolean, "verdict": pl.String,
    "down": pl.Int64, "unchanged": pl.Int64, "up": pl.Int64, "untested": pl.Int64,
    "adjusted": pl.Float64, "adjusted_ci_low": pl.Float64, "adjusted_ci_high": pl.Float64,
    "adjusted_tested": pl.Boolean, "adjusted_verdict": pl.String,
    "comparison_change": pl.Float64, "comparison_schools": pl.Int64,
    "adjusted_reason": pl.String,   # why there is no adjusted estimate (null when there is)
    "rtm_warning": pl.Boolean,
    "suppressed": pl.Boolean, "suppression_reason": pl.String,
}


def _terms_text(terms: list[str]) -> str | None:
    unique = sorted({t for t in terms if t}, key=term_index)
    return ", ".join(unique) if unique else None


def _totals(rows: pl.DataFrame, value: str, n: str) -> pl.Series:
    """Per-school totals (count for a share, sum of values for a mean) from value x n."""
    return (rows[value] * rows[n]).round(6)


def _adjusted(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, indicator: str,
              min_n: int) -> tuple[dict, str | None]:
    """Stacked 2x2 DiD of the pooled schools vs every comparison school over each school's own
    before/after terms (school-clustered, :func:`cluster_did`); shares only. The comparison arm
    is the published programme cell of the comparison schools in those terms: no estimate when
    one of them is hidden or missing."""
    if rows["kind"][0] != "share":
        return {}, "not_share"
    cells = api.published_cells(con, level="program", indicators=[indicator], breakdown="alle",
                                min_n=min_n)
    terms = set(rows["pre_term"].to_list()) | set(rows["post_term"].to_list())
    comp = cells.filter((pl.col("rolle") == "sammenligning") & pl.col("term").is_in(sorted(terms))
                        ) if cells.height else cells
    visible = set(comp.filter(~pl.col("suppressed").fill_null(True))["term"].to_list()
                  ) if comp.height else set()
    if not terms <= visible:
        return {}, "no_comparison"
    panel = school_term_panel(con, indicator).filter(pl.col("rolle") == "sammenligning")
    frames = []
    for (pre, post), group in rows.group_by("pre_term", "post_term", maintain_order=True):
        treated = pl.concat([
            group.select("skole_orgnr", pl.lit(False).alias("post"),
                         _totals(group, "pre_value", "pre_n").round(0).alias("x"),
                         pl.col("pre_n").alias("n")),
            group.select("skole_orgnr", pl.lit(True).alias("post"),
                         _totals(group, "post_value", "post_n").round(0).alias("x"),
                         pl.col("post_n").alias("n")),
        ]).with_columns(pl.lit(True).alias("treated"))
        control = panel.filter(pl.col("term").is_in([pre, post])).select(
            "skole_orgnr", (pl.col("term") == post).alias("post"),
            (pl.col("y") * pl.col("n")).round(0).alias("x"), pl.col("n"),
            pl.lit(False).alias("treated"))
        frames.append(pl.concat([treated, control], how="vertical_relaxed"))
    frame = pl.concat(frames, how="vertical_relaxed").with_columns(
        pl.col("x").cast(pl.Float64), pl.col("n").cast(pl.Float64))
    try:
        res = cluster_did(frame)
    except StatsInputError:
        return {}, "no_comparison"
    verdict = verdict_from_interval(res.ci_low, res.ci_high, tested=res.tested)
    return {
        "adjusted": res.did, "adjusted_ci_low": res.ci_low, "adjusted_ci_high": res.ci_high,
        "adjusted_tested": res.tested,
        "adjusted_verdict": None if verdict is None else verdict.value,
        "comparison_change": res.comparison_change,
        "comparison_schools": res.comparison_clusters,
    }, (None if res.tested else "too_few_schools")


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
    the role has no participating school; 'all_hidden': every school's change is hidden)."""
    r = api.as_role(role)
    with reading(warehouse) as con:
        threshold = read_min_n(con, min_n)
        if changes is None:
            changes = api.compare(indicator=indicator, phase=None, role=r, warehouse=con,
                                  min_n=threshold, surface=surface)
        changes = api.scope(changes.filter((pl.col("indicator") == indicator)
                                           & (pl.col("rolle") == "deltaker")), r, surface)
        rows = []
        for phase in PHASES:
            rows.append(_phase_row(con, changes.filter(pl.col("phase") == phase), phase,
                                   indicator, threshold))
    out = pl.DataFrame(rows, schema=PHASE_SUMMARY_SCHEMA, orient="row")
    return _suppressed(out, threshold)


def _phase_row(con, part: pl.DataFrame, phase: str, indicator: str, min_n: int) -> dict:
    row: dict = dict.fromkeys(PHASE_SUMMARY_SCHEMA)
    no_round = part.filter(pl.col("pre_round").is_null() | pl.col("post_round").is_null())
    measured = part.filter(pl.col("pre_round").is_not_null() & pl.col("post_round").is_not_null())
    hidden = measured.filter(pl.col("suppressed").fill_null(True))
    visible = measured.filter(~pl.col("suppressed").fill_null(True)
                              & pl.col("pre_value").is_not_null()
                              & pl.col("post_value").is_not_null())
    verdicts = visible["verdict"].to_list()
    row.update(
        phase=phase, indicator=indicator, kind=part["kind"].drop_nulls().first()
        if part.height else None,
        schools=visible.height, hidden_schools=hidden.height, no_round_schools=no_round.height,
        down=verdicts.count(Verdict.DECREASE.value),
        unchanged=verdicts.count(Verdict.NO_CLEAR_CHANGE.value),
        up=verdicts.count(Verdict.INCREASE.value),
        untested=sum(v is None for v in verdicts),
        pre_terms=_terms_text(visible["pre_term"].to_list()),
        post_terms=_terms_text(visible["post_term"].to_list()),
        rtm_warning=False, tested=False, adjusted_tested=False, suppressed=True,
    )
    if visible.height == 0:
        row["suppression_reason"] = ("no_schools" if part.height == 0 else "no_round"
                                     if hidden.height == 0 else "all_hidden")
        row["adjusted_reason"] = row["suppression_reason"]
        return row
    res = pooled_change(_totals(visible, "pre_value", "pre_n"), visible["pre_n"],
                        _totals(visible, "post_value", "post_n"), visible["post_n"])
    verdict = verdict_from_interval(res.ci_low, res.ci_high, tested=res.tested)
    row.update(
        pre_n=res.pre_n, post_n=res.post_n, pre_value=res.pre, post_value=res.post,
        change=res.change, ci_low=res.ci_low, ci_high=res.ci_high, tested=res.tested,
        verdict=None if verdict is None else verdict.value,
        rtm_warning=res.change < 0, suppressed=False,
    )
    adjusted, reason = _adjusted(con, visible, indicator, min_n)
    row.update(adjusted)
    row["adjusted_reason"] = reason
    return row


def _suppressed(frame: pl.DataFrame, min_n: int) -> pl.DataFrame:
    """The pooled rows through the suppression engine (n = the smaller of before and after).
    Rows without a pooled figure (no round, all hidden) keep their reason; school counts by
    verdict are counts of schools, not of pupils, and stay."""
    numbers = [c for c, t in PHASE_SUMMARY_SCHEMA.items() if t == pl.Float64]
    cells = frame.select(
        "indicator", "phase",
        pl.when(pl.col("suppressed")).then(None)
        .otherwise(pl.min_horizontal("pre_n", "post_n")).alias("n"))
    engine = suppress(cells, keys=("indicator", "phase"), min_n=min_n).select(
        "phase", pl.col("suppressed").alias("_hidden"),
        pl.col("suppression_reason").alias("_reason"), pl.col("n_display").alias("_shown"))
    out = frame.join(engine, on="phase", how="left", maintain_order="left")
    newly = pl.col("_hidden") & ~pl.col("suppressed")
    out = out.with_columns(
        *[pl.when(newly).then(None).otherwise(pl.col(c)).alias(c)
          for c in [*numbers, "pre_n", "post_n", "verdict", "adjusted_verdict"]],
        pl.when(newly).then(pl.col("_reason")).otherwise(pl.col("suppression_reason"))
        .alias("suppression_reason"),
        pl.when(pl.col("suppressed") | newly).then(pl.col("_shown"))
        .otherwise(pl.min_horizontal("pre_n", "post_n").cast(pl.String)).alias("n_display"),
        (pl.col("suppressed") | newly).alias("suppressed"),
    )
    return out.select(list(PHASE_SUMMARY_SCHEMA)).cast(PHASE_SUMMARY_SCHEMA)


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
    order = pl.col("post_term").map_elements(term_index, return_dtype=pl.Int64)
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
