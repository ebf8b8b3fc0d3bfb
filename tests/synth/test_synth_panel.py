"""Pupils are followed across rounds: same id, one trinn up each autumn, classes persist."""

from __future__ import annotations

import polars as pl
import pytest

from lmp_analytics.terms import term_index


@pytest.fixture(scope="module")
def panel(demo) -> pl.DataFrame:
    frames = []
    for record in demo.truth["files"]:
        if record["kind"] != "regular":
            continue
        df = demo.exports[record["file"]].frame
        frames.append(
            df.select("skole_orgnr", "elev_id", "gruppe", pl.col("trinn").cast(int)).with_columns(
                term=pl.lit(record["term"]), t=pl.lit(term_index(record["term"]))
            )
        )
    return pl.concat(frames)


def test_a_pupil_belongs_to_one_school(panel) -> None:
    schools = panel.group_by("elev_id").agg(pl.col("skole_orgnr").n_unique())
    assert schools["skole_orgnr"].max() == 1


def test_pupils_move_up_one_trinn_each_autumn_and_keep_their_class(panel) -> None:
    steps = (
        panel.sort("elev_id", "t")
        .with_columns(
            prev_t=pl.col("t").shift(1).over("elev_id"),
            prev_trinn=pl.col("trinn").shift(1).over("elev_id"),
            prev_gruppe=pl.col("gruppe").shift(1).over("elev_id"),
        )
        .drop_nulls("prev_t")
    )
    # Autumn terms have odd index (2024H -> 4049): autumns crossed in (prev_t, t].
    autumns = (pl.col("t") + 1) // 2 - (pl.col("prev_t") + 1) // 2
    wrong = steps.filter(pl.col("trinn") - pl.col("prev_trinn") != autumns)
    assert wrong.height == 0
    letter = pl.col("gruppe").str.slice(-1)
    assert steps.filter(letter != pl.col("prev_gruppe").str.slice(-1)).height == 0
    assert steps.height > 0.6 * panel.height


def test_linkage_between_consecutive_rounds(panel) -> None:
    rounds = panel.select("skole_orgnr", "t").unique()
    within, across = [], []
    for orgnr, t in rounds.iter_rows():
        now = panel.filter((pl.col("skole_orgnr") == orgnr) & (pl.col("t") == t))
        before = panel.filter((pl.col("skole_orgnr") == orgnr) & (pl.col("t") == t - 1))
        if before.height == 0:
            continue
        # Pupils who could have answered both rounds: not the newly arrived lowest trinn.
        stayers = now.filter(pl.col("trinn") > now["trinn"].min()) if t % 2 else now
        share = stayers["elev_id"].is_in(before["elev_id"].implode()).mean()
        (across if t % 2 else within).append(share)
    assert 0.75 < sum(within) / len(within) < 0.95  # 0.9 response x 0.97 staying
    assert 0.5 < sum(across) / len(across) < 0.95


def test_top_trinn_leaves_and_a_new_trinn_arrives(panel) -> None:
    last_seen = panel.group_by("elev_id").agg(pl.col("t").max(), pl.col("trinn").max())
    top = panel.group_by("skole_orgnr").agg(pl.col("trinn").max().alias("top"))
    first_seen = panel.group_by("elev_id", "skole_orgnr").agg(pl.col("t").min().alias("first"))
    seen = last_seen.join(first_seen, on="elev_id").join(top, on="skole_orgnr")
    # Nobody is seen in their school's top trinn and again later than the next spring.
    assert seen.filter(pl.col("trinn") > pl.col("top")).height == 0
    newcomers = seen.filter(pl.col("first") > panel["t"].min())
    assert newcomers.height > 0.3 * seen.height
