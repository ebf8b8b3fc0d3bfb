"""The national panel as the dashboards show it: fitted once per warehouse file, and a
municipality's view that names only its own LMP schools (attack test)."""

from __future__ import annotations

import os

import polars as pl
import pytest
from typer.testing import CliRunner

from lmp_analytics.evaluation.national_designs import eligible_schools
from lmp_analytics.evaluation.national_panel import pooled_panel, school_panel
from lmp_analytics.evaluation.national_view import kommune_view, programme_view
from tests.evaluation.national_world import ROSTER_HEADER, build_world, write_statbank
from tests.spekter_factory import TEST_KEY

RULE = {"selection_years": (2016, 2017, 2018), "thresholds": {7: 0.12, 10: 0.10}}


@pytest.fixture(scope="module")
def two_kommuner(tmp_path_factory):
    """The hand-built world with its LMP schools split between Oslo (0301) and Bergen (4601)."""
    from lmp_analytics.cli import app

    world = build_world(seed=9)
    d = tmp_path_factory.mktemp("two_kommuner")
    wh = d / "wh.duckdb"
    runner = CliRunner()
    out = runner.invoke(app, ["ingest-national", str(write_statbank(world, d / "eu.csv")),
                              "-w", str(wh)])
    assert out.exit_code == 0, out.output
    lines = [ROSTER_HEADER]
    for i, (org, pulje, start, _) in enumerate(world.lmp.iter_rows()):
        kommune = "0301;Oslo" if i % 2 == 0 else "4601;Bergen"
        lines.append(f"{kommune};{org};LMP-skole {org};deltaker;{pulje};{start}")
    (d / "program.csv").write_text("\n".join([*lines, ""]), encoding="utf-8")
    (d / "none").mkdir()
    key = d / "key"
    key.write_text(TEST_KEY, encoding="utf-8")
    key.chmod(0o600)
    out = runner.invoke(app, ["ingest", str(d / "none"), "--roster", str(d / "program.csv"),
                              "-w", str(wh), "--key-file", str(key)])
    assert out.exit_code == 0, out.output
    return world, wh


def test_a_municipality_sees_no_other_school_by_name_or_number(two_kommuner) -> None:
    world, wh = two_kommuner
    view = kommune_view(wh, "4601", **RULE)
    own = {org for i, org in enumerate(world.lmp["skole_orgnr"]) if i % 2 == 1}
    others = set(world.cells["skole_orgnr"]) - own
    assert set(view.filter(pl.col("group") == "own_lmp")["skole"]) == {f"LMP-skole {o}"
                                                                       for o in own}
    text = view.write_csv()
    # attack: every other school's organisation number and name (Oslo's LMP schools, the
    # eligible and all other schools) is searched for in the whole output
    leaked = [o for o in others if o in text or f"LMP-skole {o}" in text or f"Skole {o[-4:]}"
              in text]
    assert leaked == []
    assert view.filter(pl.col("group") == "eligible")["skole"].null_count() == view.filter(
        pl.col("group") == "eligible").height > 0


def test_municipality_view_uses_only_published_cells(two_kommuner) -> None:
    world, wh = two_kommuner
    view = kommune_view(wh, "4601", **RULE)
    panel = school_panel(wh)
    pooled = pooled_panel(panel).filter(pl.col("share").is_not_null())
    chosen = set(eligible_schools(panel, years=RULE["selection_years"],
                                  thresholds=RULE["thresholds"])) - set(world.lmp["skole_orgnr"])
    year = 2020
    cells = [(s, n) for o, y, s, n in pooled.select("skole_orgnr", "survey_year", "share",
                                                     "n_answered").iter_rows()
             if o in chosen and y == year]
    row = view.filter((pl.col("group") == "eligible") & (pl.col("survey_year") == year))
    assert row["schools"].item() == len(cells) > 0
    assert row["share"].item() == pytest.approx(sum(s * n for s, n in cells)
                                                / sum(n for _, n in cells), abs=1e-12)
    assert view["share"].null_count() == 0  # suppressed cells are left out, never filled


def test_programme_view_is_fitted_once_per_warehouse_file(two_kommuner, tmp_path) -> None:
    _, wh = two_kommuner
    copy = tmp_path / "wh.duckdb"
    copy.write_bytes(wh.read_bytes())
    first = programme_view(copy)
    assert programme_view(copy) is first  # a second page call reuses the fit
    st = copy.stat()
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a re-publish
    again = programme_view(copy)
    assert again is not first
    from polars.testing import assert_frame_equal
    assert_frame_equal(again.results, first.results)
