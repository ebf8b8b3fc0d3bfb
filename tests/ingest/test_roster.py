"""The roster and its companions: an invalid cell rejects the file; all problems in one message."""

from __future__ import annotations

from pathlib import Path

import pytest
import spekter_factory as sf

from lmp_analytics.errors import RosterError
from lmp_analytics.ingest.roster import read_roster
from lmp_analytics.pipeline import ingest_files


def _roster(tmp_path: Path, *rows: tuple[str, ...]) -> Path:
    return sf.write_roster(tmp_path, rows or sf.SCHOOLS)


def _error(*args) -> RosterError:
    with pytest.raises(RosterError) as info:
        read_roster(*args)
    return info.value


def test_valid_roster_with_phase_override_and_enrolment(tmp_path):
    program = _roster(tmp_path)
    (tmp_path / "faser.csv").write_text("skole_orgnr;fase;termin\n974590247;3;2025h\n")
    (tmp_path / "elevtall.csv").write_text(
        "skole_orgnr,skoleaar,trinn,elever\n974590123,2024-25,Vg1,14\n")
    roster = read_roster(program, tmp_path / "faser.csv", tmp_path / "elevtall.csv")
    assert roster.orgnrs == set(sf.orgnrs())
    assert roster.schools.filter(roster.schools["skole_orgnr"] == "974590123")[
        "kommunenummer"].item() == "0301"
    phases = {(o, k): (t, s) for o, k, t, s in roster.phases.iter_rows()}
    assert phases[("974590247", 2)] == ("2025V", "program")
    assert phases[("974590247", 3)] == ("2025H", "faser")
    assert phases[("964338531", 1)] == ("2025V", "program")
    assert len(phases) == 12  # three participants x four phases; comparison schools have none
    assert roster.enrolment.row(0) == ("974590123", "2024-25", 11, 14)


def test_duplicate_orgnr_names_both_lines(tmp_path):
    err = _error(_roster(tmp_path, *sf.SCHOOLS, sf.SCHOOLS[1]))
    assert str(tmp_path / "program.csv") in str(err)
    assert (err.row, err.column) == (3, "skole_orgnr")
    assert "974590247 is listed on lines 3, 6" in err.reason
    assert err.reason.count("unique in the file") == 2


def test_kommunenummer_that_lost_its_leading_zero(tmp_path):
    school = ("301", *sf.SCHOOLS[0][1:])
    err = _error(_roster(tmp_path, school, *sf.SCHOOLS[1:]))
    assert (err.row, err.column) == (2, "kommunenummer")
    assert "got '301'" in err.reason and "leading zero" in err.reason


def test_every_problem_in_one_message_each_cell_once(tmp_path):
    rows = [("0301", "Oslo", "97459012", "A", "deltaker", "x", "2024H"),   # orgnr 8 digits, pulje
            ("0301", "Oslo", "974590247", "B", "deltager", "1", "2024H"),  # rolle misspelt
            ("0301", "Oslo", "974590204", "C", "sammenligning", "2", "")]  # pulje on comparison
    err = _error(_roster(tmp_path, *rows))
    assert err.reason.startswith("4 invalid cell(s)")
    for part in ("row 2, column 'skole_orgnr': got '97459012', expected a 9-digit",
                 "row 2, column 'pulje': got 'x', expected a whole number",
                 "row 3, column 'rolle': got 'deltager', expected 'deltaker' or 'sammenligning'",
                 "row 4, column 'pulje': got '2', expected empty pulje and oppstart"):
        assert part in err.reason
    assert err.reason.count("column 'pulje'") == 2


def test_missing_column_and_header_only(tmp_path):
    (tmp_path / "a.csv").write_text("kommunenummer;kommune;skole_orgnr;skole;rolle;pulje\n")
    err = _error(tmp_path / "a.csv")
    assert err.column == "oppstart" and "lacks the required column(s) oppstart" in err.reason
    (tmp_path / "b.csv").write_text(";".join(sf.ROSTER_HEADER) + "\n")
    assert "has a header but no rows" in _error(tmp_path / "b.csv").reason


def test_phase_overrides_are_checked(tmp_path):
    program = _roster(tmp_path)
    faser = tmp_path / "faser.csv"
    faser.write_text("skole_orgnr;fase;termin\n964338655;1;2025V\n974590123;5;2025V\n"
                     "974590123;2;2025 vår\n")
    err = _error(program, faser)
    assert str(faser) in str(err)
    assert "row 2, column 'skole_orgnr': got '964338655', expected a participating" in err.reason
    assert "row 3, column 'fase': got '5', expected a phase from 1 to 4" in err.reason
    assert "row 4, column 'termin'" in err.reason


def test_enrolment_is_checked(tmp_path):
    program = _roster(tmp_path)
    elevtall = tmp_path / "elevtall.csv"
    elevtall.write_text("skole_orgnr;skoleaar;trinn;elever\n999999999;2024-25;5;10\n"
                        "974590123;2024/25;5;-1\n")
    err = _error(program, None, elevtall)
    assert "row 2, column 'skole_orgnr': got '999999999', expected a school listed" in err.reason
    assert "row 3, column 'skoleaar'" in err.reason and "row 3, column 'elever'" in err.reason


def test_xlsx_roster_with_numbers(tmp_path):
    import xlsxwriter

    path = tmp_path / "program.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, sf.ROSTER_HEADER)
    for r, school in enumerate(sf.SCHOOLS, start=1):
        for c, value in enumerate(school):
            if c in (2, 5) and value:
                ws.write_number(r, c, int(value))
            elif value:
                ws.write_string(r, c, value)
    wb.close()
    roster = read_roster(path)
    assert roster.orgnrs == set(sf.orgnrs())
    assert roster.schools.get_column("pulje").to_list() == [1, 1, 2, None]


def test_rejected_roster_stops_the_ingest_and_writes_nothing(tmp_path, key):
    program = _roster(tmp_path, *sf.SCHOOLS, sf.SCHOOLS[0])
    files = sf.school_files(tmp_path / "in", sf.orgnrs(1), groups=("7A",))
    warehouse = tmp_path / "wh" / "w.duckdb"
    report = ingest_files(files, program, warehouse=warehouse, key=key)
    assert report.exit_code == 2
    assert "974590123 is listed on lines 2, 6" in report.roster_error
    assert report.outcomes == [] and not warehouse.exists()
