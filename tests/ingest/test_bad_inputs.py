"""Bad inputs through the real CLI: each one gives a message naming file, row, column and what was
expected, the documented exit code, and - when the file (or roster) is rejected - a warehouse whose
content is exactly what it was before (and whose file bytes did not change at all).

Exit codes: 0 everything loaded; 1 some rows quarantined, the rest loaded; 2 a file or the roster
rejected (nothing of that file is stored).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import spekter_factory as sf
from typer.testing import CliRunner

from lmp_analytics.cli import app
from lmp_analytics.ingest.reasons import code_from_text
from lmp_analytics.pipeline import ingest_files

ORG = "974590247"  # bad files are about this school; the base warehouse holds 974590123
DATE = "2024-09-24"


@dataclass
class Case:
    """One bad input: ``build(dir)`` writes the file (a roster if ``roster``) and returns it."""

    build: Callable[[Path], Path]
    exit_code: int
    row: int | None = None
    column: str | None = None
    parts: tuple[str, ...] = ()
    roster: bool = False  # the built file is a bad program.csv (the export itself is good)
    quarantined: list[tuple[int, str]] = field(default_factory=list)  # (row, column) for exit 1


def _rows(n: int = 6, **changes: dict[str, str]) -> list[dict[str, str]]:
    """``n`` good rows; ``changes={'3': {...}}`` edits the row on file line 3."""
    rows = sf.make_rows(ORG, "8A", n=n, trinn=8, dato=DATE)
    for line, cells in changes.items():
        rows[int(line) - 2].update(cells)
    return rows


def _csv(name: str, rows=None, **kwargs) -> Callable[[Path], Path]:
    return lambda d: sf.write_csv(d / name, rows if rows is not None else _rows(), **kwargs)


def _text(name: str, text: str | bytes) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        data = text.encode("utf-8") if isinstance(text, str) else text
        (d / name).write_bytes(data)
        return d / name
    return build


def _without(column: str) -> Callable[[Path], Path]:
    rows = _rows()
    cols = [c for c in sf.columns_of(rows) if c != column]
    return lambda d: sf.write_csv(d / "missing.csv", rows, columns=cols)


def _truncated(d: Path) -> Path:
    text = sf.csv_text(_rows(), newline="\n")
    cut = text.rstrip("\n").rsplit(";", 12)[0]  # the export stopped in the middle of line 7
    (d / "truncated.csv").write_text(cut, encoding="utf-8")
    return d / "truncated.csv"


def _xlsx_title_rows(d: Path) -> Path:
    return sf.write_xlsx(d / "title.xlsx", _rows(), title_rows=["Spekter-rapport", ""])


def _xlsx_pivoted(d: Path) -> Path:
    import xlsxwriter

    rows = _rows(3)
    wb = xlsxwriter.Workbook(str(d / "pivot.xlsx"))
    ws = wb.add_worksheet()
    for r, col in enumerate(sf.columns_of(rows)):  # one row per field, one column per pupil
        ws.write_row(r, 0, [col] + [row[col] for row in rows])
    wb.close()
    return d / "pivot.xlsx"


def _roster_with(*rows: tuple[str, ...]) -> Callable[[Path], Path]:
    return lambda d: sf.write_roster(d, rows)


def _cross_file(d: Path) -> Path:
    rows = sf.make_rows("974590123", "7C", n=4, dato=DATE)
    rows[1]["elev_id"] = sf.pupil_id("974590123", "7A", 2)  # answered in 7A (base warehouse)
    return sf.write_csv(d / "cross.csv", rows)


CASES: dict[str, Case] = {
    "utf16": Case(_csv("utf16.csv", encoding="utf-16"), 2, parts=("UTF-16", "CSV UTF-8")),
    "missing_required_column": Case(
        _without("versjon"), 2, 1, "versjon", ("lacks the required column(s) versjon",)),
    "unknown_versjon": Case(
        _csv("v.csv", _rows(**{"3": {"versjon": "spekter-2030"}})), 2, 3, "versjon",
        ("unknown instrument version 'spekter-2030'", "expected one of spekter-2018")),
    "school_not_in_roster": Case(
        _csv("school.csv", _rows(**{"4": {"skole_orgnr": "999999999"}})), 2, 4, "skole_orgnr",
        ("school '999999999' is not in the programme roster",)),
    "future_date": Case(
        _csv("future.csv", _rows(**{"2": {"dato": "2099-01-01"}})), 1, 2, "dato",
        ("got '2099-01-01'", "expected a survey date not in the future"),
        quarantined=[(2, "dato")]),
    "trinn_out_of_range": Case(
        _csv("trinn.csv", _rows(**{"3": {"trinn": "2"}})), 1, 3, "trinn",
        ("got '2'", "expected a grade from 3 to 10"), quarantined=[(3, "trinn")]),
    "unknown_answer_label": Case(
        _csv("label.csv", _rows(**{"2": {"trivsel": "Stemmer kanskje"}})), 1, 2, "trivsel",
        ("got 'Stemmer kanskje'", "'Stemmer svært godt'"), quarantined=[(2, "trivsel")]),
    "duplicate_pupil": Case(
        _csv("dup.csv", _rows(**{"5": {"elev_id": sf.pupil_id(ORG, "8A", 0)}})), 1, 2,
        "elev_id", ("each pupil once per round", "lines 2, 5"),
        quarantined=[(2, "elev_id"), (5, "elev_id")]),
    "nominations_in_forebyggende": Case(
        _csv("nom.csv", _rows(**{"3": {"nom_mobber": sf.pupil_id(ORG, "8A", 1)}})), 2, 3,
        "nom_mobber", ("negative-nomination column 'nom_mobber'", "spekter-2022-mistanke")),
    "empty_file": Case(_text("empty.csv", b""), 2, parts=("is empty",)),
    "header_only": Case(_csv("header.csv", _rows(0), columns=sf.BASE_COLUMNS), 2,
                        parts=("header row but no data rows",)),
    "truncated": Case(_truncated, 2, 7, None, ("looks truncated", "no line end")),
    "unclosed_quote": Case(
        _text("quote.csv", "skole_orgnr;gruppe\n974590247;\"8A\n974590247;8B\n"), 2, 2, None,
        ("closing quote",)),
    "too_many_fields": Case(
        _text("fields.csv", "skole_orgnr;gruppe\n974590247;8A\n974590247;8;A\n"), 2, 3, None,
        ("3 fields", "2 columns in the header")),
    "xlsx_title_rows": Case(_xlsx_title_rows, 2, 1, "skole_orgnr",
                            ("lacks the required column(s)", "header seems to be on line 3")),
    "xlsx_pivoted": Case(_xlsx_pivoted, 2, 1, "gruppe",
                         ("lacks the required column(s)", "seems to be transposed")),
    "roster_duplicate_orgnr": Case(
        _roster_with(*sf.SCHOOLS, sf.SCHOOLS[1]), 2, 3, "skole_orgnr",
        ("974590247 is listed on lines 3, 6",), roster=True),
    "roster_kommunenummer_lost_zero": Case(
        _roster_with(("301", *sf.SCHOOLS[0][1:]), *sf.SCHOOLS[1:]), 2, 2, "kommunenummer",
        ("got '301'", "leading zero"), roster=True),
    "empty_pupil_id_column": Case(
        _csv("noid.csv", [{**r, "elev_id": ""} for r in _rows()]), 2, 2, "elev_id",
        ("every row failed validation", "the cell is empty")),
    # --- more weaknesses found while testing ---
    "kjonn_unknown": Case(
        _csv("kjonn.csv", _rows(**{"4": {"kjonn": "ukjent"}})), 1, 4, "kjonn",
        ("got 'ukjent'", "jente, gutt, annet or empty"), quarantined=[(4, "kjonn")]),
    "formal_disagrees": Case(
        _csv("formal.csv", _rows(**{"3": {"formal": "mistanke"}})), 1, 3, "formal",
        ("got 'mistanke'", "matches versjon"), quarantined=[(3, "formal")]),
    "unreadable_date": Case(
        _csv("date.csv", _rows(**{"6": {"dato": "24/09/2024"}})), 1, 6, "dato",
        ("got '24/09/2024'", "YYYY-MM-DD or DD.MM.YYYY"), quarantined=[(6, "dato")]),
    "duplicate_column_names": Case(
        _csv("dupcol.csv", [{**r, "Kjønn ": "gutt"} for r in _rows()]), 2, 1, "kjonn",
        ("more than once in the header row (columns 8 and 28, line 1)",)),
    "unsupported_extension": Case(_text("export.xls", b"\xd0\xcf\x11\xe0"), 2,
                                  parts=("unsupported extension '.xls'", "as .xlsx")),
    "pupil_in_two_groups_two_files": Case(
        _cross_file, 1, 3, "elev_id", ("already answered the round in gruppe 7A",),
        quarantined=[(3, "elev_id")]),
    "every_row_quarantined": Case(
        _csv("allfuture.csv", [{**r, "dato": "2099-09-01"} for r in _rows(3)]), 2, 2, "dato",
        ("every row failed validation (3 rows)", "not in the future")),
    "broken_parquet": Case(_text("broken.parquet", b"PAR1garbage"), 2,
                           parts=("cannot be read as Parquet",)),
    "missing_file": Case(lambda d: d / "not-there.csv", 2, parts=("does not exist",)),
}


#: The stable reason code of every quarantining case (lmp_analytics.ingest.reasons).
CASE_CODES = {
    "future_date": "future_date", "trinn_out_of_range": "grade_out_of_range",
    "unknown_answer_label": "value_out_of_range", "duplicate_pupil": "duplicate_pupil",
    "kjonn_unknown": "invalid_gender", "formal_disagrees": "purpose_mismatch",
    "unreadable_date": "invalid_date", "pupil_in_two_groups_two_files": "pupil_in_other_group",
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, Path]:
    """A warehouse holding two groups of 974590123, and its roster."""
    d = tmp_path_factory.mktemp("base")
    roster = sf.write_roster(d / "ref")
    files = sf.school_files(d / "in", sf.orgnrs(1), groups=("7A", "7B"), n=8, dato=DATE)
    report = ingest_files(files, roster, warehouse=d / "wh.duckdb", key=sf.TEST_KEY.encode())
    assert report.exit_code == 0
    return d / "wh.duckdb", roster


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, base, tmp_path, lmp_env, snapshot, wide_console):
    case = CASES[name]
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(base[0], warehouse)
    before, before_sha = snapshot(warehouse), _sha(warehouse)
    (tmp_path / "in").mkdir()
    built = case.build(tmp_path / "in")
    if case.roster:
        roster, export = built, sf.write_csv(tmp_path / "in" / "good.csv", _rows())
    else:
        roster, export = base[1], built
    report_path = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["ingest", str(export), "--roster", str(roster), "-w",
                                      str(warehouse), "--report", str(report_path)])
    assert result.exit_code == case.exit_code, result.output
    if case.roster:
        assert "roster rejected" in result.output and "Nothing was loaded" in result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["exit_code"] == case.exit_code

    if case.roster:
        message = report["roster_error"]
        assert str(roster) in message
        assert f"row {case.row}, column '{case.column}'" in message
        assert report["files"] == []
    else:
        [outcome] = report["files"]
        assert outcome["path"] == str(export)
        message = outcome["message"]
        if case.exit_code == 2:
            assert outcome["status"] == "rejected"
            assert (outcome["row"], outcome["column"]) == (case.row, case.column)
            where = [f"row {case.row}"] if case.row else []
            where += [f"column '{case.column}'"] if case.column else []
            shown = f"{', '.join(where)}: {message}" if where else message
            assert shown in result.output  # what the person sees
            assert str(export) in result.output
        else:
            assert outcome["status"] == "loaded"
            assert f"first: row {case.row}, column '{case.column}'" in message
    for part in case.parts:
        assert part in message, message

    after = snapshot(warehouse)
    if case.exit_code == 2:
        assert after == before  # content, table by table
        assert _sha(warehouse) == before_sha  # and not even republished
    else:
        mine = [r for r in after["quarantine"] if r[1] == str(export.resolve())]
        assert {(r[2], r[3]) for r in mine} == set(case.quarantined)
        # each row has its stable code; the code derived from the English detail (old
        # warehouses) agrees with it
        assert {r[6] for r in mine} == {CASE_CODES[name]}
        assert all(code_from_text(r[3], r[5]) == r[6] for r in mine)
        assert len(after["fct_response"]) > len(before["fct_response"])  # the good rows loaded
    assert [p.name for p in warehouse.parent.iterdir() if p.name.endswith((".tmp", ".wal"))] == []


def test_rejected_files_create_no_warehouse(tmp_path, lmp_env):
    """A run that loads nothing creates nothing but the writer's lock file."""
    d = tmp_path / "in"
    d.mkdir()
    roster = sf.write_roster(tmp_path / "ref")
    files = [CASES[n].build(d) for n in ("utf16", "school_not_in_roster", "header_only")]
    warehouse = tmp_path / "wh" / "new.duckdb"
    result = CliRunner().invoke(app, ["ingest", *map(str, files), "--roster", str(roster),
                                      "-w", str(warehouse)])
    assert result.exit_code == 2
    assert "Nothing new" in result.output
    assert [p.name for p in warehouse.parent.iterdir()] == ["new.duckdb.lock"]


def test_at_least_sixteen_distinct_bad_inputs():
    assert len(CASES) >= 16
    assert set(CASE_CODES) == {n for n, c in CASES.items() if c.exit_code == 1}
    assert {c.exit_code for c in CASES.values()} == {1, 2}
