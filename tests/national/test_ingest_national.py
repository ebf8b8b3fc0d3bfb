"""``lmp ingest-national`` / ``validate-national``: each file on its own, quarantine, re-loads."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from lmp_analytics.jobs import ingest_national_files
from lmp_analytics.national import benchmark_changes

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "statbank150_semicolon_utf8.csv"
HEADER, FIRST = GOOD.read_text(encoding="utf-8").splitlines()[:2]


def _invoke(*args: str):
    return CliRunner().invoke(__import__("lmp_analytics.cli", fromlist=["app"]).app, list(args))


def _rows(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _export(path: Path, *rows: dict[str, str]) -> Path:
    """A statistics-bank export whose rows change cells of the first sample row."""
    header = HEADER.split(";")
    base = dict(zip(header, FIRST.split(";"), strict=True))
    lines = [";".join((base | r).values()) for r in rows]
    path.write_text("\n".join([HEADER, *lines, ""]), encoding="utf-8")
    return path


def test_good_file_loads_and_broken_file_is_rejected_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\xff\xfe\x00garbage")
    wh = tmp_path / "wh.duckdb"
    result = _invoke("ingest-national", str(broken), str(GOOD), "--warehouse", str(wh),
                     "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 2, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert [f["status"] for f in report["files"]] == ["rejected", "loaded"]
    stored = _rows(wh, "SELECT value, n_answered FROM fct_eu_result WHERE level = 'nasjon' AND "
                   "trinn = 7 AND kjonn = 'alle' AND eierform = 'alle' AND NOT preliminary")
    assert stored == [(pytest.approx(11.9), 63187)]


def test_same_file_again_is_a_no_op(tmp_path: Path) -> None:
    wh = tmp_path / "wh.duckdb"
    first = ingest_national_files([GOOD], warehouse=wh)
    assert (first.exit_code, first.count("loaded")) == (0, 1)
    count = _rows(wh, "SELECT count(*) FROM fct_eu_result")
    again = ingest_national_files([GOOD], warehouse=wh)
    assert (again.exit_code, again.count("skipped"), again.published) == (0, 1, False)
    assert _rows(wh, "SELECT count(*) FROM fct_eu_result") == count


def test_newer_export_replaces_the_same_cells_and_final_replaces_preliminary(
    tmp_path: Path
) -> None:
    wh = tmp_path / "wh.duckdb"
    pre = _export(tmp_path / "pre.csv", {"Skoleaarnavn": "Foreløpige tall 2025-26",
                                         "AndelMobbet": "12,1"})
    ingest_national_files([pre], warehouse=wh)
    final = _export(tmp_path / "final.csv", {"Skoleaarnavn": "2025-26", "AndelMobbet": "12,3"})
    ingest_national_files([final], warehouse=wh)
    sql = "SELECT value, preliminary FROM fct_eu_result WHERE school_year = '2025-26'"
    assert _rows(wh, sql) == [(pytest.approx(12.3), False)]
    # a preliminary export loaded after the final figures does not overwrite them
    late = _export(tmp_path / "late.csv", {"Skoleaarnavn": "Foreløpige tall 2025-26",
                                           "AndelMobbet": "99,0"})
    ingest_national_files([late], warehouse=wh)
    assert _rows(wh, sql) == [(pytest.approx(12.3), False)]
    # a corrected final export replaces the final cell
    fixed = _export(tmp_path / "fixed.csv", {"Skoleaarnavn": "2025-26", "AndelMobbet": "12,4"})
    ingest_national_files([fixed], warehouse=wh)
    assert _rows(wh, sql) == [(pytest.approx(12.4), False)]


def test_bad_rows_are_quarantined_with_file_row_column_value_reason(tmp_path: Path) -> None:
    wh = tmp_path / "wh.duckdb"
    path = _export(tmp_path / "mixed.csv", {},
                   {"EnhetNivaa": "3", "Kommunekode": "9999", "Trinnnavn": "10. trinn"},
                   {"AndelMobbet": "mye", "Trinnnavn": "5. trinn"})
    report = ingest_national_files([path], warehouse=wh)
    assert report.exit_code == 1
    assert (report.rows_loaded, report.rows_quarantined) == (1, 2)
    rows = _rows(wh, "SELECT source_file, row_number, column_name, value, reason "
                     "FROM eu_quarantine ORDER BY row_number")
    assert [(r[1], r[2], r[3]) for r in rows] == [(3, "Kommunekode", "9999"),
                                                  (4, "AndelMobbet", "mye")]
    assert rows[0][0].endswith("mixed.csv") and "official list" in rows[0][4]


def test_validate_national_writes_nothing(tmp_path: Path) -> None:
    wh = tmp_path / "wh.duckdb"
    result = _invoke("validate-national", str(GOOD))
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output and not wh.exists()


def test_renumbered_municipality_pairs_across_2024(tmp_path: Path) -> None:
    """Tromsø was 5401 in 2023-24 and is 5501 from 2024-25: a benchmark finds both years."""
    rows = []
    for year, code, value in (("2023-24", "5401", "10,0"), ("2024-25", "5501", "8,0")):
        rows.append({"Skoleaarnavn": year, "AndelMobbet": "11,0"})  # nation
        rows.append({"Skoleaarnavn": year, "EnhetNivaa": "3", "Kommunekode": code,
                     "AndelMobbet": value, "AntallBesvart": "812"})
    wh = tmp_path / "wh.duckdb"
    report = ingest_national_files([_export(tmp_path / "tromso.csv", *rows)], warehouse=wh)
    assert report.exit_code == 0
    assert any("5401" in w for o in report.outcomes for w in o.warnings)
    con = duckdb.connect(str(wh), read_only=True)
    results = con.sql("SELECT * FROM fct_eu_result").pl()
    con.close()
    change = benchmark_changes(results, "2023H", "2024H").row(0, named=True)
    assert (change["unit_code"], change["unit_pre"], change["unit_post"]) == (
        "5501", pytest.approx(10.0), pytest.approx(8.0))


def test_unknown_column_of_the_package_layout_is_a_warning_in_the_report(tmp_path: Path) -> None:
    path = FIXTURES / "statistikkbank_utf8_bom.csv"  # has an extra 'Eierform' column
    report = ingest_national_files([path], dry_run=True)
    assert report.outcomes[0].status == "valid"
    assert any("Eierform" in w for w in report.outcomes[0].warnings)
