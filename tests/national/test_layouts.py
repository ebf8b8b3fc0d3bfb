"""Udir's published layouts, read from hand-written samples (tests/national/fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from lmp_analytics.errors import FileRejected
from lmp_analytics.national import read_eu_export_with_problems
from lmp_analytics.national.reader import parse_trinn

FIXTURES = Path(__file__).parent / "fixtures"
STATBANK_150 = ["statbank150_semicolon_utf8.csv", "statbank150_semicolon_cp1252.csv",
                "statbank150_comma_utf8bom.csv", "statbank150.xlsx"]
ROSTER = pl.DataFrame({
    "skole": ["Sjøbakken skole", "Lindås skole", "Bjørkelia skole", "Sjøbakken  Skole"],
    "skole_orgnr": ["964338531", "964338655", "974590123", "974590247"],
    "kommunenummer": ["4601", "4601", "0301", "0301"],
})


def _one(frame: pl.DataFrame, **where: object) -> dict:
    rows = frame.filter(*[pl.col(k).eq_missing(v) for k, v in where.items()])
    assert rows.height == 1, rows
    return rows.row(0, named=True)


@pytest.mark.parametrize("name", STATBANK_150)
def test_statistics_bank_export_loads_published_numbers(name: str) -> None:
    export = read_eu_export_with_problems(FIXTURES / name)
    assert export.layout == "statistikkbank"
    assert export.problems.height == 0, export.problems.to_dicts()
    res = export.results
    nation = _one(res, level="nasjon", trinn=7, kjonn="alle", eierform="alle", preliminary=False)
    assert nation["value"] == pytest.approx(11.9) and nation["n_answered"] == 63187
    assert nation["indicator_code"] == "EU_MOBBING" and nation["value_type"] == "pct"
    assert nation["school_year"] == "2024-25" and nation["term"] == "2024H"
    girls = _one(res, level="nasjon", kjonn="jenter")
    assert (girls["value"], girls["n_answered"]) == (pytest.approx(12.4), 31020)
    private = _one(res, level="nasjon", eierform="privat")
    assert (private["value"], private["n_answered"]) == (pytest.approx(9.8), 2731)
    county = _one(res, level="fylke")
    assert (county["unit_code"], county["n_answered"]) == ("46", 6210)
    school = _one(res, level="skole")
    assert (school["unit_code"], school["value"], school["n_answered"]) == (
        "974590123", pytest.approx(8.2), 61)


@pytest.mark.parametrize("name", STATBANK_150)
def test_suppressed_stays_suppressed_and_no_data_is_skipped(name: str) -> None:
    export = read_eu_export_with_problems(FIXTURES / name)
    tromso = _one(export.results, level="kommune", unit_code="5501")
    assert tromso["suppressed"] and tromso["value"] is None and tromso["n_answered"] is None
    assert export.results.filter(pl.col("unit_code") == "974590247").height == 0  # '.'
    assert export.rows_without_data == 1


def test_preliminary_figures_are_flagged() -> None:
    export = read_eu_export_with_problems(FIXTURES / STATBANK_150[0])
    pre = _one(export.results, preliminary=True)
    assert (pre["school_year"], pre["value"], pre["n_answered"]) == (
        "2025-26", pytest.approx(12.1), 62050)


def test_single_question_keeps_its_udir_code_and_svalbard_is_accepted() -> None:
    export = read_eu_export_with_problems(FIXTURES / STATBANK_150[0])
    question = _one(export.results, indicator_code="EUSpoersmaal_Q11811")
    assert question["unit_code"] == "2100" and question["suppressed"]
    assert question["indicator"].startswith("Har du blitt mobbet av andre elever")


def test_json_videregaende_index_export() -> None:
    export = read_eu_export_with_problems(FIXTURES / "statbank152_vgs.json")
    assert (export.layout, export.file_format) == ("statistikkbank", "json")
    assert export.problems.height == 0, export.problems.to_dicts()
    res = export.results
    nation = _one(res, level="nasjon")
    assert (nation["indicator_code"], nation["value_type"], nation["value"], nation["trinn"],
            nation["n_answered"]) == ("EU_TRIVSEL", "score_1_5", pytest.approx(4.2), 11, 52310)
    school = _one(res, level="skole")
    assert school["unit_code"] == "974557584" and school["suppressed"]
    assert school["eierform"] == "offentlig"


def test_skoleporten_download_matches_schools_by_name() -> None:
    export = read_eu_export_with_problems(FIXTURES / "skoleporten_nedlasting.csv", ROSTER)
    assert export.layout == "skoleporten"
    res = export.results
    assert _one(res, level="nasjon")["value"] == pytest.approx(11.9)
    assert _one(res, level="kommune")["unit_code"] == "4601"
    bully = _one(res, level="skole", indicator_code="EU_MOBBING")
    assert (bully["unit_code"], bully["value"], bully["school_year"], bully["trinn"]) == (
        "964338531", pytest.approx(9.4), "2023-24", 7)
    wellbeing = _one(res, level="skole", indicator_code="EU_TRIVSEL")
    assert wellbeing["value_type"] == "score_1_5" and wellbeing["kjonn"] == "jenter"
    problems = export.problems.to_dicts()
    assert len(problems) == 1 and problems[0]["row"] == 7
    assert problems[0]["value"] == "Ukjent skole" and "no school in the roster" in \
        problems[0]["reason"]


def test_skoleporten_ambiguous_name_lists_the_candidates(tmp_path: Path) -> None:
    path = tmp_path / "nedlasting.csv"
    path.write_text(
        "Enhetsnavn;Skoletype;Vurderingsområde;Statistikk;Indikator/delskår;Periode;Eierform;"
        "Trinn;Kjønn;Verdi;Måleenhet\r\nSjøbakken skole;Grunnskole;Læringsmiljø;"
        "Elevundersøkelsen;Mobbing på skolen;2023-2024;Offentlig;Trinn 7;Begge kjønn;9,4;"
        "prosent\r\n",
        encoding="cp1252")
    export = read_eu_export_with_problems(path, ROSTER)
    reason = export.problems.row(0, named=True)["reason"]
    assert "964338531" in reason and "974590247" in reason
    no_roster = read_eu_export_with_problems(path)
    assert "give the roster" in no_roster.problems.row(0, named=True)["reason"]


def _statbank(tmp_path: Path, **changes: str) -> Path:
    lines = (FIXTURES / STATBANK_150[0]).read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    row = dict(zip(header, lines[1].split(";"), strict=True)) | changes
    path = tmp_path / "export.csv"
    path.write_text(";".join(header) + "\n" + ";".join(row.values()) + "\n", encoding="utf-8")
    return path


def test_registry_checks_in_national_files(tmp_path: Path) -> None:
    retired = read_eu_export_with_problems(_statbank(
        tmp_path, EnhetNivaa="3", Kommunekode="5401", Skoleaarnavn="2023-24"))
    row = retired.results.row(0, named=True)
    assert row["unit_code"] == "5501"  # Tromsø 2023 pairs with Tromsø 2024
    assert any("5401" in w and "5501" in w for w in retired.warnings)
    unknown = read_eu_export_with_problems(_statbank(tmp_path, EnhetNivaa="3", Kommunekode="9999"))
    assert unknown.results.height == 0
    assert unknown.problems.row(0, named=True)["value"] == "9999"
    bad = read_eu_export_with_problems(_statbank(
        tmp_path, EnhetNivaa="4", Organisasjonsnummer="974590124"))
    assert "check digit" in bad.problems.row(0, named=True)["reason"]


def test_share_and_mean_index_are_never_mixed(tmp_path: Path) -> None:
    path = _statbank(tmp_path, Spoersmaalkode="EUIndeks_1379", Spoersmaalgruppekode="EUIndeks_1379")
    export = read_eu_export_with_problems(path)  # Trivsel given in the AndelMobbet column
    assert export.results.height == 0
    assert "never mixed" in export.problems.row(0, named=True)["reason"]


def test_unknown_layout_is_rejected_naming_the_layouts(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps([{"a": 1}]), encoding="utf-8")
    with pytest.raises(FileRejected, match="Skoleporten"):
        read_eu_export_with_problems(path)


@pytest.mark.parametrize(("text", "grade"), [("7. trinn", 7), ("Trinn 7", 7), ("7. årstrinn", 7),
                                             ("Vg1", 11), ("10", 10), ("Alle trinn", None)])
def test_grade_spellings(text: str, grade: int | None) -> None:
    assert parse_trinn(text) == grade


def test_four_digit_period() -> None:
    export = read_eu_export_with_problems(FIXTURES / "skoleporten_nedlasting.csv", ROSTER)
    assert set(export.results["school_year"]) == {"2023-24"}
