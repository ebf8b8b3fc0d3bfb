"""The landing panel ("did it work here?"): per phase, the before/after pooled over a role's
participating schools, computed from already suppressed and scoped per-school changes.

Computed at publish time for the programme and every municipality (``mart_landing_panel``,
:func:`lmp_analytics.jobs.build_estimates`) and read by
:func:`lmp_analytics.readmodels.landing.phase_summary`; the read model computes it on the call only
for a role the table does not hold (a supervisor's own set of schools) or a reader stricter
than the warehouse. The same function does both, so the stored rows are what the live path
gives.

A pooled figure sums only the schools whose change is visible to the role, so it is a sum of
published cells and reveals nothing a hidden cell holds; it still goes through the one
suppression engine (:func:`lmp_analytics.privacy.suppression.suppress`) at the threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import duckdb
import polars as pl

from lmp_analytics.evaluation.event_study import MIN_N_KEY
from lmp_analytics.privacy.suppression import suppress
from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.cluster import cluster_did
from lmp_analytics.stats.pooled_change import pooled_change
from lmp_analytics.stats.verdict import Verdict, verdict_from_interval
from lmp_analytics.terms import term_index
from lmp_analytics.warehouse import build, ddl, meta
from lmp_analytics.warehouse.queries import named

__all__ = ["PHASES", "PHASE_SUMMARY_SCHEMA", "TABLE", "read_stored", "store", "stored_role",
           "summarise", "summarise_roles"]

PHASES = ("1", "2", "3", "4", "program")
TABLE = "mart_landing_panel"

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


def stored_role(role) -> str | None:
    """The role key under which the stored panel holds ``role``'s rows: 'program' for the
    roles that see every school (programme, researcher), 'kommune:<nr>' for a municipality;
    None for a supervisor (its own set of schools is not stored)."""
    if role.sees_all_units:
        return "program"
    if role.kind == "kommune":
        return str(role)
    return None


def read_stored(con: duckdb.DuckDBPyConnection, *, role_key: str, indicator: str,
                min_n: int) -> pl.DataFrame | None:
    """The stored rows (PHASE_SUMMARY_SCHEMA) of one role key and indicator, or None when the
    warehouse has no stored panel (an older version), it was stored at another threshold (a
    stricter reader) or it does not hold this role and indicator: the caller computes them."""
    if meta.get(con, MIN_N_KEY) != str(min_n) or TABLE not in build.tables(con):
        return None
    rows = con.sql(named("estimates", "landing_rows"), params=[role_key, indicator]).pl()
    if rows.height == 0:
        return None
    return rows.select(list(PHASE_SUMMARY_SCHEMA)).cast(PHASE_SUMMARY_SCHEMA)


def store(con: duckdb.DuckDBPyConnection, panels: dict[str, list[pl.DataFrame]]) -> None:
    """Replace the stored landing panel with ``panels`` (role key -> summaries, one per
    indicator, as :func:`summarise` gives them)."""
    frames = [frame.with_columns(pl.lit(key).alias("role"),
                                 pl.int_range(pl.len(), dtype=pl.Int64).alias("phase_order"))
              for key, summaries in panels.items() for frame in summaries]
    out = pl.concat(frames) if frames else pl.DataFrame(schema=PHASE_SUMMARY_SCHEMA).with_columns(
        pl.lit(None, pl.String).alias("role"), pl.lit(None, pl.Int64).alias("phase_order"))
    ddl.insert_frame(con, TABLE, out, replace=True)


def _terms_text(terms: list[str]) -> str | None:
    unique = sorted({t for t in terms if t}, key=term_index)
    return ", ".join(unique) if unique else None


def _totals(rows: pl.DataFrame, value: str, n: str) -> pl.Series:
    """Per-school totals (count for a share, sum of values for a mean) from value x n."""
    return (rows[value] * rows[n]).round(6)


def _adjusted(rows: pl.DataFrame, cells: pl.DataFrame,
              control: Callable[[str, str], pl.DataFrame]) -> tuple[dict, str | None]:
    """Stacked 2x2 DiD of the pooled schools vs every comparison school over each school's own
    before/after terms (school-clustered, :func:`cluster_did`); shares only. The comparison arm
    is the published programme cell of the comparison schools in those terms (``cells``: the
    indicator's published programme cells, breakdown 'alle'): no estimate when one of them is
    hidden or missing. ``control(pre, post)``: the comparison arm's rows of one before/after
    pair, from the indicator's school x term panel of comparison schools cut to the cells the
    reader's publication shows (:func:`~lmp_analytics.evaluation.programme.visible_panel`;
    :func:`_controls`): no estimate or interval moves with a hidden comparison cell."""
    if rows["kind"][0] != "share":
        return {}, "not_share"
    terms = set(rows["pre_term"].to_list()) | set(rows["post_term"].to_list())
    comp = cells.filter((pl.col("rolle") == "sammenligning") & pl.col("term").is_in(sorted(terms))
                        ) if cells.height else cells
    visible = set(comp.filter(~pl.col("suppressed").fill_null(True))["term"].to_list()
                  ) if comp.height else set()
    if not terms <= visible:
        return {}, "no_comparison"
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
        frames.append(pl.concat([treated, control(pre, post)], how="vertical_relaxed"))
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


def summarise(changes: pl.DataFrame, *, indicator: str, min_n: int, cells: pl.DataFrame,
              panel: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """One row per phase (PHASE_SUMMARY_SCHEMA) from the role's per-school changes of
    ``indicator`` (``api.compare`` rows, already suppressed and scoped to the role; only the
    participants' rows are used). ``cells`` and ``panel``: see :func:`_adjusted`. See
    :func:`lmp_analytics.readmodels.landing.phase_summary` for what each column means."""
    return summarise_roles({"": changes}, indicator=indicator, min_n=min_n, cells=cells,
                           panel=panel)[""]


def summarise_roles(parts: Mapping[str, pl.DataFrame], *, indicator: str, min_n: int,
                    cells: pl.DataFrame,
                    panel: Callable[[], pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """:func:`summarise` of each role's changes (role key -> that role's ``api.compare`` rows),
    the pooled figures of every role through the suppression engine in one call: with no sums
    declared between them the engine decides each row by itself, so each role's rows are those
    of its own call (publish time: the programme and every municipality at once)."""
    control = _controls(panel)
    frames = []
    for key, changes in parts.items():
        mine = changes.filter((pl.col("indicator") == indicator)
                              & (pl.col("rolle") == "deltaker"))
        by_phase = {p[0]: part for p, part in mine.partition_by("phase", as_dict=True).items()}
        rows = [_phase_row(by_phase.get(phase, mine.clear()), phase, indicator, cells, control)
                for phase in PHASES]
        frames.append(pl.DataFrame(rows, schema=PHASE_SUMMARY_SCHEMA, orient="row")
                      .with_columns(pl.lit(key).alias(_ROLE)))
    if not frames:
        return {}
    done = _suppressed(pl.concat(frames), min_n)
    return {key[0]: frame.drop(_ROLE) for key, frame in
            done.partition_by(_ROLE, as_dict=True, maintain_order=True).items()}


_ROLE = "_role_key"


def _controls(panel: Callable[[], pl.DataFrame]) -> Callable[[str, str], pl.DataFrame]:
    """``control(pre, post)``: the comparison arm's rows of one before/after pair (every
    comparison school's cells of the two terms, ``post`` marking the later), from ``panel()``
    read once; each pair made once and reused by every role and phase that pools it."""
    memo: list[pl.DataFrame] = []
    stacks: dict[tuple[str, str], pl.DataFrame] = {}

    def control(pre: str, post: str) -> pl.DataFrame:
        if (pre, post) not in stacks:
            if not memo:
                memo.append(panel())
            stacks[pre, post] = memo[0].filter(pl.col("term").is_in([pre, post])).select(
                "skole_orgnr", (pl.col("term") == post).alias("post"),
                (pl.col("y") * pl.col("n")).round(0).alias("x"), pl.col("n"),
                pl.lit(False).alias("treated"))
        return stacks[pre, post]

    return control


def _phase_row(part: pl.DataFrame, phase: str, indicator: str, cells: pl.DataFrame,
               control: Callable[[str, str], pl.DataFrame]) -> dict:
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
    adjusted, reason = _adjusted(visible, cells, control)
    row.update(adjusted)
    row["adjusted_reason"] = reason
    return row


def _suppressed(frame: pl.DataFrame, min_n: int) -> pl.DataFrame:
    """The pooled rows through the suppression engine (n = the smaller of before and after).
    Rows without a pooled figure (no round, all hidden) keep their reason; school counts by
    verdict are counts of schools, not of pupils, and stay."""
    numbers = [c for c, t in PHASE_SUMMARY_SCHEMA.items() if t == pl.Float64]
    cells = frame.select(
        _ROLE, "indicator", "phase",
        pl.when(pl.col("suppressed")).then(None)
        .otherwise(pl.min_horizontal("pre_n", "post_n")).alias("n"))
    engine = suppress(cells, keys=(_ROLE, "indicator", "phase"), min_n=min_n).select(
        _ROLE, "phase", pl.col("suppressed").alias("_hidden"),
        pl.col("suppression_reason").alias("_reason"), pl.col("n_display").alias("_shown"))
    out = frame.join(engine, on=[_ROLE, "phase"], how="left", maintain_order="left")
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
    return out.select(_ROLE, *PHASE_SUMMARY_SCHEMA).cast(PHASE_SUMMARY_SCHEMA)
