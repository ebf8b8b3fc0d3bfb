"""Per-school changes for many pairs of rounds at once, and their stored table.

:func:`compute_changes` gives, for every pair of rounds and indicator, the estimate columns of
``CHANGE_SCHEMA`` (:mod:`lmp_analytics.evaluation.change_pairs`; before BH, verdicts and
suppression), from one DuckDB query of counts: shares go through the reference-checked
``risk_difference_change`` / ``linked_change`` on each pair's paired table and unlinked
counts; scales use the sufficient statistics (n, mean, variance of each round and of the linked
differences, Wilcoxon rank sums) with the same Welch / paired-t / Wilcoxon formulas scipy uses
(checked against scipy in the tests). The rare scale rows that need Mann–Whitney (or are
degenerate: no variance) go through the per-pair code on their pupil values
(:func:`_scale_change`).

:func:`build_change_table` stores every indicator's changes for every school's round-to-round
pairs and every participant's phase pairs in ``mart_school_change`` at build time, recomputing
only the pairs whose rounds changed since the last build (full rebuild when the schools, phase
calendar, indicator definitions or ``min_n`` change). :func:`read_changes` reads one family back.
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl
from scipy import stats as sps

from lmp_analytics.evaluation import change_vector as vec
from lmp_analytics.evaluation.change_pairs import (
    CHANGE_SCHEMA,
    PAIR_COLUMNS,
    phase_pairs,
    round_pairs,
)
from lmp_analytics.metrics.phases import primary_rounds
from lmp_analytics.stats.change import linked_change, risk_difference_change
from lmp_analytics.warehouse import build, meta
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


def _share_rows(rows, min_n: int) -> list[dict]:
    """The scalar reference functions, row by row (rows the array path does not cover)."""
    out = []
    for r in rows:
        a, b, c, d, big_n = r["a"], r["b"], r["c"], r["d"], r["linked_n"]
        x0, x1 = round(r["x0"]), round(r["x1"])
        res = risk_difference_change((a, b, c, d), (x0 - a - b, r["n0"] - big_n),
                                     (x1 - a - c, r["n1"] - big_n), min_n=min_n)
        rec = {"pair_id": r["pair_id"], "indicator": r["indicator"],
               "pre_n": res.pre_n, "post_n": res.post_n, "linked_n": res.linked_n,
               "pre_value": res.pre_share, "post_value": res.post_share, "diff": res.diff,
               "diff_ci_low": res.ci_low, "diff_ci_high": res.ci_high,
               "p_value": res.p_value, "test": res.test, "tested": res.tested}
        if big_n >= min_n:
            same = linked_change(a, b, c, d, min_n=min_n)
            rec.update(linked_diff=same.diff, linked_ci_low=same.ci_low,
                       linked_ci_high=same.ci_high, linked_p_value=same.p_value)
        out.append(rec)
    return out


def _share_frame(g: pl.DataFrame, min_n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Share rows on arrays (``risk_difference_change`` + ``linked_change``), and the rows left
    to the scalar functions: no linked pupils (score test or Boschloo) or a corrected null
    variance that is not positive."""
    a, b, c, d = (g[k].to_numpy().astype(np.int64) for k in ("a", "b", "c", "d"))
    n0, n1 = g["n0"].to_numpy().astype(np.int64), g["n1"].to_numpy().astype(np.int64)
    x0 = np.rint(g["x0"].to_numpy()).astype(np.int64)
    x1 = np.rint(g["x1"].to_numpy()).astype(np.int64)
    big_n = a + b + c + d
    all_linked = (big_n > 0) & (n0 == big_n) & (n1 == big_n)
    diff, lo, hi = vec.mover_interval(a, b, c, d, x0, n0, x1, n1)
    p_overlap, odd = vec.overlap_score_p(a, b, c, d, x0, n0, x1, n1)
    p_mcnemar = vec.mcnemar_mid_p(b, c)
    p = np.where(all_linked, p_mcnemar, p_overlap)
    tested = (n0 >= min_n) & (n1 >= min_n)
    linked = big_n >= min_n
    with np.errstate(divide="ignore", invalid="ignore"):
        ldiff, llo, lhi = vec.newcombe_paired_interval(a, b, c, d)
    slow = (big_n == 0) | (odd & ~all_linked)

    def keep(arr, mask):
        return pl.Series(np.where(mask, arr, np.nan)).fill_nan(None)

    frame = g.select(
        "pair_id", "indicator", pl.col("n0").alias("pre_n"), pl.col("n1").alias("post_n"),
        "linked_n",
    ).with_columns(
        pl.Series("pre_value", x0 / n0), pl.Series("post_value", x1 / n1),
        pl.Series("diff", diff), pl.Series("diff_ci_low", lo), pl.Series("diff_ci_high", hi),
        keep(p, tested).alias("p_value"),
        pl.Series("test", np.where(all_linked, "mcnemar_midp", "overlap_score_z")),
        pl.Series("tested", tested),
        keep(ldiff, linked).alias("linked_diff"), keep(llo, linked).alias("linked_ci_low"),
        keep(lhi, linked).alias("linked_ci_high"),
        keep(p_mcnemar, linked).alias("linked_p_value"),
    )
    mask = pl.Series(slow)
    return frame.filter(~mask), g.filter(mask)


def _scale_frame(g: pl.DataFrame, min_n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Vectorised scale rows, and the rows left to the per-pair code (Mann–Whitney, or no
    variance to form an interval)."""
    n0, n1 = g["n0"].to_numpy().astype(float), g["n1"].to_numpy().astype(float)
    m0, m1 = g["m0"].to_numpy().astype(float), g["m1"].to_numpy().astype(float)
    v0 = g["v0"].fill_null(np.nan).to_numpy().astype(float)
    v1 = g["v1"].fill_null(np.nan).to_numpy().astype(float)
    big_n = g["linked_n"].to_numpy().astype(float)
    d_mean = g["d_mean"].fill_null(np.nan).to_numpy().astype(float)
    d_var = g["d_var"].fill_null(np.nan).to_numpy().astype(float)
    nnz = g["n_nonzero"].to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = vec.welch_interval(m0, v0, n0, m1, v1, n1)
        plo, phi = vec.paired_interval(d_mean, d_var, big_n)
        wp = np.where(nnz > 0, vec.wilcoxon_p(g["r_plus"].fill_null(0.0).to_numpy(), nnz,
                                          g["tie_term"].fill_null(0.0).to_numpy()), 1.0)
    has_ci = (n0 >= 2) & (n1 >= 2)
    tested = (n0 >= min_n) & (n1 >= min_n) & has_ci
    paired = tested & (big_n >= min_n)
    fallback = (has_ci & ~(np.isfinite(lo) & np.isfinite(hi) & (v0 + v1 > 0))) | (
        tested & ~paired) | (paired & ~(np.isfinite(plo) & np.isfinite(phi)))

    def keep(arr, mask):
        return pl.Series(np.where(mask, arr, np.nan)).fill_nan(None)

    frame = g.select(
        "pair_id", "indicator",
        pl.col("n0").alias("pre_n"), pl.col("n1").alias("post_n"),
        pl.col("linked_n"), pl.col("m0").alias("pre_value"), pl.col("m1").alias("post_value"),
        (pl.col("m1") - pl.col("m0")).alias("diff"),
    ).with_columns(
        keep(lo, has_ci).alias("diff_ci_low"), keep(hi, has_ci).alias("diff_ci_high"),
        keep(wp, paired).alias("p_value"),
        pl.Series(np.where(paired, "wilcoxon_signed_rank", "")).alias("test"),
        pl.Series(tested).alias("tested"),
        keep(d_mean, paired).alias("linked_diff"),
        keep(plo, paired).alias("linked_ci_low"), keep(phi, paired).alias("linked_ci_high"),
        keep(wp, paired).alias("linked_p_value"),
    )
    mask = pl.Series(fallback)
    return frame.filter(~mask), g.filter(mask)


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


def _scale_fallback(con, g: pl.DataFrame, min_n: int) -> list[dict]:
    """The per-pair code on pupil values, reading only the rounds and indicator needed."""
    out = []
    empty = pl.DataFrame(schema={"elev": pl.String, "value": pl.Float64})
    for (indicator,), part in g.partition_by("indicator", as_dict=True).items():
        rounds = sorted(set(part["pre_round"].to_list()) | set(part["post_round"].to_list()))
        con.register("wanted_rounds", pl.DataFrame({"round_id": rounds},
                                                   schema={"round_id": pl.String}))
        try:
            values = con.sql(_q("pupil_values"), params=[indicator]).pl()
        finally:
            con.unregister("wanted_rounds")
        by_round = {k[0]: v for k, v in values.partition_by("round_id", as_dict=True).items()}
        for row in part.select("pair_id", "pre_round", "post_round").iter_rows(named=True):
            rec = _scale_change(by_round.get(row["pre_round"], empty),
                                by_round.get(row["post_round"], empty), min_n)
            rec.update(pair_id=row["pair_id"], indicator=indicator)
            out.append(rec)
    return out


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
    fast, slow = _share_frame(shares, min_n)
    parts = [fast]
    if slow.height:
        parts.append(pl.DataFrame(_share_rows(slow.iter_rows(named=True), min_n),
                                  schema={**key_schema, **est_schema}))
    fast, slow = _scale_frame(scales, min_n)
    parts.append(fast)
    if slow.height:
        parts.append(pl.DataFrame(_scale_fallback(con, slow, min_n),
                                  schema={**key_schema, **est_schema}))
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
    con.register("new_school_changes", frame.select(list(TABLE_SCHEMA)))
    try:
        con.execute(_q("create_from_new" if replace else "insert_new"))
    finally:
        con.unregister("new_school_changes")


def build_change_table(con: duckdb.DuckDBPyConnection, *, min_n: int | None = None,
                       full: bool = False) -> int:
    """Bring ``mart_school_change`` up to date inside the open write transaction (after the
    marts). Returns how many pairs were (re)computed. ``min_n`` defaults to the warehouse's
    recorded threshold."""
    min_n = writer_min_n(con) if min_n is None else min_n
    inputs = f"{con.execute(_q('inputs_fingerprint')).fetchall()[0][0]}/min_n={min_n}"
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
    the on-the-fly computation), or None when there is no table (a warehouse of an older
    version; its next ``lmp ingest`` builds it) or it was built with another ``min_n`` (a
    stricter reader): then the caller computes them on the fly. ``min_n`` defaults to the
    reader's threshold."""
    min_n = reader_min_n(con) if min_n is None else min_n
    if CHANGE_TABLE not in build.tables(con) or meta.get(con, MIN_N_KEY) != str(min_n):
        return None
    frame = con.sql(_q("read_changes"),
                    params=[indicator, phases, schools, schools]).pl()
    return frame.select(**{c: pl.col(c).cast(t) for c, t in STORED.items()})
