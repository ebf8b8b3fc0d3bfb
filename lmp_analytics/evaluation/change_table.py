"""Per-school changes for many pairs of rounds at once, and their stored table.

:func:`compute_changes` gives, for every pair of rounds and indicator, the estimate columns of
``CHANGE_SCHEMA`` (:mod:`lmp_analytics.evaluation.change_pairs`; before BH, verdicts and
suppression), from one DuckDB query of counts: shares use the array forms of the
reference-checked ``risk_difference_change`` / ``linked_change`` on each pair's paired table and
unlinked counts; scales use the sufficient statistics (n, mean, variance of each round and of
the linked differences) with the same Welch / paired-t formulas scipy uses (checked against
scipy in the tests).

Every p-value is the one that belongs to the interval beside it, so the p-value, the interval
and the verdict (read off the interval) never disagree: p < 0.05 exactly when the 95 % interval
excludes 0. Shares: the inverted MOVER / Newcombe paired interval (test ``mover_inversion``);
scales: the Welch t test (``welch_t``) and the paired t test for the linked pupils.

:func:`build_change_table` stores every indicator's changes for every school's round-to-round
pairs and every participant's phase pairs in ``mart_school_change`` at build time, recomputing
only the pairs whose rounds changed since the last build (full rebuild when the schools, phase
calendar, indicator definitions or ``min_n`` change). :func:`read_changes` reads one family back.
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from lmp_analytics.evaluation import change_vector as vec
from lmp_analytics.evaluation.change_pairs import (
    CHANGE_SCHEMA,
    PAIR_COLUMNS,
    phase_pairs,
    round_pairs,
)
from lmp_analytics.metrics.phases import primary_rounds
from lmp_analytics.stats.change import (
    INVERSION_TEST,
    mover_p_values,
)
from lmp_analytics.warehouse import build, ddl, meta
from lmp_analytics.warehouse.meta import reader_min_n, writer_min_n
from lmp_analytics.warehouse.queries import named
from lmp_analytics.warehouse.registry import TARGETS

TARGET = "school_changes"
CHANGE_TABLE = "mart_school_change"
INPUTS_KEY = TARGETS[TARGET].inputs_key
MIN_N_KEY = "school_change_min_n"
PHASES = ("1", "2", "3", "4", "program")
PHASE_RANK = {"runde": 0, "1": 1, "2": 2, "3": 3, "4": 4, "program": 5}

# Stored columns: CHANGE_SCHEMA without what is decided at read time (school attributes, BH,
# verdict, RTM flag), plus the ordering keys.
STORED = {c: t for c, t in CHANGE_SCHEMA.items()
          if c not in ("kommunenummer", "skole", "rolle", "p_adjusted", "verdict", "rtm_warning")}
TABLE_SCHEMA = {**STORED, "phase_rank": pl.Int32, "post_date": pl.Date}
WELCH_TEST = "welch_t"
_ESTIMATES = [c for c in STORED if c not in PAIR_COLUMNS and c not in ("indicator", "kind")]


def _q(name: str) -> str:
    return named("changes", name)


def _kinds(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.sql(_q("indicator_kinds")).fetchall())


# --- computing ------------------------------------------------------------------------------

def _counts(con, pairs: pl.DataFrame, indicators: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Round totals and linked counts of ``pairs``, a post term at a time (bounded memory:
    the rounds of one term and their predecessors)."""
    totals, linked = [], []
    for (_,), chunk in pairs.partition_by("post_term", as_dict=True, maintain_order=True,
                                          include_key=True).items():
        terms = sorted({t for t in chunk["pre_term"].to_list() + chunk["post_term"].to_list()
                        if t is not None})
        con.register("change_pairs", chunk.select("pair_id", "pre_round", "post_round"))
        try:
            totals.append(con.sql(_q("round_totals"), params=[indicators, terms]).pl())
            linked.append(con.sql(_q("linked_counts"), params=[indicators, terms]).pl())
        finally:
            con.unregister("change_pairs")
    return (pl.concat(totals, how="vertical_relaxed").unique(["round_id", "indicator"]),
            pl.concat(linked, how="vertical_relaxed"))


def _grid(con, pairs: pl.DataFrame, indicators: list[str]) -> pl.DataFrame:
    """One row per pair and indicator with the counts of both rounds and the linked pupils."""
    totals, linked = _counts(con, pairs, indicators)
    kinds = _kinds(con)
    inds = pl.DataFrame({"indicator": indicators,
                         "kind": [kinds.get(i) for i in indicators]},
                        schema={"indicator": pl.String, "kind": pl.String})
    t = totals.select("round_id", "indicator", pl.col("n").cast(pl.Int64),
                      pl.col("total").cast(pl.Float64), pl.col("mean").cast(pl.Float64),
                      pl.col("var").cast(pl.Float64))
    grid = pairs.join(inds, how="cross")
    for side, rid in (("0", "pre_round"), ("1", "post_round")):
        grid = grid.join(
            t.rename({"round_id": rid, "n": f"n{side}", "total": f"x{side}",
                      "mean": f"m{side}", "var": f"v{side}"}),
            on=[rid, "indicator"], how="left", nulls_equal=False)
    lk = linked.with_columns(
        *[pl.col(c).cast(pl.Int64) for c in ("linked_n", "a", "b", "c", "d", "n_nonzero")],
        *[pl.col(c).cast(pl.Float64) for c in ("d_mean", "d_var", "r_plus", "tie_term")],
    ).drop("kind", strict=False)
    grid = grid.join(lk, on=["pair_id", "indicator"], how="left")
    return grid.with_columns(
        pl.col("n0").fill_null(0), pl.col("n1").fill_null(0),
        pl.col("x0").fill_null(0.0), pl.col("x1").fill_null(0.0),
        *[pl.col(c).fill_null(0) for c in ("linked_n", "a", "b", "c", "d", "n_nonzero")],
    )


def _share_frame(g: pl.DataFrame, min_n: int) -> pl.DataFrame:
    """Share rows on arrays: the MOVER interval (``risk_difference_change``) and Newcombe's
    paired one (``linked_change``), each with the p-value that inverts it
    (:func:`~lmp_analytics.stats.change.mover_p_values`)."""
    a, b, c, d = (g[k].to_numpy().astype(np.int64) for k in ("a", "b", "c", "d"))
    n0, n1 = g["n0"].to_numpy().astype(np.int64), g["n1"].to_numpy().astype(np.int64)
    x0 = np.rint(g["x0"].to_numpy()).astype(np.int64)
    x1 = np.rint(g["x1"].to_numpy()).astype(np.int64)
    big_n = a + b + c + d
    diff, lo, hi = vec.mover_interval(a, b, c, d, x0, n0, x1, n1)
    p = mover_p_values(a, b, c, d, x0, n0, x1, n1)
    tested = (n0 >= min_n) & (n1 >= min_n)
    linked = big_n >= min_n
    with np.errstate(divide="ignore", invalid="ignore"):
        ldiff, llo, lhi = vec.newcombe_paired_interval(a, b, c, d)
        lp = mover_p_values(a, b, c, d, a + b, big_n, a + c, big_n)

    def keep(arr, mask):
        return pl.Series(np.where(mask, arr, np.nan)).fill_nan(None)

    return g.select(
        "pair_id", "indicator", pl.col("n0").alias("pre_n"), pl.col("n1").alias("post_n"),
        "linked_n",
    ).with_columns(
        pl.Series("pre_value", x0 / n0), pl.Series("post_value", x1 / n1),
        pl.Series("diff", diff), pl.Series("diff_ci_low", lo), pl.Series("diff_ci_high", hi),
        keep(p, tested).alias("p_value"),
        pl.lit(INVERSION_TEST).alias("test"),
        pl.Series("tested", tested),
        keep(ldiff, linked).alias("linked_diff"), keep(llo, linked).alias("linked_ci_low"),
        keep(lhi, linked).alias("linked_ci_high"),
        keep(lp, linked).alias("linked_p_value"),
    )


def _scale_frame(g: pl.DataFrame, min_n: int) -> pl.DataFrame:
    """Scale rows on arrays: the Welch interval of the all-respondent difference of means with
    the Welch t-test p-value, and the paired-t interval of the linked pupils with the paired
    t-test p-value (each p-value is the dual of its interval: p < 0.05 exactly when the 95 %
    interval excludes 0)."""
    n0, n1 = g["n0"].to_numpy().astype(float), g["n1"].to_numpy().astype(float)
    m0, m1 = g["m0"].to_numpy().astype(float), g["m1"].to_numpy().astype(float)
    v0 = g["v0"].fill_null(np.nan).to_numpy().astype(float)
    v1 = g["v1"].fill_null(np.nan).to_numpy().astype(float)
    big_n = g["linked_n"].to_numpy().astype(float)
    d_mean = g["d_mean"].fill_null(np.nan).to_numpy().astype(float)
    d_var = g["d_var"].fill_null(np.nan).to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = vec.welch_interval(m0, v0, n0, m1, v1, n1)
        wp = vec.welch_p(m0, v0, n0, m1, v1, n1)
        plo, phi = vec.paired_interval(d_mean, d_var, big_n)
        pp = vec.paired_p(d_mean, d_var, big_n)
    has_ci = (n0 >= 2) & (n1 >= 2)
    tested = (n0 >= min_n) & (n1 >= min_n) & has_ci
    paired = tested & (big_n >= min_n)

    def keep(arr, mask):
        return pl.Series(np.where(mask, arr, np.nan)).fill_nan(None)

    return g.select(
        "pair_id", "indicator",
        pl.col("n0").alias("pre_n"), pl.col("n1").alias("post_n"),
        pl.col("linked_n"), pl.col("m0").alias("pre_value"), pl.col("m1").alias("post_value"),
        (pl.col("m1") - pl.col("m0")).alias("diff"),
    ).with_columns(
        keep(lo, has_ci).alias("diff_ci_low"), keep(hi, has_ci).alias("diff_ci_high"),
        keep(wp, tested).alias("p_value"),
        pl.Series(np.where(tested, WELCH_TEST, "")).alias("test"),
        pl.Series(tested).alias("tested"),
        keep(d_mean, paired).alias("linked_diff"),
        keep(plo, paired).alias("linked_ci_low"), keep(phi, paired).alias("linked_ci_high"),
        keep(pp, paired).alias("linked_p_value"),
    )


def compute_changes(
    con: duckdb.DuckDBPyConnection,
    pairs: pl.DataFrame,
    indicators: list[str] | None = None,
    *,
    min_n: int | None = None,
) -> pl.DataFrame:
    """Changes of ``indicators`` (default: all) for every row of ``pairs`` (PAIR_COLUMNS and
    optionally ``phase_rank``, ``post_date``): the pair's columns, indicator, kind and the
    estimates of CHANGE_SCHEMA before BH (p_adjusted, verdict, rtm_warning and the school
    attributes are not included). Row order: ``pairs`` order, indicators within a pair.
    ``min_n`` defaults to the reader's threshold (:func:`~lmp_analytics.warehouse.meta.
    reader_min_n`)."""
    min_n = reader_min_n(con) if min_n is None else min_n
    if indicators is None:
        indicators = list(_kinds(con))
    extra = [c for c in ("phase_rank", "post_date") if c in pairs.columns]
    pairs = pairs.select(*PAIR_COLUMNS, *extra).with_row_index("pair_id")
    grid = _grid(con, pairs, indicators)
    measured = (pl.col("pre_round").is_not_null() & pl.col("post_round").is_not_null()
                & (pl.col("n0") > 0) & (pl.col("n1") > 0))
    shares = grid.filter(measured & (pl.col("kind") == "share"))
    scales = grid.filter(measured & (pl.col("kind") == "scale"))
    est_schema = {c: STORED[c] for c in _ESTIMATES}
    key_schema = {"pair_id": pl.UInt32, "indicator": pl.String}
    parts = [_share_frame(shares, min_n), _scale_frame(scales, min_n)]
    empty_rows = grid.filter(~measured).select(
        "pair_id", "indicator", pl.col("n0").alias("pre_n"), pl.col("n1").alias("post_n"),
        pl.lit(0, pl.Int64).alias("linked_n"), pl.lit(False).alias("tested"),
        pl.lit("").alias("test"))
    parts.append(empty_rows)
    est = pl.concat(
        [p.select(**{c: pl.col(c).cast(t) if c in p.columns else pl.lit(None, t)
                     for c, t in {**key_schema, **est_schema}.items()}) for p in parts],
        how="vertical")
    out = grid.select("pair_id", *PAIR_COLUMNS, "indicator", "kind", *extra).join(
        est, on=["pair_id", "indicator"], how="left", maintain_order="left")
    return out.sort("pair_id", maintain_order=True).drop("pair_id")


# --- the stored table -----------------------------------------------------------------------

def all_pairs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every participant's phase pairs and every school's round-to-round pairs, with the
    ordering keys (phase_rank, post_date)."""
    rounds = primary_rounds(con)
    pairs = pl.concat([phase_pairs(con, rounds=rounds), round_pairs(con, rounds=rounds)])
    dates = rounds.select(pl.col("round_id").alias("post_round"),
                          pl.col("first_date").cast(pl.Date).alias("post_date"))
    return pairs.join(dates, on="post_round", how="left", maintain_order="left").with_columns(
        pl.col("phase").replace_strict(PHASE_RANK, return_dtype=pl.Int32).alias("phase_rank"))


def _store(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, *, replace: bool) -> None:
    ddl.insert_frame(con, CHANGE_TABLE, frame.select(list(TABLE_SCHEMA)), replace=replace)


def build_change_table(con: duckdb.DuckDBPyConnection, *, min_n: int | None = None,
                       full: bool = False) -> int:
    """Bring ``mart_school_change`` up to date inside the open write transaction (after the
    marts). Returns how many pairs were (re)computed. ``min_n`` defaults to the warehouse's
    recorded threshold."""
    min_n = writer_min_n(con) if min_n is None else min_n
    # "/p=interval": tables built when p came from another test than the interval are rebuilt
    inputs = f"{con.execute(_q('inputs_fingerprint')).fetchall()[0][0]}/min_n={min_n}/p=interval"
    # The rounds as the marts last saw them (saved just before), else fingerprinted now.
    now = "school_change_fp_now"
    source = TARGETS[TARGET].keyed_on
    if build.is_recorded(con, source):
        build.state_as(con, source, now)
    else:
        build.round_fingerprints(con, now)
    pairs = all_pairs(con)
    if not full and build.is_current(con, TARGET, inputs):
        build.changed(con, TARGET, now, "school_change_changed")
        touched = {r[0] for r in con.execute(_q("changed_round_ids")).fetchall()}
        stored = con.sql(_q("stored_pairs")).pl()
        keys = ["skole_orgnr", "phase", "pre_round", "post_round"]
        hit = pl.col("pre_round").is_in(sorted(touched)) | pl.col("post_round").is_in(
            sorted(touched))
        current = pairs.select(keys)
        stale = pl.concat([
            stored.join(current, on=keys, how="anti", nulls_equal=True),
            stored.filter(hit.fill_null(False)),
        ]).unique()
        valid = stored.join(stale, on=keys, how="anti", nulls_equal=True)
        todo = pairs.join(valid, on=keys, how="anti", nulls_equal=True, maintain_order="left")
        if stale.height:
            con.register("stale_pairs", stale)
            try:
                con.execute(_q("delete_pairs"))
            finally:
                con.unregister("stale_pairs")
        if todo.height:
            _store(con, compute_changes(con, todo, min_n=min_n), replace=False)
    else:
        todo = pairs
        _store(con, compute_changes(con, todo, min_n=min_n), replace=True)
    build.record(con, TARGET, now, inputs)
    meta.put(con, MIN_N_KEY, str(min_n))
    return todo.height


def read_changes(
    con: duckdb.DuckDBPyConnection,
    *,
    indicator: str,
    phases: list[str],
    schools: list[str] | None = None,
    min_n: int | None = None,
) -> pl.DataFrame | None:
    """The stored changes of one indicator and these phases (STORED columns, in the order of
    the on-the-fly computation), or None when the table was built with another ``min_n`` (a
    stricter reader): then the caller computes them at that threshold. A warehouse without the
    table (written by an older version) raises
    :class:`~lmp_analytics.warehouse.build.MissingDerivedTable`, saying how to build it: readers
    only read, and the next write builds it. ``min_n`` defaults to the reader's threshold."""
    build.require(con, CHANGE_TABLE)
    min_n = reader_min_n(con) if min_n is None else min_n
    if meta.get(con, MIN_N_KEY) != str(min_n):
        return None
    frame = con.sql(_q("read_changes"),
                    params=[indicator, phases, schools, schools]).pl()
    return frame.select(**{c: pl.col(c).cast(t) for c, t in STORED.items()})
