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
asked for, or compute the pairs now when the table was built with another ``min_n`` (a stricter
reader). A warehouse without the table is refused (``MissingDerivedTable``: run ``lmp ingest``).
"""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics.evaluation.change_pairs import CHANGE_SCHEMA, phase_pairs, round_pairs
from lmp_analytics.evaluation.change_table import compute_changes, read_changes
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.multiplicity import adjusted_p_values
from lmp_analytics.stats.verdict import verdict_expr
from lmp_analytics.warehouse.queries import named


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
        raise refusal(StatsInputError, "change_interval_order", n=wrong.height,
                      example=str(wrong.select("diff_ci_low", "diff_ci_high").row(0)))
    return frame.with_columns(
        adjusted,
        verdict_expr("diff_ci_low", "diff_ci_high", "tested").alias("verdict"),
        ((pl.col("rolle") == "deltaker") & (pl.col("diff") < 0)
         & pl.col("phase").is_in(["1", "program"])).fill_null(False).alias("rtm_warning"),
    )


def _stored_or_computed(con, pairs_of, *, indicator: str, phases: list[str],
                        min_n: int | None, schools: list[str] | None) -> pl.DataFrame:
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
    family. Read from ``mart_school_change`` (computed now for a stricter reader's ``min_n``)."""
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
    from ``mart_school_change`` (computed now for a stricter reader's ``min_n``)."""
    return _stored_or_computed(
        con, lambda: round_pairs(con, schools=schools), indicator=indicator, phases=["runde"],
        min_n=min_n, schools=schools)
