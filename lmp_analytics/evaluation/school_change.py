"""Per school: the change of an indicator before vs after a phase, or between consecutive rounds.

Headline (shares): all respondents of both rounds, the MOVER interval that accounts for pupils
linked across the rounds (same pseudonym) and the overlap-corrected score test (Newcombe 2011;
Derrick et al. 2015). The secondary "same pupils" view uses Newcombe's paired interval and McNemar
mid-p. Scales: difference of means with a t interval (paired on linked pupils when at least
``min_n`` are linked, else Welch), Wilcoxon signed-rank (linked) or Mann–Whitney (unlinked).
No test below ``min_n`` respondents in either round; Benjamini–Hochberg over the schools tested.

The estimates of every pair are stored at build time in ``mart_school_change``
(:mod:`lmp_analytics.evaluation.change_table`); :func:`phase_changes` and
:func:`consecutive_round_changes` read them and apply BH, verdicts and the RTM flag to the family
asked for, or compute the pairs now when the table is absent or was built with another ``min_n``.
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl
from scipy import stats as sps

from lmp_analytics.metrics.phases import phase_calendar, primary_rounds, select_phase_rounds
from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.multiplicity import adjusted_p_values
from lmp_analytics.stats.verdict import verdict_expr
from lmp_analytics.warehouse.queries import named

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


def _scale_change(pre: pl.DataFrame, post: pl.DataFrame, min_n: int) -> dict:
    x0 = pre.get_column("value").to_numpy()
    x1 = post.get_column("value").to_numpy()
    pairs = pre.select("elev", pl.col("value").alias("v0")).join(
        post.select("elev", pl.col("value").alias("v1")), on="elev", how="inner"
    )
    out = {"pre_n": len(x0), "post_n": len(x1), "linked_n": pairs.height,
           "pre_value": float(x0.mean()) if len(x0) else None,
           "post_value": float(x1.mean()) if len(x1) else None, "tested": False, "test": ""}
    if len(x0) and len(x1):
        out["diff"] = out["post_value"] - out["pre_value"]
    if len(x0) < 2 or len(x1) < 2:
        return out
    # Welch interval for the all-respondent difference of means (rounds share some pupils, which
    # makes this conservative when the correlation is positive).
    welch = sps.ttest_ind(x1, x0, equal_var=False)
    ci = welch.confidence_interval(0.95)
    out.update(diff_ci_low=float(ci.low), diff_ci_high=float(ci.high))
    if len(x0) >= min_n and len(x1) >= min_n:
        out["tested"] = True
        if pairs.height >= min_n:
            d = (pairs["v1"] - pairs["v0"]).to_numpy()
            if np.any(d != 0):
                w = sps.wilcoxon(d, zero_method="wilcox", correction=False, method="approx")
                out.update(p_value=float(w.pvalue), test="wilcoxon_signed_rank")
            else:
                out.update(p_value=1.0, test="wilcoxon_signed_rank")
            paired = sps.ttest_rel(pairs["v1"].to_numpy(), pairs["v0"].to_numpy())
            pci = paired.confidence_interval(0.95)
            out.update(linked_diff=float(d.mean()), linked_ci_low=float(pci.low),
                       linked_ci_high=float(pci.high), linked_p_value=out["p_value"])
        else:
            mw = sps.mannwhitneyu(x1, x0, alternative="two-sided")
            out.update(p_value=float(mw.pvalue), test="mann_whitney")
    return out


def compare_rounds(
    con: duckdb.DuckDBPyConnection,
    pairs: pl.DataFrame,
    *,
    indicator: str,
    min_n: int | None = None,
) -> pl.DataFrame:
    """Change per row of ``pairs`` (PAIR_COLUMNS), computed now. Rows without both rounds come
    back untested with null estimates."""
    from lmp_analytics.evaluation.change_table import compute_changes

    return _finalise(con, compute_changes(con, pairs, [indicator], min_n=min_n))


def _finalise(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """School attributes, then BH, verdicts and the RTM flag (CHANGE_SCHEMA)."""
    schools = con.sql(named("reads", "schools")).pl()
    if frame.height and frame.select(
            (pl.col("pre_n").fill_null(0) + pl.col("post_n").fill_null(0)).sum()).item() == 0:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("kind"))  # nothing measured
    out = frame.join(
        schools.select("skole_orgnr", "kommunenummer", "skole", "rolle"), on="skole_orgnr",
        how="left", maintain_order="left",
    ).with_columns(
        pl.lit(None, pl.Float64).alias("p_adjusted"), pl.lit(None, pl.String).alias("verdict"),
        pl.lit(None, pl.Boolean).alias("rtm_warning"),
    ).select(**{c: pl.col(c).cast(t) for c, t in CHANGE_SCHEMA.items()})
    return _finish(out)


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    """BH within the family returned, the interval-based verdict and the RTM flag."""
    p = frame.get_column("p_value").cast(pl.Float64).fill_null(float("nan")).to_numpy()
    adjusted = pl.Series("p_adjusted", adjusted_p_values(p), dtype=pl.Float64).fill_nan(None)
    wrong = frame.filter(pl.col("diff_ci_low") > pl.col("diff_ci_high"))
    if wrong.height:
        raise StatsInputError(f"{wrong.height} change interval(s) have their limits in the wrong "
                              f"order, e.g. {wrong.select('diff_ci_low', 'diff_ci_high').row(0)}")
    return frame.with_columns(
        adjusted,
        verdict_expr("diff_ci_low", "diff_ci_high", "tested").alias("verdict"),
        ((pl.col("rolle") == "deltaker") & (pl.col("diff") < 0)
         & pl.col("phase").is_in(["1", "program"])).fill_null(False).alias("rtm_warning"),
    )


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


def _stored_or_computed(con, pairs_of, *, indicator: str, phases: list[str],
                        min_n: int | None, schools: list[str] | None) -> pl.DataFrame:
    from lmp_analytics.evaluation.change_table import compute_changes, read_changes

    frame = read_changes(con, indicator=indicator, phases=phases, schools=schools, min_n=min_n)
    if frame is None:
        frame = compute_changes(con, pairs_of(), [indicator], min_n=min_n)
    return _finalise(con, frame)


def phase_changes(
    con: duckdb.DuckDBPyConnection,
    *,
    indicator: str = "mobbet",
    phase: str | int | None = None,
    min_n: int | None = None,
    schools: list[str] | None = None,
) -> pl.DataFrame:
    """Before/after each phase (or one ``phase``: 1-4 or 'program') for every participating
    school (or only ``schools``), CHANGE_SCHEMA columns; BH is applied within the returned
    family. Read from ``mart_school_change`` when the warehouse has it, else computed now."""
    phases = ["1", "2", "3", "4", "program"] if phase is None else [str(phase)]
    return _stored_or_computed(
        con, lambda: phase_pairs(con, phase=phase, schools=schools), indicator=indicator,
        phases=phases, min_n=min_n, schools=schools)


def consecutive_round_changes(
    con: duckdb.DuckDBPyConnection,
    *,
    indicator: str = "mobbet",
    min_n: int | None = None,
    schools: list[str] | None = None,
) -> pl.DataFrame:
    """Each school's primary round against its previous one (phase column = 'runde'). Read
    from ``mart_school_change`` when the warehouse has it, else computed now."""
    return _stored_or_computed(
        con, lambda: round_pairs(con, schools=schools), indicator=indicator, phases=["runde"],
        min_n=min_n, schools=schools)
