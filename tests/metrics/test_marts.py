"""Marts: counts equal a direct count from the raw files, and each level sums from the one below."""

from __future__ import annotations

import polars as pl
import pytest

from lmp_analytics.codebook import load_codebook, normalise_label
from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.warehouse import reading


def _raw_sample() -> pl.DataFrame:
    frames = []
    for name, sep, enc in (("spekter_2024H.csv", ";", "cp1252"),
                           ("spekter_2025V.csv", ",", "utf8-lossy")):
        path = SAMPLE_DIR / name
        if enc == "cp1252":
            text = path.read_bytes().decode("cp1252").encode("utf-8")
            frames.append(pl.read_csv(text, separator=sep, infer_schema=False))
        else:
            frames.append(pl.read_csv(path, separator=sep, infer_schema=False,
                                      encoding="utf8-lossy"))
    return pl.concat(frames, how="diagonal")


def test_school_counts_equal_a_direct_count_from_the_raw_files(sample_warehouse):
    book = load_codebook("spekter-2022-forebyggende")
    labels = {normalise_label(lab.nb): lab.code for lab in book.scales["hyppighet"].labels}
    raw = _raw_sample().with_columns(
        pl.col("dato").str.slice(-4).alias("year"),
        pl.col("mobbet").map_elements(lambda s: labels[normalise_label(s)],
                                      return_dtype=pl.Int64).alias("code"),
    )
    # 2024-09-24 is autumn 2024, 28.01.2025 spring 2025.
    raw = raw.with_columns(
        pl.when(pl.col("dato").str.contains("2024")).then(pl.lit("2024H"))
        .otherwise(pl.lit("2025V")).alias("term")
    )
    expected = (
        raw.filter(pl.col("code").is_not_null())
        .group_by("skole_orgnr", "term")
        .agg(pl.len().alias("n"), (pl.col("code") >= 3).sum().alias("count"))
        .sort("skole_orgnr", "term")
    )
    with reading(sample_warehouse) as con:
        got = con.sql(
            "SELECT skole_orgnr, term, n, CAST(count AS BIGINT) AS count "
            "FROM mart_indicator_counts WHERE level = 'skole' AND indicator = 'mobbet' "
            "AND breakdown = 'alle' ORDER BY skole_orgnr, term"
        ).pl()
    assert got.select("skole_orgnr", "term", "n", "count").to_dicts() == expected.with_columns(
        pl.col("n").cast(pl.Int64), pl.col("count").cast(pl.Int64)
    ).to_dicts()


@pytest.mark.parametrize(
    ("upper", "lower", "keys"),
    [
        ("skole", "gruppe", ["round_id"]),
        ("kommune", "skole", ["kommunenummer", "rolle", "term"]),
        ("pulje", "skole", ["pulje", "rolle", "term"]),
        ("program", "skole", ["rolle", "term"]),
    ],
)
def test_every_level_is_the_sum_of_the_level_below(sample_warehouse, upper, lower, keys):
    with reading(sample_warehouse) as con:
        marts = con.sql("SELECT * FROM mart_indicator_counts").pl()
        primary = con.sql("SELECT round_id FROM mart_school_round WHERE is_primary").pl()
    below = marts.filter(pl.col("level") == lower)
    if lower == "skole":
        below = below.join(primary, on="round_id", how="semi")
        if upper == "pulje":
            below = below.filter(pl.col("pulje").is_not_null())
    group = [*keys, "indicator", "breakdown", "breakdown_value"]
    measures = ["n", "count", "sum", "sumsq", "top_count"]
    summed = below.group_by(group).agg(pl.col(m).sum() for m in measures).sort(group)
    above = marts.filter(pl.col("level") == upper).select(*group, *measures).sort(group)
    assert above.height > 0
    assert summed.height == above.height
    for m in measures:
        assert summed[m].fill_null(0).to_list() == pytest.approx(above[m].fill_null(0).to_list())


def test_breakdowns_partition_the_total(sample_warehouse):
    with reading(sample_warehouse) as con:
        m = con.sql("SELECT * FROM mart_indicator_counts WHERE level = 'skole'").pl()
    keys = ["round_id", "indicator"]
    total = m.filter(pl.col("breakdown") == "alle").select(*keys, "n").sort(keys)
    for by in ("trinn", "kjonn"):
        parts = m.filter(pl.col("breakdown") == by).group_by(keys).agg(pl.col("n").sum())
        assert parts.sort(keys).to_dicts() == total.to_dicts()


def test_module_not_chosen_is_not_measured_rather_than_zero(sample_warehouse):
    # The sample never asks mobbet_voksen: no rows at all, so no share of 0.
    with reading(sample_warehouse) as con:
        rows = con.sql(
            "SELECT count(*) FROM mart_indicator_counts WHERE indicator = 'mobbet_voksen'"
        ).fetchall()
        asked = con.sql(
            "SELECT count(*) FROM mart_indicator_counts WHERE indicator = 'mobbet_digitalt'"
        ).fetchall()
    assert rows[0][0] == 0
    assert asked[0][0] > 0
