"""1–5 indices of Elevundersøkelsen (Trivsel…) in the national panel: loaded from a statistics
bank export with a ``Score`` column, read as published school means, pooled over grades as
``AntallBesvart``-weighted means (checked against a direct computation), evaluated by the DiD
designs (checked against the wrapper on the hand-built frame) with the eligible design still
selecting on the bullying share, and reachable from ``lmp evaluate national --indicator``."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from lmp_analytics.evaluation.national_designs import eligible_schools, national_evaluation
from lmp_analytics.evaluation.national_panel import (
    INDICATORS,
    pooled_panel,
    school_panel,
)
from lmp_analytics.stats.did import staggered_did
from tests.evaluation.national_world import HEADER, SCHOOL_ROW

RULE = {"selection_years": (2016, 2017, 2018), "thresholds": {7: 0.12, 10: 0.10}}


def _scores(world) -> pl.DataFrame:
    """A Trivsel score per published cell: high where bullying is low, one decimal."""
    return world.cells.with_columns(
        pl.when(pl.col("share").is_not_null())
        .then((4.6 - 5.0 * pl.col("share")).round(1)).alias("score"))


def _write_trivsel(scores: pl.DataFrame, path: Path) -> Path:
    header = HEADER.split(";")
    header[header.index("AndelMobbet")] = "Score"
    base = dict(zip(header, SCHOOL_ROW.split(";"), strict=True))
    base |= {"Spoersmaalgruppekode": "EUIndeks_1379", "Spoersmaalgruppe": "Trivsel",
             "Spoersmaalkode": "EUIndeks_1379", "Spoersmaalnavn": "Trivsel"}
    lines = [";".join(header)]
    for org, year, trinn, _share, n, score in scores.iter_rows():
        row = base | {
            "Skoleaarnavn": f"{year}-{(year + 1) % 100:02d}", "Organisasjonsnummer": org,
            "EnhetNavn": f"Skole {org[-4:]}", "TrinnKode": str(trinn),
            "Trinnnavn": f"{trinn}. trinn",
            "Score": "*" if score is None else f"{score:.1f}".replace(".", ","),
            "AntallBesvart": str(n),
        }
        lines.append(";".join(row[c] for c in header))
    path.write_text("\n".join([*lines, ""]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trivsel_world(national_world, tmp_path_factory):
    """The hand-built national world with a Trivsel export loaded beside the bullying one (in a
    copy of the shared warehouse)."""
    from lmp_analytics.jobs import ingest_national

    world, wh = national_world
    directory = tmp_path_factory.mktemp("trivsel")
    copy = directory / "wh.duckdb"
    copy.write_bytes(Path(wh).read_bytes())
    scores = _scores(world)
    ingest_national([_write_trivsel(scores, directory / "trivsel.csv")], warehouse=copy)
    return world, scores, copy


def test_indices_are_named_indicators() -> None:
    assert INDICATORS["trivsel"] == "EU_TRIVSEL"
    assert INDICATORS["stotte_larer"] == "EU_STOTTE_LARER"


def test_index_panel_holds_the_published_mean_scores(trivsel_world) -> None:
    _, scores, wh = trivsel_world
    panel = school_panel(wh, "trivsel")
    both = panel.join(scores, on=["skole_orgnr", "survey_year", "trinn"], validate="1:1")
    assert both.height == scores.height
    assert (both["share"].is_null() == both["score"].is_null()).all()
    assert (both["share"] - both["score"]).abs().max() < 1e-9  # the score, not score / 100
    assert both["share"].min() > 3.0


def test_pooled_index_is_the_weighted_school_mean(trivsel_world) -> None:
    _, scores, wh = trivsel_world
    pooled = pooled_panel(school_panel(wh, "trivsel"))
    direct: dict[tuple[str, int], list[tuple[float, int]]] = {}
    for org, year, _trinn, _share, n, score in scores.iter_rows():
        if score is not None:
            direct.setdefault((org, year), []).append((score, n))
    checked = 0
    for org, year, share in pooled.select("skole_orgnr", "survey_year", "share").iter_rows():
        cells = direct.get((org, year))
        if cells is None:
            assert share is None
            continue
        expected = sum(v * n for v, n in cells) / sum(n for _, n in cells)
        assert share == pytest.approx(expected, abs=1e-12)
        checked += 1
    assert checked > 400


def test_index_designs_match_the_wrapper_and_select_on_bullying(trivsel_world) -> None:
    world, scores, wh = trivsel_world
    result = national_evaluation(wh, "trivsel", designs=("never-treated", "eligible"),
                                 trinn=("7",), **RULE)
    hand = (
        scores.filter((pl.col("trinn") == 7) & pl.col("score").is_not_null())
        .join(world.lmp.select("skole_orgnr", "g"), on="skole_orgnr", how="left")
        .select("skole_orgnr", pl.col("survey_year").alias("t"), "g", pl.col("score").alias("y"),
                pl.col("n_answered").cast(pl.Float64).mean().over("skole_orgnr").alias("w"))
    )
    ref = staggered_did(hand, y="y", weight="w", control_group="never_treated")
    row = result.results.filter(pl.col("design") == "never-treated").row(0, named=True)
    assert row["estimate_pp"] == pytest.approx(ref.simple.att, abs=1e-12)
    assert "index in scale points" in row["warning"]
    # the eligible controls are chosen on the bullying share (the programme's rule), not on
    # Trivsel: the same schools as for the bullying indicator
    bullying = set(eligible_schools(school_panel(wh), years=RULE["selection_years"],
                                    thresholds=RULE["thresholds"])) - set(world.lmp["skole_orgnr"])
    eligible = result.results.filter(pl.col("design") == "eligible").row(0, named=True)
    assert eligible["n_comparison_schools"] == len(bullying) > 0


def test_cli_evaluates_an_index(trivsel_world) -> None:
    from lmp_analytics.cli import app

    _, _, wh = trivsel_world
    out = CliRunner().invoke(app, ["evaluate", "national", "--indicator", "trivsel",
                                   "--design", "naive", "--trinn", "pooled", "--selection-years",
                                   "2016-2018", "--threshold", "7:0.12,10:0.10",
                                   "--format", "csv", "-w", str(wh)])
    assert out.exit_code == 0, out.output
    frame = pl.read_csv(out.stdout.encode())
    assert frame["design"].to_list() == ["naive"]
    assert frame["estimate_pp"].null_count() == 0
