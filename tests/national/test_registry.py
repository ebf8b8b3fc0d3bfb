"""Registry truth: orgnr check digit and municipality/county numbers (valid, retired, unknown)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from lmp_analytics.registry import (
    check_fylkesnummer,
    check_kommunenummer,
    is_valid_orgnr,
    kommuner,
    orgnr_check_digit,
    orgnr_problem,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("orgnr", ["971032146", "974760673"])
def test_real_organisation_numbers_pass(orgnr: str) -> None:
    assert orgnr_problem(orgnr) is None


def test_wrong_check_digit_names_the_number_and_the_right_digit() -> None:
    problem = orgnr_problem("971032147")
    assert problem is not None
    assert "971032147" in problem and "should be 6" in problem


def test_remainder_one_has_no_valid_number() -> None:
    prefix = next(f"{n:08d}" for n in range(10_000_000, 10_001_000)
                  if orgnr_check_digit(f"{n:08d}") is None)
    assert all(not is_valid_orgnr(prefix + str(d)) for d in range(10))


@pytest.mark.parametrize("text", ["97103214", "9710321466", "97103214x", "", None])
def test_malformed_orgnr(text: str | None) -> None:
    assert orgnr_problem(text) == "a 9-digit organisation number (orgnr)"


def test_current_municipality_numbers() -> None:
    for code in ("0301", "5501", "5601", "3107", "3301", "4003", "3907", "1508", "3201", "1580"):
        check = check_kommunenummer(code)
        assert check.status == "valid" and check.code == code


@pytest.mark.parametrize(
    ("retired", "successor"),
    [("5401", "5501"), ("5403", "5601"), ("3004", "3107"), ("3005", "3301"), ("3807", "4003"),
     ("3804", "3907"), ("3024", "3201")],
)
def test_retired_number_maps_to_successor_with_warning(retired: str, successor: str) -> None:
    check = check_kommunenummer(retired)
    assert check.status == "retired" and check.ok
    assert check.code == successor
    assert retired in check.message and successor in check.message


def test_split_municipality_names_both_successors() -> None:
    check = check_kommunenummer("1507")
    assert check.code == "1508"
    assert "1580" in check.message


@pytest.mark.parametrize("code", ["9999", "0101", "1234"])
def test_unknown_number_is_an_error(code: str) -> None:
    check = check_kommunenummer(code)
    assert check.status == "unknown" and not check.ok
    assert code in check.message


def test_lost_leading_zero() -> None:
    check = check_kommunenummer("301")
    assert check.status == "malformed" and "0301" in check.message


@pytest.mark.parametrize("code", ["2100", "2599"])
def test_svalbard_and_abroad_only_in_national_files(code: str) -> None:
    assert check_kommunenummer(code).status == "national_only"
    assert check_kommunenummer(code, national=True).status == "valid"


def test_counties() -> None:
    assert check_fylkesnummer("46").status == "valid"
    viken = check_fylkesnummer("30")
    assert viken.status == "retired" and viken.code is None
    assert "31, 32, 33" in viken.message
    assert check_fylkesnummer("99").status == "unknown"


def test_reference_list_sizes() -> None:
    frame = kommuner()
    current = frame.filter(frame["valid_to"].is_null() & (frame["national_only"] == "false"))
    retired = frame.filter(frame["valid_to"].is_not_null())
    assert current.height == 357  # municipalities from 1 January 2024
    assert retired.height == 114  # renumbered on 1 January 2024
    new_in_2024 = current.filter(current["valid_from"] == "2024-01-01").height
    assert current.height - new_in_2024 + retired.height == 356  # municipalities 2020-2023


def _nine_digit_numbers(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8", errors="ignore")
    return set(re.findall(r"(?<![\d.])\d{9}(?![\d.])", text))


def test_no_orgnr_example_in_readme_or_sample_data_fails_the_check_digit() -> None:
    bad: dict[str, set[str]] = {}
    paths = [REPO / "README.md", *sorted((REPO / "data").rglob("*.csv"))]
    for path in paths:
        if not path.is_file():
            continue
        if path.suffix == ".csv":
            with path.open(encoding="utf-8", errors="ignore") as fh:
                rows = list(csv.reader(fh, delimiter=";"))
            if not rows or not any("orgnr" in c.lower() for c in rows[0]):
                continue
        numbers = {n for n in _nine_digit_numbers(path) if not is_valid_orgnr(n)}
        if numbers:
            bad[str(path.relative_to(REPO))] = numbers
    assert bad == {}
