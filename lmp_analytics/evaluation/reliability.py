"""Reliability of the scales: Cronbach's alpha with the Feldt interval per scale, instrument
version and term, on the programme sample (complete cases; never per school, where n is small)."""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.stats.scales import cronbach_alpha
from lmp_analytics.warehouse.queries import named

RELIABILITY_SCHEMA = {
    "indicator": pl.String, "versjon": pl.String, "term": pl.String, "k": pl.Int64,
    "n": pl.Int64, "alpha": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
}
MIN_COMPLETE_CASES = 50


def scale_reliability(
    con: duckdb.DuckDBPyConnection, *, by_term: bool = True, min_n: int = MIN_COMPLETE_CASES,
    first_answer: bool = False,
) -> pl.DataFrame:
    """Cronbach's alpha (Feldt 95 % CI) per scale indicator x version (x term); RELIABILITY_SCHEMA.

    Pupils who answered every item of the scale are the complete cases; cells with fewer than
    ``min_n`` of them, or with a single item, are left out. ``first_answer``: only each pupil's
    first answer (earliest date) in the cell, so a pupil's repeated rounds count once.
    """
    scales = sorted({i.id for b in load_codebooks().values() for i in b.indicators.values()
                     if i.kind == "scale"})
    rows = []
    for scale in scales:
        answers = con.sql(named("reads", "scale_item_answers"), params=[scale]).pl()
        if answers.height == 0:
            continue
        keys = ["versjon", "term"] if by_term else ["versjon"]
        for key, part in answers.partition_by(keys, as_dict=True).items():
            if first_answer:
                part = part.filter(pl.col("dato") == pl.col("dato").min().over("elev"))
            wide = part.pivot(on="item", index=["round_id", "elev"], values="score")
            items = [c for c in wide.columns if c not in ("round_id", "elev")]
            complete = wide.drop_nulls(items)
            if len(items) < 2 or complete.height < min_n:
                continue
            res = cronbach_alpha(complete.select(items).to_numpy())
            rows.append((scale, key[0], key[1] if by_term else None, len(items), res.n,
                         res.alpha, res.ci_low, res.ci_high))
    return pl.DataFrame(rows, schema=RELIABILITY_SCHEMA, orient="row").sort(
        "indicator", "versjon", "term", nulls_last=True
    )
