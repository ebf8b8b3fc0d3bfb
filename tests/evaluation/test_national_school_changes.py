"""Closed and merged schools in the national panel: a closed school leaves the panel, a merged
school's series ends and its successor's is split at the merger unless bridged."""

from __future__ import annotations

import polars as pl
import pytest

from lmp_analytics.errors import LmpError
from lmp_analytics.evaluation.national_designs import national_evaluation
from lmp_analytics.evaluation.national_panel import apply_school_changes, school_panel
from lmp_analytics.stats.did import staggered_did

RULE = {"selection_years": (2016, 2017, 2018), "thresholds": {7: 0.12, 10: 0.10}}


def _controls(world, panel: pl.DataFrame) -> list[str]:
    lmp = set(world.lmp["skole_orgnr"])
    return sorted(o for o in panel["skole_orgnr"].unique() if o not in lmp)


def _changes(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"skole_orgnr": pl.Utf8, "event": pl.Utf8,
                                      "survey_year": pl.Int64, "successor_orgnr": pl.Utf8},
                        orient="row")


def test_closed_leaves_merged_ends_and_successor_is_split(national_world) -> None:
    world, wh = national_world
    panel = school_panel(wh)
    closed, merged, successor = _controls(world, panel)[:3]
    changes = _changes([(closed, "nedlagt", 2020, None),
                        (merged, "sammenslatt", 2021, successor)])
    out = apply_school_changes(panel, changes)
    assert out.filter(pl.col("skole_orgnr") == closed)["survey_year"].max() == 2019
    assert out.filter(pl.col("skole_orgnr") == merged)["survey_year"].max() == 2020
    assert out.filter(pl.col("skole_orgnr") == successor)["survey_year"].max() == 2020
    split = out.filter(pl.col("skole_orgnr") == f"{successor}@2021")
    assert split["survey_year"].min() == 2021 and split.height == panel.filter(
        (pl.col("skole_orgnr") == successor) & (pl.col("survey_year") >= 2021)).height
    others = panel.filter(~pl.col("skole_orgnr").is_in([closed, merged, successor]))
    assert out.filter(~pl.col("skole_orgnr").str.starts_with(closed)
                      & ~pl.col("skole_orgnr").str.starts_with(merged)
                      & ~pl.col("skole_orgnr").str.starts_with(successor)).equals(others)
    bridged = apply_school_changes(panel, changes, bridge_mergers=True)
    assert bridged.filter(pl.col("skole_orgnr") == successor).height == panel.filter(
        pl.col("skole_orgnr") == successor).height
    with pytest.raises(LmpError, match="without a successor"):
        apply_school_changes(panel, _changes([(merged, "sammenslatt", 2021, None)]))


def test_evaluation_applies_the_rule(national_world) -> None:
    world, wh = national_world
    panel = school_panel(wh)
    closed, merged, successor = _controls(world, panel)[:3]
    lmp_school = world.lmp["skole_orgnr"][0]
    changes = _changes([(closed, "nedlagt", 2020, None),
                        (merged, "sammenslatt", 2021, successor),
                        (_controls(world, panel)[3], "sammenslatt", 2022, lmp_school)])
    result = national_evaluation(wh, designs=("never-treated",), trinn=("7",),
                                 school_changes=changes, **RULE)
    row = result.results.row(0, named=True)
    # the hand-made frame with the same rule applied
    changed = apply_school_changes(panel, changes).filter(
        (pl.col("trinn") == 7) & pl.col("share").is_not_null()
        & (pl.col("skole_orgnr") != f"{lmp_school}@2022"))
    hand = changed.join(world.lmp.select("skole_orgnr", "g"), on="skole_orgnr", how="left").select(
        "skole_orgnr", pl.col("survey_year").alias("t"), "g", pl.col("share").alias("y"),
        pl.col("n_answered").cast(pl.Float64).mean().over("skole_orgnr").alias("w"))
    ref = staggered_did(hand, y="y", weight="w", control_group="never_treated")
    assert row["estimate_pp"] == pytest.approx(ref.simple.att, abs=1e-12)
    assert "1 LMP school series after a merger left out" in row["warning"]
    plain = national_evaluation(wh, designs=("never-treated",), trinn=("7",), **RULE).results
    # one control unit more: the successor's series after the merger is a school of its own
    # (the closed and the merged control keep their earlier years; the LMP school's part after
    # its merger is left out, not a control)
    assert row["n_comparison_schools"] == plain["n_comparison_schools"][0] + 1
