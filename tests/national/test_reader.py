"""Reading Udir statistikkbank exports (DATA_CONTRACT §3; DOMAIN §8.8 case 5)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmp_analytics.errors import FileRejected, LmpError
from lmp_analytics.national import (
    RESULT_SCHEMA,
    EuExportWarning,
    parse_count,
    parse_number,
    parse_trinn,
    read_eu_export,
    read_eu_export_with_problems,
    validate_results,
)
from lmp_analytics.registry import orgnr_check_digit

from .conftest import FIXTURES, HEADER

CP1252 = FIXTURES / "statistikkbank_cp1252.csv"
UTF8_BOM = FIXTURES / "statistikkbank_utf8_bom.csv"


def _row(frame: pl.DataFrame, **where: object) -> dict:
    hit = frame.filter(*(pl.col(k).eq_missing(v) for k, v in where.items()))
    assert hit.height == 1, where
    return hit.row(0, named=True)


# --- real formats ---------------------------------------------------------------------------


def test_cp1252_export_is_read_and_typed() -> None:
    export = read_eu_export_with_problems(CP1252)
    assert export.encoding == "cp1252"
    assert export.delimiter == ";"
    assert export.problems.height == 0
    frame = export.results
    assert frame.schema == pl.Schema(RESULT_SCHEMA)
    assert frame.height == 11
    assert set(frame["level"]) == {"nasjon", "fylke", "kommune", "skole"}
    assert set(frame["survey_year"]) == {2023}
    assert set(frame["term"]) == {"2023H"}
    assert set(frame["series_version"]) == {"2016+"}

    oslo = _row(frame, level="kommune", unit_code="0301")  # leading zero kept
    assert oslo["value"] == pytest.approx(12.4)
    assert oslo["n_answered"] == 5902
    assert oslo["trinn"] == 7
    assert _row(frame, level="fylke")["unit_code"] == "03"
    # cp1252 decoded; Bærum's number of 2020-2023 is read as its 2024 successor (with a warning)
    assert _row(frame, unit_code="3201")["unit_name"] == "Bærum"
    assert any("3024" in w and "3201" in w for w in export.warnings)
    assert _row(frame, unit_code="987654325")["unit_name"] == "Ås ungdomsskole"

    national = _row(frame, level="nasjon", trinn=None, indicator="Mobbing på skolen")
    assert national["unit_code"] is None
    assert national["value"] == pytest.approx(10.0)
    assert national["n_answered"] == 432118
    # "63 187" written with a non-breaking space
    assert _row(frame, level="nasjon", trinn=7, indicator_code="EU_MOBBING")["n_answered"] == 63187
    # "4,2" on the 1-5 index
    trivsel = _row(frame, level="nasjon", indicator="Trivsel")
    assert trivsel["value"] == pytest.approx(4.2)
    assert trivsel["value_type"] == "score_1_5"


def test_star_is_suppressed_never_zero() -> None:
    frame = read_eu_export(CP1252)
    cell = _row(frame, unit_code="974123452", indicator_code="EU_MOBBING")
    assert cell["suppressed"] is True
    assert cell["value"] is None
    assert cell["n_answered"] == 14
    assert cell["source_row"] == 10  # header is line 1
    assert frame.filter(pl.col("suppressed"))["value"].null_count() == frame["suppressed"].sum()
    assert frame.filter(pl.col("value") == 0).height == 0


def test_source_rows_are_file_lines() -> None:
    frame = read_eu_export(CP1252)
    assert frame["source_row"].to_list() == list(range(2, 13))
    assert set(frame["source_file"]) == {str(CP1252)}


def test_utf8_bom_export_with_loose_header_and_extra_column() -> None:
    with pytest.warns(EuExportWarning, match="Eierform"):
        export = read_eu_export_with_problems(UTF8_BOM)
    assert export.encoding == "utf-8-sig"
    assert export.problems.height == 0
    frame = export.results
    assert "Eierform" not in frame.columns
    assert frame.height == 4
    vgs = _row(frame, level="skole")
    assert vgs["unit_name"] == "Øvre Ål videregående skole"
    assert vgs["trinn"] == 11  # Vg1
    assert vgs["suppressed"] is True
    assert vgs["value"] is None
    assert vgs["n_answered"] is None  # '*' in Antall besvart
    assert _row(frame, level="nasjon")["n_answered"] == 451184
    assert _row(frame, unit_code="4601")["indicator"] == "Støtte fra lærerne"
    assert set(frame["term"]) == {"2019H"}


def test_plain_utf8_and_comma_delimited(tmp_path) -> None:
    path = tmp_path / "comma.csv"
    path.write_text(
        "skoleår,enhetsnivå,enhetskode,enhetsnavn,trinn,indikator,verdi,antall besvart\n"
        '2016-17,Nasjonalt,,Norge,Alle trinn,Mobbing på skolen,"6,3","432 000"\n',
        encoding="utf-8",
    )
    export = read_eu_export_with_problems(path)
    assert (export.encoding, export.delimiter) == ("utf-8", ",")
    assert export.results["value"].to_list() == [pytest.approx(6.3)]
    assert export.results["n_answered"].to_list() == [432000]


def test_utf16_export(tmp_path) -> None:
    path = tmp_path / "utf16.csv"
    lines = [HEADER, "2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;4,3;80", ""]
    path.write_bytes("\r\n".join(lines).encode("utf-16"))
    export = read_eu_export_with_problems(path)
    assert export.encoding == "utf-16"
    assert export.results["unit_code"].to_list() == ["0301"]


#: Valid organisation numbers (check digit) for generated schools.
ORGNRS = [f"974123{n:02d}{d}" for n in range(40)
          if (d := orgnr_check_digit(f"974123{n:02d}")) is not None][:20]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.one_of(st.just("*"), st.decimals(min_value=0, max_value=100, places=1)),
        min_size=1,
        max_size=20,
    )
)
def test_suppressed_stays_suppressed(cells: list) -> None:
    """Property: every '*' is stored as suppressed with no value; every number as itself."""
    lines = [
        f"2023-24;Skole;{ORGNRS[i]};Skole {i};7. trinn;Mobbing på skolen;"
        f"{str(c).replace('.', ',')};{i}"
        for i, c in enumerate(cells)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.csv"
        path.write_bytes("\r\n".join([HEADER, *lines]).encode("cp1252"))
        frame = read_eu_export(path)
    stars = [c == "*" for c in cells]
    assert frame["suppressed"].to_list() == stars
    assert frame["value"].is_null().to_list() == stars
    numbers = [float(c) for c in cells if c != "*"]
    assert frame["value"].drop_nulls().to_list() == pytest.approx(numbers)


def test_old_spring_survey_school_year(write_export) -> None:
    path = write_export("2011-12;Nasjonalt;;Norge;Alle trinn;Mobbing på skolen;6,8;")
    row = read_eu_export(path).row(0, named=True)
    assert (row["survey_year"], row["term"], row["series_version"]) == (
        2012,
        "2012V",
        "pre2013_spring",
    )
    assert row["n_answered"] is None


# --- number parsing (DOMAIN §8.8 case 5) ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4,2", 4.2),
        ("63 187", 63187.0),
        ("63\u00a0187", 63187.0),
        ("1 234 567,25", 1234567.25),
        ("0", 0.0),
        ("6.3", 6.3),
        ("\u22121,5", -1.5),
    ],
)
def test_parse_number(text: str, expected: float) -> None:
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "abc", "6 3", "4,2,1", "1,234.5", "12 34", "*"])
def test_parse_number_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="decimal comma"):
        parse_number(text)


def test_parse_count() -> None:
    assert parse_count("63 187") == 63187
    for bad in ("12,0", "-3", "63.187"):
        with pytest.raises(ValueError, match="whole number"):
            parse_count(bad)


@given(st.integers(min_value=0, max_value=10**9))
def test_count_with_space_thousands_round_trips(n: int) -> None:
    assert parse_count(f"{n:,}".replace(",", " ")) == n
    assert parse_count(f"{n:,}".replace(",", "\u00a0")) == n


@given(st.decimals(min_value=0, max_value=100, places=1, allow_nan=False))
def test_decimal_comma_round_trips(d) -> None:
    assert math.isclose(parse_number(str(d).replace(".", ",")), float(d))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7. trinn", 7),
        ("10.trinn", 10),
        (" 5. TRINN ", 5),
        ("Vg1", 11),
        ("VG 3", 13),
        ("Alle trinn", None),
    ],
)
def test_parse_trinn(text: str, expected: int | None) -> None:
    assert parse_trinn(text) == expected


# --- bad input: every message names file, row and column -------------------------------------


def _only_problem(path) -> dict:
    export = read_eu_export_with_problems(path)
    assert export.problems.height == 1, export.problems
    return export.problems.row(0, named=True)


def test_three_digit_kommunenummer_lost_leading_zero(write_export) -> None:
    path = write_export(
        "2023-24;Kommune;0301;Oslo;7. trinn;Mobbing på skolen;12,4;5 902",
        "2023-24;Kommune;301;Oslo;10. trinn;Mobbing på skolen;9,1;5 100",
    )
    export = read_eu_export_with_problems(path)
    assert export.results["unit_code"].to_list() == ["0301"]  # the good row goes on
    problem = export.problems.row(0, named=True)
    assert (problem["row"], problem["column"], problem["value"]) == (3, "Enhetskode", "301")
    assert "leading zero" in problem["reason"]
    assert "'0301'" in problem["reason"]
    assert "4 digits" in problem["reason"]

    with pytest.raises(FileRejected) as info:
        read_eu_export(path)
    err = info.value
    assert (err.path, err.row, err.column) == (str(path), 3, "Enhetskode")
    assert str(err).startswith(f"{path}, row 3, column 'Enhetskode': '301'")
    assert "leading zero" in str(err)


def test_orgnr_must_have_nine_digits(write_export) -> None:
    problem = _only_problem(
        write_export("2023-24;Skole;97412345;Haugen skole;7. trinn;Trivsel;4,3;14")
    )
    assert (problem["row"], problem["column"]) == (2, "Enhetskode")
    assert "organisasjonsnummer" in problem["reason"]
    assert "9 digits" in problem["reason"]


def test_fylkesnummer_and_national_code(write_export) -> None:
    export = read_eu_export_with_problems(
        write_export(
            "2023-24;Fylke;3;Oslo;7. trinn;Trivsel;4,1;800",
            "2023-24;Nasjonalt;0000;Norge;7. trinn;Trivsel;4,1;800",
            "2023-24;Kommune;;Oslo;7. trinn;Trivsel;4,1;800",
        )
    )
    reasons = dict(zip(export.problems["row"], export.problems["reason"], strict=True))
    assert "fylkesnummer" in reasons[2] and "leading zero" in reasons[2]
    assert "expected an empty cell" in reasons[3]
    assert "kommunenummer missing" in reasons[4]
    assert set(export.problems["column"]) == {"Enhetskode"}


def test_percent_out_of_range(write_export) -> None:
    problem = _only_problem(
        write_export("2023-24;Kommune;0301;Oslo;7. trinn;Mobbing på skolen;104,0;5 902")
    )
    assert (problem["row"], problem["column"]) == (2, "Verdi")
    assert "outside 0-100" in problem["reason"]
    assert "percentage" in problem["reason"]


def test_index_out_of_range(write_export) -> None:
    problem = _only_problem(write_export("2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;0,8;5 902"))
    assert (problem["row"], problem["column"]) == (2, "Verdi")
    assert "outside 1-5" in problem["reason"]


def test_unknown_level(write_export) -> None:
    problem = _only_problem(write_export("2023-24;Bydel;030101;Gamle Oslo;7. trinn;Trivsel;4,0;80"))
    assert (problem["row"], problem["column"]) == (2, "Enhetsnivå")
    assert "Nasjonalt, Fylke, Kommune, Skole" in problem["reason"]


@pytest.mark.parametrize("cell", ["", "abc", "-", "4,2,1"])
def test_bad_value_cell(write_export, cell: str) -> None:
    problem = _only_problem(write_export(f"2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;{cell};80"))
    assert (problem["row"], problem["column"]) == (2, "Verdi")
    assert "'*'" in problem["reason"]


def test_bad_trinn_school_year_indicator_count(write_export) -> None:
    export = read_eu_export_with_problems(
        write_export(
            "2023-24;Kommune;0301;Oslo;3. trinn;Trivsel;4,0;80",
            "2023-24;Kommune;0301;Oslo;Mellomtrinnet;Trivsel;4,0;80",
            "2023-25;Kommune;0301;Oslo;7. trinn;Trivsel;4,0;80",
            "2023-24;Kommune;0301;Oslo;7. trinn;Arbeidsro i timene;4,0;80",
            "2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;4,0;80,5",
        )
    )
    by_row = {r["row"]: r for r in export.problems.iter_rows(named=True)}
    assert by_row[2]["column"] == "Trinn" and "starts at 5. trinn" in by_row[2]["reason"]
    assert by_row[3]["column"] == "Trinn" and "'Alle trinn'" in by_row[3]["reason"]
    assert by_row[4]["column"] == "Skoleår" and "consecutive" in by_row[4]["reason"]
    assert by_row[5]["column"] == "Indikator" and "eu_indicators.csv" in by_row[5]["reason"]
    assert by_row[6]["column"] == "Antall besvart" and "whole number" in by_row[6]["reason"]
    assert export.results.height == 0


def test_ragged_row_and_multiline_cell_keep_line_numbers(write_export) -> None:
    path = write_export(
        '2023-24;Skole;974123452;"Haugen\r\nskole";7. trinn;Trivsel;4,3;14',
        "2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;4,3",
    )
    export = read_eu_export_with_problems(path)
    assert export.results["source_row"].to_list() == [2]
    problem = export.problems.row(0, named=True)
    assert problem["row"] == 4  # the quoted cell spans lines 2-3
    assert "7 cells but the header has 8" in problem["reason"]


def test_duplicate_rows(write_export) -> None:
    line = "2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;4,3;80"
    export = read_eu_export_with_problems(write_export(line, line))
    assert export.results["source_row"].to_list() == [2]
    problem = export.problems.row(0, named=True)
    assert problem["row"] == 3
    assert "duplicate of row 2" in problem["reason"]


def test_strict_read_counts_further_problems(write_export) -> None:
    path = write_export(
        "2023-24;Kommune;301;Oslo;7. trinn;Trivsel;4,3;80",
        "2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;9,9;80",
    )
    with pytest.raises(FileRejected, match=r"row 2, column 'Enhetskode'.*\(1 more problem in"):
        read_eu_export(path)


def test_missing_column_rejects_file(write_export) -> None:
    path = write_export(
        "2023-24;Kommune;0301;Oslo;7. trinn;Trivsel;4,3",
        header="Skoleår;Enhetsnivå;Enhetskode;Enhetsnavn;Trinn;Indikator;Verdi",
    )
    with pytest.raises(FileRejected) as info:
        read_eu_export_with_problems(path)
    assert info.value.row == 1
    assert "missing column(s) Antall besvart" in str(info.value)
    assert str(path) in str(info.value)


def test_duplicate_header_rejects_file(write_export) -> None:
    path = write_export("x", header="Skoleår;SKOLEÅR;Enhetsnivå")
    with pytest.raises(FileRejected, match="appears twice") as info:
        read_eu_export(path)
    assert info.value.column == "SKOLEÅR"


def test_undecodable_and_empty_files(tmp_path) -> None:
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"Skole\x81r;\xff\xfe\x00")
    with pytest.raises(FileRejected, match="UTF-8 or Windows-1252"):
        read_eu_export(binary)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf \r\n")
    with pytest.raises(FileRejected, match="empty"):
        read_eu_export(empty)
    with pytest.raises(FileRejected, match="cannot be read"):
        read_eu_export(tmp_path / "nope.csv")


# --- the pandera contract on its own ----------------------------------------------------------


def _frame(**overrides: object) -> pl.DataFrame:
    row = {
        "level": "kommune",
        "unit_code": "0301",
        "unit_name": "Oslo",
        "school_year": "2023-24",
        "survey_year": 2023,
        "term": "2023H",
        "series_version": "2016+",
        "trinn": 7,
        "indicator_code": "EU_MOBBING",
        "indicator": "Mobbing på skolen",
        "value_type": "pct",
        "value": 12.4,
        "n_answered": 5902,
        "suppressed": False,
        "source_file": "x.csv",
        "source_row": 2,
        "kjonn": "alle",
        "eierform": "alle",
        "preliminary": False,
    } | overrides
    return pl.DataFrame([row], schema=RESULT_SCHEMA, orient="row")


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"value": None}, "suppressed"),
        ({"value": 0.0, "suppressed": True}, "suppressed cell must have no value"),
        ({"trinn": 4}, "starts at 5. trinn"),
        ({"level": "land"}, "Nasjonalt, Fylke"),
        ({"value_type": "score_1_5"}, "outside 1-5"),
    ],
)
def test_schema_rules(overrides: dict, fragment: str) -> None:
    valid, problems = validate_results(_frame(**overrides))
    assert valid.height == 0
    assert len(problems) == 1
    assert fragment in problems[0].message
    assert problems[0].message.startswith("x.csv, row 2, column ")


def test_schema_passes_good_frame_and_refuses_wrong_columns() -> None:
    valid, problems = validate_results(_frame())
    assert (valid.height, problems) == (1, [])
    with pytest.raises(Exception, match="value"):
        validate_results(_frame().drop("value"))
    assert issubclass(FileRejected, LmpError)
