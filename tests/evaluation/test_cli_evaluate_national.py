"""``lmp evaluate national``: options checked before any work, CSV through the audited writer."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from lmp_analytics.cli import app
from lmp_analytics.evaluation.national_designs import RESULT_COLUMNS, evaluate_national
from tests.evaluation.national_world import build_world

RULE = ["--selection-years", "2016-2018", "--threshold", "7:0.12,10:0.10"]


@pytest.fixture(scope="module")
def warehouse(national_world) -> Path:
    return national_world[1]


def _invoke(*args: str):
    return CliRunner().invoke(app, ["evaluate", "national", *args])


@pytest.mark.parametrize(("args", "message"), [
    (["--design", "random"], "--design 'random' is not allowed"),
    (["--trinn", "8"], "--trinn '8' is not allowed"),
    (["--indicator", "lykke"], "--indicator 'lykke' is not allowed"),
    (["--selection-years", "2012-2010"], "--selection-years '2012-2010' is not allowed"),
    (["--threshold", "7:15,10:0.1"], "--threshold '7:15' is not allowed"),
    (["--threshold", "7:0.15"], "must give both grades"),
    (["--format", "xlsx"], "--format 'xlsx' is not allowed"),
])
def test_bad_options_are_exit_2_before_the_warehouse_is_read(tmp_path: Path, args, message
                                                             ) -> None:
    result = _invoke(*args, "-w", str(tmp_path / "absent.duckdb"))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "no warehouse" not in result.output


def test_csv_out_is_the_api_frame_and_is_audited(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "effect.csv"
    result = _invoke("--design", "never-treated", "--trinn", "7", *RULE, "--format", "csv",
                     "--out", str(out), "-w", str(warehouse))
    assert result.exit_code == 0, result.output
    written = pl.read_csv(io.BytesIO(out.read_bytes()))
    assert written.columns == RESULT_COLUMNS
    expected = evaluate_national(warehouse, designs=("never-treated",), trinn=("7",),
                                 selection_years=(2016, 2017, 2018),
                                 thresholds={7: 0.12, 10: 0.10})
    assert written["estimate_pp"][0] == pytest.approx(expected["estimate_pp"][0], abs=1e-12)
    assert written["n_lmp_schools"][0] == 16
    from lmp_analytics.warehouse.audit import log_path

    entries = [json.loads(line) for line in log_path(warehouse).read_text().splitlines()]
    assert any(e.get("action") == "evaluate national" and str(out) in e.get("outputs", [])
               for e in entries)


def test_table_shows_the_designs_and_the_naive_label(warehouse: Path) -> None:
    result = _invoke("--design", "naive", "--trinn", "pooled", *RULE, "-w", str(warehouse))
    assert result.exit_code == 0, result.output
    assert "naive" in result.output and "regression to the mean" in result.output


def test_missing_roster_is_a_clear_error(tmp_path: Path) -> None:
    world = build_world(n_schools=20, small_schools=1)
    wh = tmp_path / "wh.duckdb"
    from lmp_analytics.cli import app as lmp
    from tests.evaluation.national_world import write_statbank

    export = write_statbank(world, tmp_path / "eu.csv")
    assert CliRunner().invoke(lmp, ["ingest-national", str(export), "-w", str(wh)]).exit_code == 0
    result = _invoke("-w", str(wh))
    assert result.exit_code == 2, result.output
    assert "roster" in result.output


def test_the_table_and_its_notes_in_nynorsk(warehouse: Path, wide_console) -> None:
    """LMP_LANG=nn: the title and the designs' notes in nynorsk (the notes from the language
    files, not the English warning column)."""
    result = CliRunner().invoke(app, ["evaluate", "national", "--trinn", "7", *RULE,
                                      "-w", str(warehouse)], env={"LMP_LANG": "nn"})
    assert result.exit_code == 0, result.output
    assert "Verknaden av programmet på mobbet" in result.output
    assert "Seriesegment" in result.output and "Series segment" not in result.output
    assert "skeiv på grunn av regresjon mot gjennomsnittet" in result.output
