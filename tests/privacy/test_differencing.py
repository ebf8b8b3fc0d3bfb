"""Differencing attacks on a real warehouse: total minus visible parts, for every line, level,
breakdown and role (see ``_lines``), and one mark for every hidden cell."""

from __future__ import annotations

import functools
from pathlib import Path

import polars as pl
import pytest
from spekter_factory import SCHOOLS, TEST_KEY, make_rows, write_csv, write_roster

from lmp_analytics import api, config
from lmp_analytics.jobs import ingest_and_build

from ._lines import remainder_leaks

MIN_N = 10
A, B, C = (s[2] for s in SCHOOLS[:3])  # A, B in kommune 0301 (pulje 1); C in 4601 (pulje 2)
ROLES = ("program", "forsker", "kommune:0301", "kommune:4601", f"veileder:{A}",
         f"veileder:{B},{C}")
LEVELS = ("gruppe", "skole", "kommune", "pulje", "program")


def _group(orgnr: str, gruppe: str, genders: dict[str, int], seed: int) -> list[dict]:
    """Pupils of one group with exactly these genders ("" = left empty), all of whom answered
    the bullying item."""
    kjonn = [g for g, k in genders.items() for _ in range(k)]
    rows = make_rows(orgnr, gruppe, n=len(kjonn), seed=seed)
    for row, g in zip(rows, kjonn, strict=True):
        row["kjonn"] = g
        if row["mobbet"] == "":
            row["mobbet"] = "En sjelden gang"
    return rows


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("lines")
    write_roster(src, SCHOOLS[:3])
    groups = {
        # school A: 12 boys and 12 girls shown; 2 "annet" and 3 empty gender are 5 pupils
        (A, "7A"): {"gutt": 12, "jente": 12, "annet": 2, "": 3},
        # school B: group 7B is small, 7A is not
        (B, "7A"): {"gutt": 8, "jente": 8},
        (B, "7B"): {"gutt": 3, "jente": 2, "": 2},
        (C, "7A"): {"gutt": 7, "jente": 7},
    }
    for i, ((orgnr, gruppe), genders) in enumerate(groups.items()):
        write_csv(src / f"spekter_{orgnr}_{gruppe}.csv", _group(orgnr, gruppe, genders, i))
    assert config.min_n() == MIN_N  # the publication is built with the default threshold
    path = src / "warehouse.duckdb"
    report = ingest_and_build([src], src / "program.csv", warehouse=path,
                              key=TEST_KEY.encode())
    assert report.exit_code == 0, report.outcomes
    return path


@functools.cache
def _seen(warehouse: Path, role: str) -> pl.DataFrame:
    """Every indicator row of every level and breakdown that ``role`` may read."""
    frames = []
    for level in LEVELS:
        if level == "gruppe" and role != "forsker":
            continue
        for by in (None, "trinn", "kjonn") if level in ("gruppe", "skole") else (None,):
            frames.append(api.indicators(level, indicator=None, by=by, role=role,
                                         warehouse=warehouse, min_n=MIN_N))
    return pl.concat([f for f in frames if f.height], how="vertical_relaxed")


def test_school_total_minus_boys_and_girls_reveals_no_small_group(warehouse):
    total = api.indicators("skole", indicator="mobbet", warehouse=warehouse, min_n=MIN_N)
    genders = api.indicators("skole", indicator="mobbet", by="kjonn", warehouse=warehouse,
                             min_n=MIN_N)
    school = total.filter(pl.col("skole_orgnr") == A).row(0, named=True)
    shown = genders.filter((pl.col("skole_orgnr") == A) & ~pl.col("suppressed"))
    assert not school["suppressed"] and school["n"] == 29
    # the 2 "annet" and 3 empty-gender pupils are in the total and in no visible gender cell
    rest = school["n"] - shown["n"].sum()
    assert rest == 0 or rest >= MIN_N, (
        f"{school['n']} - {shown['n'].to_list()} = {rest} pupils, of whom "
        f"{school['count'] - shown['count'].sum()} bullied"
    )


@pytest.mark.parametrize("role", ROLES)
def test_no_line_leaves_a_small_remainder_for_any_role(warehouse, role):
    seen = _seen(warehouse, role)
    assert seen.height
    assert remainder_leaks(seen, MIN_N) == []


def test_every_hidden_cell_wears_the_same_mark(warehouse):
    seen = _seen(warehouse, "forsker")
    hidden = seen.filter(pl.col("suppressed"))
    assert hidden.height > 3
    # hidden for being small or hidden to protect another: a reader cannot tell which
    for col in ("n_display", "suppression_reason", "suppression_note_nb", "suppression_note_en"):
        assert hidden[col].n_unique() == 1, (col, hidden[col].unique().to_list())
