"""Which pairs of rounds a school's change compares, and the columns of a change.

Shared by the computation and stored table (:mod:`lmp_analytics.evaluation.change_table`) and the
readers that add BH, verdicts and the RTM flag (:mod:`lmp_analytics.evaluation.school_change`).
"""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics.metrics.phases import phase_calendar, primary_rounds, select_phase_rounds

CHANGE_SCHEMA = {
    "kommunenummer": pl.String,
    "skole_orgnr": pl.String,
    "skole": pl.String,
    "rolle": pl.String,
    "phase": pl.String,
    "indicator": pl.String,
    "kind": pl.String,
    "pre_round": pl.String,
    "pre_term": pl.String,
    "post_round": pl.String,
    "post_term": pl.String,
    "pre_n": pl.Int64,
    "post_n": pl.Int64,
    "linked_n": pl.Int64,
    "pre_value": pl.Float64,       # share (0-1) or scale mean
    "post_value": pl.Float64,
    "diff": pl.Float64,            # post - pre (fraction for shares: -0.03 = -3 pp)
    "diff_ci_low": pl.Float64,
    "diff_ci_high": pl.Float64,
    "p_value": pl.Float64,
    "p_adjusted": pl.Float64,      # Benjamini-Hochberg within the returned family
    "test": pl.String,
    "tested": pl.Boolean,
    "verdict": pl.String,
    "linked_diff": pl.Float64,     # same pupils only
    "linked_ci_low": pl.Float64,
    "linked_ci_high": pl.Float64,
    "linked_p_value": pl.Float64,
    "rtm_warning": pl.Boolean,     # a naive drop of a selected school: part is expected anyway
}
PAIR_COLUMNS = ["skole_orgnr", "phase", "pre_round", "pre_term", "post_round", "post_term"]


def phase_pairs(
    con: duckdb.DuckDBPyConnection,
    *,
    phase: str | int | None = None,
    schools: list[str] | None = None,
    rounds: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """pre/post rounds (PAIR_COLUMNS) of every participant and phase, or one ``phase``."""
    rounds = primary_rounds(con) if rounds is None else rounds
    selection = select_phase_rounds(phase_calendar(con), rounds)
    if phase is not None:
        selection = selection.filter(pl.col("phase") == str(phase))
    if schools is not None:
        selection = selection.filter(pl.col("skole_orgnr").is_in(schools))
    return selection.select(PAIR_COLUMNS)


def round_pairs(
    con: duckdb.DuckDBPyConnection,
    *,
    schools: list[str] | None = None,
    rounds: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Each school's primary round and its previous one (PAIR_COLUMNS, phase = 'runde')."""
    rounds = (primary_rounds(con) if rounds is None else rounds).sort("skole_orgnr",
                                                                       "first_date")
    if schools is not None:
        rounds = rounds.filter(pl.col("skole_orgnr").is_in(schools))
    return rounds.with_columns(
        pl.col("round_id").shift(1).over("skole_orgnr").alias("pre_round"),
        pl.col("term").shift(1).over("skole_orgnr").alias("pre_term"),
    ).filter(pl.col("pre_round").is_not_null()).select(
        "skole_orgnr", pl.lit("runde").alias("phase"), "pre_round", "pre_term",
        pl.col("round_id").alias("post_round"), pl.col("term").alias("post_term"),
    )
