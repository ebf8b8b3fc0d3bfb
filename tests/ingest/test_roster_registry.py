"""The roster checks organisation and municipality numbers against the registries."""

from __future__ import annotations

from pathlib import Path

import pytest
import spekter_factory as sf

from lmp_analytics.errors import RosterError
from lmp_analytics.ingest.roster import read_roster
from lmp_analytics.pipeline import ingest_files


def _with_first(tmp_path: Path, kommune: str = "0301", orgnr: str = "974590123") -> Path:
    first = (kommune, "Oslo", orgnr, *sf.SCHOOLS[0][3:])
    return sf.write_roster(tmp_path, [first, *sf.SCHOOLS[1:]])


def test_valid_numbers_pass_without_warnings(tmp_path: Path) -> None:
    roster = read_roster(_with_first(tmp_path))
    assert roster.warnings == []


def test_wrong_check_digit_names_row_and_number(tmp_path: Path) -> None:
    with pytest.raises(RosterError) as info:
        read_roster(_with_first(tmp_path, orgnr="974590124"))
    err = info.value
    assert (err.row, err.column) == (2, "skole_orgnr")
    assert "got '974590124'" in err.reason
    assert "check digit (last digit) of 974590124 should be 3" in err.reason


def test_retired_kommunenummer_is_read_as_successor_with_a_warning(tmp_path: Path) -> None:
    roster = read_roster(_with_first(tmp_path, kommune="5401"))  # Tromsø before 2024
    first = roster.schools.filter(roster.schools["skole_orgnr"] == "974590123")
    assert first["kommunenummer"].item() == "5501"
    assert len(roster.warnings) == 1
    assert "row 2" in roster.warnings[0] and "5401" in roster.warnings[0]
    assert "5501" in roster.warnings[0]


@pytest.mark.parametrize(("code", "why"), [("9999", "not one"), ("2100", "national statistics")])
def test_unknown_or_national_only_kommunenummer_is_an_error(
    tmp_path: Path, code: str, why: str
) -> None:
    with pytest.raises(RosterError) as info:
        read_roster(_with_first(tmp_path, kommune=code))
    assert (info.value.row, info.value.column) == (2, "kommunenummer")
    assert f"got '{code}'" in info.value.reason and why in info.value.reason


def test_roster_warning_reaches_the_ingest_report(tmp_path: Path) -> None:
    roster = _with_first(tmp_path, kommune="3005")  # Drammen before 2024
    report = ingest_files([], roster, dry_run=True)
    assert report.roster_error is None
    assert any("3005" in w and "3301" in w for w in report.warnings)


def test_spekter_file_with_a_mistyped_orgnr_names_the_check_digit(tmp_path: Path) -> None:
    roster = sf.write_roster(tmp_path / "ref")
    path = sf.write_csv(tmp_path / "typo.csv", sf.make_rows("974590124", "7A", n=3))
    report = ingest_files([path], roster, dry_run=True)
    outcome = report.outcomes[0]
    assert outcome.status == "rejected" and outcome.column == "skole_orgnr"
    assert "not in the programme roster" in outcome.message
    assert "check digit (last digit) of 974590124 should be 3" in outcome.message
