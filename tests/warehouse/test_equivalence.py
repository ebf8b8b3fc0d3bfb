"""The same export as CSV (``;``/cp1252/CRLF), CSV (``,``/UTF-8 with BOM), XLSX (numbers as numbers,
a real Excel date) and Parquet gives identical warehouse contents."""

from __future__ import annotations

from pathlib import Path

import pytest
import spekter_factory as sf

from lmp_analytics.pipeline import ingest_files

# Tables compared in full; fct_response and quarantine without file_id / source_file (the
# file's name differs between formats, nothing else may).
FULL = ("fct_answer", "fct_nomination", "dim_round", "dim_school", "dim_phase", "fct_enrolment")


def _rows() -> list[dict[str, str]]:
    rows = sf.make_rows("974590123", "5A", n=10, trinn=5, dato="2024-09-24")
    rows += sf.make_rows("974590247", "Vg1B", n=8, trinn="Vg1", dato="2024-10-01",
                         versjon="spekter-2022-mistanke", runde="2", nominations=True)
    rows += sf.make_rows("964338655", "9C", n=6, trinn=9, dato="2025-02-03", runde="")
    rows[3]["trivsel"] = "stemmer  SVÆRT godt"  # odd spelling, same code
    rows[4]["mobbet"] = "2 eller 3 ganger i måneden"
    rows[5]["trinn"] = "2"  # quarantined in every format
    rows[6]["elev_id"] = rows[7]["elev_id"]  # duplicate pupil: both quarantined
    return rows


def _writers(rows):
    iso_to_nb = [{**r, "dato": ".".join(reversed(r["dato"].split("-")))} for r in rows]
    return {
        "csv_semicolon_cp1252": lambda d: sf.write_csv(d / "e.csv", rows),
        "csv_comma_utf8_bom": lambda d: sf.write_csv(d / "e.csv", iso_to_nb, delimiter=",",
                                                     encoding="utf-8", newline="\n", bom=True),
        "xlsx": lambda d: sf.write_xlsx(d / "e.xlsx", rows),
        "parquet": lambda d: sf.write_parquet(d / "e.parquet", rows),
    }


def _sorted(rows) -> list[tuple]:
    return sorted(rows, key=lambda r: [(v is None, str(v)) for v in r])


def _content(snap: dict) -> dict:
    out = {t: snap[t] for t in FULL}
    out["fct_response"] = _sorted(r[:11] + r[12:] for r in snap["fct_response"])
    out["quarantine"] = _sorted(r[2:] for r in snap["quarantine"])
    return out


@pytest.fixture(scope="module")
def contents(tmp_path_factory):
    rows = _rows()
    out = {}
    for name, write in _writers(rows).items():
        d = tmp_path_factory.mktemp(name)
        roster = sf.write_roster(d / "ref")
        export = write(d)
        report = ingest_files([export], roster, warehouse=d / "w.duckdb", key=sf.TEST_KEY.encode())
        [outcome] = report.outcomes
        assert outcome.status == "loaded", outcome.message
        out[name] = (outcome, _content(sf.read_warehouse(d / "w.duckdb")))
    return out


def test_reference_format_content_is_what_the_rows_say(contents):
    outcome, content = contents["csv_semicolon_cp1252"]
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (24, 21, 3)
    assert {r[0] for r in content["dim_round"]} == {
        "974590123:2024H:spekter-2022-forebyggende:1", "974590247:2024H:spekter-2022-mistanke:2",
        "964338655:2025V:spekter-2022-forebyggende:1"}
    assert {r[7] for r in content["fct_response"]} == {5, 9, 11}
    assert len(content["fct_nomination"]) > 0
    assert [(r[0], r[1]) for r in content["quarantine"]] == [
        (7, "trinn"), (8, "elev_id"), (9, "elev_id")]


@pytest.mark.parametrize("name", ["csv_comma_utf8_bom", "xlsx", "parquet"])
def test_every_format_gives_identical_content(contents, name):
    ref_outcome, reference = contents["csv_semicolon_cp1252"]
    outcome, content = contents[name]
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (
        ref_outcome.rows_read, ref_outcome.rows_loaded, ref_outcome.rows_quarantined)
    for table, rows in reference.items():
        assert content[table] == rows, table


def test_the_files_really_differ(tmp_path):
    written = {name: write(tmp_path / name) for name, write in _writers(_rows()).items()
               if (tmp_path / name).mkdir() is None}
    raw = {name: Path(p).read_bytes() for name, p in written.items()}
    assert raw["csv_semicolon_cp1252"].count(b"\r\n") > 20
    assert b"sv\xe6rt" in raw["csv_semicolon_cp1252"]  # cp1252 'æ'
    assert raw["csv_comma_utf8_bom"].startswith(b"\xef\xbb\xbf")
    assert "svært".encode() in raw["csv_comma_utf8_bom"]
