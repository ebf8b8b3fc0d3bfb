"""Indicator tables from the marts: shares and means with honest intervals, at any level.

Group and school level: a share carries the Wilson interval, a scale mean the t interval.
Municipality, pulje and programme level: pupils are clustered in schools, so a share is the
ratio estimator Σx/Σn with the school-cluster-robust variance G/(G−1)·Σ(x_s − p·n_s)²/(Σn)² and
t_{G−1} critical values (see ``lmp_analytics.stats.cluster``); a mean uses the same estimator on
the sums. With fewer than 5 schools no cluster interval is honest, so ``ci_method`` says
``wilson_srs`` (simple random sampling: too narrow) and ``few_clusters`` is true.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import polars as pl
from scipy import stats as sps

from lmp_analytics.stats.cluster import MIN_CLUSTERS
from lmp_analytics.stats.proportions import wilson_exprs
from lmp_analytics.terms import term_order
from lmp_analytics.warehouse.queries import named

LEVELS = ("gruppe", "skole", "kommune", "pulje", "program")
BREAKDOWNS = ("alle", "trinn", "kjonn")

INDICATOR_COLUMNS = [
    "level", "kommunenummer", "skole_orgnr", "skole", "gruppe", "rolle", "pulje", "term",
    "round", "versjon", "indicator", "kind", "breakdown", "breakdown_value", "n", "count",
    "share", "ci_low", "ci_high", "mean", "sd", "mean_ci_low", "mean_ci_high", "n_schools",
    "ci_method", "few_clusters", "is_primary",
]


def _t_crit(df: pl.Series, conf: float = 0.95) -> pl.Series:
    values = df.to_numpy().astype(float)
    with np.errstate(invalid="ignore"):
        crit = np.where(values >= 1, sps.t.ppf(0.5 + conf / 2, np.maximum(values, 1)), np.nan)
    return pl.Series(crit)


def _school_level_stats(frame: pl.DataFrame) -> pl.DataFrame:
    """Wilson for shares (scales: share of pupils with mean >= 4), t interval for means."""
    frame = frame.with_columns(
        pl.when(pl.col("kind") == "share").then(pl.col("count"))
        .otherwise(pl.col("top_count")).alias("count")
    )
    low, high = wilson_exprs("count", "n")
    mean = pl.col("sum") / pl.col("n")
    var = (pl.col("sumsq") - pl.col("n") * mean * mean) / (pl.col("n") - 1)
    frame = frame.with_columns(
        (pl.col("count") / pl.col("n")).alias("share"), low, high,
        mean.alias("mean"),
        pl.when(pl.col("n") > 1).then(var.clip(0.0).sqrt()).alias("sd"),
        pl.lit("wilson").alias("ci_method"),
        pl.lit(False).alias("few_clusters"),
    )
    crit = _t_crit(frame.get_column("n") - 1)
    half = crit * frame.get_column("sd") / frame.get_column("n").cast(pl.Float64).sqrt()
    return frame.with_columns(
        (pl.col("mean") - half).alias("mean_ci_low"),
        (pl.col("mean") + half).alias("mean_ci_high"),
    )


def _cluster_stats(agg: pl.DataFrame, schools: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Ratio estimator with school-cluster-robust variance (CR1) and t_{G-1} intervals."""
    schools = schools.with_columns(
        pl.when(pl.col("kind") == "share").then(pl.col("count"))
        .otherwise(pl.col("top_count")).alias("x"),
    )
    joined = schools.join(
        agg.select(*keys, pl.col("n").alias("N"), pl.col("x_total"), pl.col("sum_total")),
        on=keys, how="inner",
    ).with_columns(
        (pl.col("x_total") / pl.col("N")).alias("p"),
        (pl.col("sum_total") / pl.col("N")).alias("m"),
    )
    resid = joined.group_by(keys).agg(
        ((pl.col("x") - pl.col("p") * pl.col("n")) ** 2).sum().alias("rss_share"),
        ((pl.col("sum") - pl.col("m") * pl.col("n")) ** 2).sum().alias("rss_mean"),
        pl.len().alias("G"),
    )
    out = agg.join(resid, on=keys, how="left").with_columns(
        (pl.col("x_total") / pl.col("n")).alias("share"),
        (pl.col("sum_total") / pl.col("n")).alias("mean"),
    )
    g = out.get_column("G").cast(pl.Float64)
    crit = _t_crit(g - 1)
    factor = g / (g - 1)
    n2 = out.get_column("n").cast(pl.Float64) ** 2
    se_share = (factor * out.get_column("rss_share") / n2).sqrt()
    se_mean = (factor * out.get_column("rss_mean") / n2).sqrt()
    few = (g < MIN_CLUSTERS).fill_null(True)
    low_w, high_w = wilson_exprs("x_total", "n")
    out = out.with_columns(
        low_w.alias("w_low"), high_w.alias("w_high"),
        pl.Series("few_clusters", few),
        pl.Series("se_share", se_share), pl.Series("se_mean", se_mean),
        pl.Series("crit", crit),
    )
    return out.with_columns(
        pl.when(pl.col("few_clusters")).then(pl.col("w_low"))
        .otherwise((pl.col("share") - pl.col("crit") * pl.col("se_share")).clip(0.0, 1.0))
        .alias("ci_low"),
        pl.when(pl.col("few_clusters")).then(pl.col("w_high"))
        .otherwise((pl.col("share") + pl.col("crit") * pl.col("se_share")).clip(0.0, 1.0))
        .alias("ci_high"),
        pl.when(pl.col("few_clusters")).then(None)
        .otherwise(pl.col("mean") - pl.col("crit") * pl.col("se_mean")).alias("mean_ci_low"),
        pl.when(pl.col("few_clusters")).then(None)
        .otherwise(pl.col("mean") + pl.col("crit") * pl.col("se_mean")).alias("mean_ci_high"),
        pl.when(pl.col("few_clusters")).then(pl.lit("wilson_srs"))
        .otherwise(pl.lit("cluster_t")).alias("ci_method"),
        pl.col("x_total").alias("count"),
        pl.lit(None, pl.Float64).alias("sd"),
    )


def _check(level: str, by: str | None) -> str:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    breakdown = by or "alle"
    if breakdown not in BREAKDOWNS:
        raise ValueError(f"by must be 'trinn' or 'kjonn'; got {by!r}")
    return breakdown


def _read(
    con: duckdb.DuckDBPyConnection, level: str, breakdown: str, indicator: str | None
) -> dict[str, pl.DataFrame]:
    """What one slice's table is computed from (``indicator`` None: every indicator)."""
    # Only the slice asked for leaves DuckDB (a publication asks for ~100 slices of a mart
    # that holds every level, breakdown and indicator of every term).
    inputs = {
        "raw": con.sql(named("reads", "indicator_counts_slice"),
                       params=[level, breakdown, indicator]).pl(),
        "schools": con.sql(named("reads", "schools")).pl().select("skole_orgnr", "skole"),
        "primary_rounds": con.sql("SELECT round_id, is_primary FROM mart_school_round").pl(),
    }
    if level not in ("gruppe", "skole"):
        inputs["school_rows"] = con.sql(named("reads", "indicator_counts_slice"),
                                        params=["skole", breakdown, indicator]).pl()
        inputs["primary"] = con.sql("SELECT round_id FROM mart_school_round WHERE is_primary").pl()
    return inputs


def _table(level: str, inputs: dict[str, pl.DataFrame]) -> pl.DataFrame:
    raw = inputs["raw"]
    if level in ("gruppe", "skole"):
        out = _school_level_stats(raw)
    else:
        keys = {"kommune": ["kommunenummer", "rolle"], "pulje": ["pulje", "rolle"],
                "program": ["rolle"]}[level] + ["term", "indicator", "breakdown",
                                                 "breakdown_value"]
        school_rows = inputs["school_rows"].join(inputs["primary"], on="round_id", how="semi")
        agg = raw.with_columns(
            pl.when(pl.col("kind") == "share").then(pl.col("count"))
            .otherwise(pl.col("top_count")).alias("x_total"),
            pl.col("sum").alias("sum_total"),
        )
        out = _cluster_stats(agg, school_rows, keys)
    out = out.join(inputs["schools"], on="skole_orgnr", how="left").join(
        inputs["primary_rounds"], on="round_id", how="left"
    ).with_columns(
        pl.when(pl.col("level").is_in(["gruppe", "skole"])).then(pl.col("is_primary"))
        .otherwise(None).alias("is_primary"),
        pl.col("round_id").alias("round"),
        pl.col("pulje").cast(pl.Int64),
        pl.col("n").cast(pl.Int64),
        pl.col("n_schools").cast(pl.Int64),
        pl.col("count").cast(pl.Float64),
    )
    return out.select(INDICATOR_COLUMNS).sort(
        "kommunenummer", "skole_orgnr", "gruppe", term_order(), "indicator", "breakdown_value",
        nulls_last=True,
    )


def indicator_table(
    con: duckdb.DuckDBPyConnection,
    level: str = "skole",
    *,
    indicator: str | None = None,
    by: str | None = None,
) -> pl.DataFrame:
    """One row per unit, round/term, indicator and breakdown value (INDICATOR_COLUMNS).

    ``by``: None (all respondents), 'trinn' or 'kjonn'. Shares are fractions (0-1); for a scale
    indicator ``share`` is the share of pupils with a mean of at least 4 and ``mean`` the mean.
    This is the unsuppressed table: anything shown goes through ``lmp_analytics.api``.
    """
    return _table(level, _read(con, level, _check(level, by), indicator))


def indicator_tables(
    con: duckdb.DuckDBPyConnection,
    level: str = "skole",
    *,
    indicators: Sequence[str],
    by: str | None = None,
) -> dict[str, pl.DataFrame]:
    """``indicator_table(con, level, indicator=i, by=by)`` for every ``i`` in ``indicators``,
    with one read of the marts instead of one per indicator: each table is computed from the
    same rows, in the same order, as that call reads (DuckDB keeps a table's row order)."""
    inputs = _read(con, level, _check(level, by), None)
    if level in ("gruppe", "skole"):
        # Every statistic of these levels is computed within its own row: one computation for
        # all indicators gives each indicator's rows as its own would.
        wanted = pl.col("indicator").is_in(list(indicators))
        table = _table(level, {**inputs, "raw": inputs["raw"].filter(wanted)})
        parts = table.partition_by("indicator", maintain_order=True, as_dict=True)
        return {ind: parts.get((ind,), table.clear()) for ind in indicators}
    out = {}
    for indicator in indicators:
        # a cluster interval sums over schools: computed from exactly the indicator's own rows
        own = {name: frame.filter(pl.col("indicator") == indicator) if "indicator" in frame.columns
               else frame for name, frame in inputs.items()}
        out[indicator] = _table(level, own)
    return out
