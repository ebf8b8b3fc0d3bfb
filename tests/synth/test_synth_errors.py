"""with_errors plants exactly the listed bad rows and bad files, and nothing else."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import Counter

import polars as pl
import pytest
from synth_helpers import read_export, row_problems, sniff_text

from lmp_analytics.synth.faults import FILE_FAULTS, ROW_FAULTS

TODAY = dt.date(2026, 11, 26)


def test_every_kind_is_planted_and_listed(demo_errors) -> None:
    errors = demo_errors.truth["errors"]
    per_kind = Counter(r["kind"] for r in errors["bad_rows"] if r["inserted"])
    n = demo_errors.truth["params"]["n_bad_rows_per_kind"]
    assert per_kind == dict.fromkeys(ROW_FAULTS, n)
    originals = [r for r in errors["bad_rows"] if not r["inserted"]]
    assert len(originals) == n and {r["kind"] for r in originals} == {"duplikat_elev"}
    assert Counter(f["kind"] for f in errors["bad_files"]) == dict.fromkeys(FILE_FAULTS, 1)
    for r in errors["bad_rows"]:
        assert set(r) >= {"file", "row", "column", "reason"} and r["row"] >= 2


def test_listed_cells_hold_the_planted_values(demo_errors) -> None:
    for r in demo_errors.truth["errors"]["bad_rows"]:
        frame = demo_errors.exports[r["file"]].frame
        cell = frame[r["column"]][r["row"] - 2]
        assert cell == (None if r["value"] is None else str(r["value"])), r


def test_an_independent_check_finds_exactly_the_listed_rows(demo, demo_errors) -> None:
    listed = {(r["file"], r["row"], r["column"]) for r in demo_errors.truth["errors"]["bad_rows"]}
    found = set()
    for record in demo_errors.truth["files"]:
        export = demo_errors.exports[record["file"]]
        found |= {(record["file"], *p) for p in row_problems(export, record["versjon"], TODAY)}
    assert found == listed
    for record in demo.truth["files"]:
        export = demo.exports[record["file"]]
        assert row_problems(export, record["versjon"], TODAY) == set(), record["file"]


def test_nothing_else_differs_from_the_clean_world(demo, demo_errors) -> None:
    inserted: dict[str, set[int]] = {}
    for r in demo_errors.truth["errors"]["bad_rows"]:
        if r["inserted"]:
            inserted.setdefault(r["file"], set()).add(r["row"] - 2)
    clean_files = {f["file"] for f in demo.truth["files"]}
    assert clean_files == {f["file"] for f in demo_errors.truth["files"]}
    for name in sorted(clean_files):
        dirty = (demo_errors.root / name).read_bytes()
        if name not in inserted:
            assert dirty == (demo.root / name).read_bytes(), name
            continue
        frame = demo_errors.exports[name].frame.with_row_index("_i")
        kept = frame.filter(~pl.col("_i").is_in(sorted(inserted[name]))).drop("_i")
        assert kept.equals(demo.exports[name].frame), name
    bad = {f["file"] for f in demo_errors.truth["errors"]["bad_files"]}
    on_disk = {
        p.relative_to(demo_errors.root).as_posix() for p in demo_errors.root.rglob("spekter/*")
    }
    assert on_disk == clean_files | bad and not bad & clean_files


@pytest.fixture(scope="module")
def bad_files(demo_errors) -> dict[str, dict]:
    return {f["kind"]: f for f in demo_errors.truth["errors"]["bad_files"]}


def test_each_bad_file_is_bad_in_the_stated_way(demo_errors, bad_files) -> None:
    root = demo_errors.root
    roster = pl.read_csv(root / "program.csv", separator=";", infer_schema=False)

    def frame(kind: str) -> pl.DataFrame:
        return read_export(root / bad_files[kind]["file"]).frame

    noms = frame("nominasjon_i_forebyggende")
    assert {"nom_mobber", "nom_mobbet"} <= set(noms.columns)
    assert set(noms["versjon"]) == {"spekter-2022-forebyggende"}
    assert set(frame("ukjent_versjon")["versjon"]) == {"spekter-2020"}
    orgnr = set(frame("skole_ikke_i_roster")["skole_orgnr"])
    assert len(orgnr) == 1 and not orgnr & set(roster["skole_orgnr"])
    assert "elev_id" not in frame("mangler_kolonne").columns
    empty = frame("kun_overskrift")
    assert empty.height == 0 and "elev_id" in empty.columns
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(root / bad_files["avkuttet_xlsx"]["file"])
    garbage = (root / bad_files["ikke_tekst"]["file"]).read_bytes()
    assert b"\x00" in garbage
    with pytest.raises(UnicodeDecodeError):
        sniff_text(garbage)
