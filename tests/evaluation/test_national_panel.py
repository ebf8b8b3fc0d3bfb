"""The national school panel and the roster's treatment years, read from a real warehouse that
was loaded through ``lmp ingest-national`` with a hand-written statistics-bank export."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from lmp_analytics.errors import LmpError
from lmp_analytics.evaluation.national_panel import (
    first_treated_survey_year,
    lmp_treatment,
    panel_means,
    pooled_panel,
    school_panel,
)
from tests.evaluation.national_world import build_world, load_world


@pytest.fixture(scope="module")
def loaded(national_world):
    return national_world


def test_panel_holds_every_published_cell_and_suppressed_cells_stay_missing(loaded) -> None:
    world, wh = loaded
    panel = school_panel(wh)
    assert panel.height == world.cells.height
    joined = panel.join(world.cells, on=["skole_orgnr", "survey_year", "trinn"],
                        suffix="_hand")
    assert joined.height == world.cells.height
    # a suppressed cell ('*') is null, never 0 and never imputed
    assert joined.filter(pl.col("share_hand").is_null())["share"].null_count() == \
        world.cells["share"].null_count() > 0
    assert (joined["share"] - joined["share_hand"]).abs().max() < 1e-12
    assert panel.filter(pl.col("share").is_null())["suppressed"].all()
    assert set(panel["segment"]) == {"2016+"}


def test_weighted_means_match_a_direct_computation(loaded) -> None:
    world, wh = loaded
    means = panel_means(school_panel(wh))
    direct = (
        world.cells.drop_nulls("share")
        .group_by("survey_year", "trinn")
        .agg(((pl.col("share") * pl.col("n_answered")).sum() / pl.col("n_answered").sum())
             .alias("direct"))
    )
    both = means.join(direct, on=["survey_year", "trinn"])
    assert both.height == means.height == 16
    assert (both["share"] - both["direct"]).abs().max() < 1e-12
    # the unweighted mean differs: the weight is really used
    unweighted = world.cells.drop_nulls("share").group_by("survey_year", "trinn").agg(
        pl.col("share").mean().alias("plain"))
    assert (both.join(unweighted, on=["survey_year", "trinn"])
            .select((pl.col("share") - pl.col("plain")).abs().max()).item()) > 1e-5


def test_pooled_panel_weights_grades_by_respondents(loaded) -> None:
    world, wh = loaded
    pooled = pooled_panel(school_panel(wh))
    org = world.cells["skole_orgnr"][0]
    cells = world.cells.filter((pl.col("skole_orgnr") == org) & (pl.col("survey_year") == 2017))
    expected = (cells["share"] * cells["n_answered"]).sum() / cells["n_answered"].sum()
    got = pooled.filter((pl.col("skole_orgnr") == org) & (pl.col("survey_year") == 2017))
    assert got["share"].item() == pytest.approx(expected, abs=1e-12)
    # a school whose cells are all suppressed stays missing when pooled
    small = world.cells.filter(pl.col("share").is_null())["skole_orgnr"].unique()
    assert pooled.filter(pl.col("skole_orgnr").is_in(small.implode()))["share"].null_count() > 0


def test_series_breaks_split_the_panel_unless_bridged(tmp_path: Path) -> None:
    world = build_world(years=range(2014, 2018), n_schools=20, small_schools=1)
    wh = load_world(world, tmp_path)
    panel = school_panel(wh)
    assert dict(panel.group_by("segment").agg(pl.col("survey_year").min()).iter_rows()) == {
        "2013_2015": 2014, "2016+": 2016}
    assert set(school_panel(wh, bridge_breaks=True)["segment"]) == {"bridged"}


def test_first_treated_survey_year_convention() -> None:
    assert first_treated_survey_year("2015V") == 2015  # pulje 2, Feb 2015 -> autumn 2015
    assert first_treated_survey_year("2018H") == 2018  # phase 1 in August, survey in November
    assert first_treated_survey_year("2013V") == 2013
    assert first_treated_survey_year("2011H") == 2012  # spring surveys before 2013
    assert first_treated_survey_year("2011V") == 2011


def test_treatment_comes_from_the_roster_in_the_warehouse(loaded) -> None:
    world, wh = loaded
    treat = lmp_treatment(wh)
    expected = world.lmp.select("skole_orgnr", "pulje", pl.col("g").alias("first_treated_year"))
    assert treat.select(expected.columns).sort("skole_orgnr").equals(
        expected.sort("skole_orgnr"))


def test_unknown_indicator_and_empty_warehouse_are_clear_errors(loaded, tmp_path: Path) -> None:
    _, wh = loaded
    with pytest.raises(LmpError, match="unknown national indicator 'lykke'"):
        school_panel(wh, "lykke")
    # a known 1-5 index whose school results were not loaded
    with pytest.raises(LmpError, match="no school-level Elevundersøkelsen results of EU_TRIVSEL"):
        school_panel(wh, "trivsel")
    from lmp_analytics.warehouse.publish import write_session

    empty = tmp_path / "empty.duckdb"
    with write_session(empty):
        pass
    with pytest.raises(LmpError, match="ingest-national"):
        school_panel(empty)
