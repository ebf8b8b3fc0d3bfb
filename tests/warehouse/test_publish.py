"""Publishing: re-loads are no-ops, corrected files replace exactly their (round, gruppe) pairs,
good files survive a rejected neighbour, a changed roster alone is published, writers exclude
each other and a broken warehouse file is refused with a message."""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path

import pytest
import spekter_factory as sf

from lmp_analytics.errors import WarehouseError
from lmp_analytics.pipeline import ingest_files
from lmp_analytics.warehouse.load import REFERENCE_HASH_KEY

ORG = "974590123"
DATE = "2024-09-24"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def setup(tmp_path):
    roster = sf.write_roster(tmp_path / "ref")
    warehouse = tmp_path / "wh" / "w.duckdb"
    return roster, warehouse, tmp_path / "in"


def _groups(snap: dict, table: str = "fct_response") -> dict[str, int]:
    out: dict[str, int] = {}
    for row in snap[table]:
        out[row[6] if table == "fct_response" else row[1]] = out.get(
            row[6] if table == "fct_response" else row[1], 0) + 1
    return out


def test_reloading_the_same_file_is_a_no_op(setup, key, snapshot):
    roster, warehouse, d = setup
    files = sf.school_files(d, [ORG], groups=("7A", "7B"), n=6)
    assert ingest_files(files, roster, warehouse=warehouse, key=key).published
    before, sha = snapshot(warehouse), _sha(warehouse)
    again = ingest_files([*files, files[0]], roster, warehouse=warehouse, key=key)
    assert [o.status for o in again.outcomes] == ["skipped"] * 3
    assert again.exit_code == 0 and not again.published
    assert snapshot(warehouse) == before and _sha(warehouse) == sha


def test_a_corrected_file_replaces_exactly_its_groups(setup, key, snapshot):
    roster, warehouse, d = setup
    d.mkdir()
    first = sf.make_rows(ORG, "7A", n=6, dato=DATE) + sf.make_rows(ORG, "7B", n=5, dato=DATE)
    first[2]["trinn"] = "99"  # quarantined in the first version
    export = sf.write_csv(d / "skole.csv", first)
    other = sf.write_csv(d / "7C.csv", sf.make_rows(ORG, "7C", n=4, dato=DATE))
    ingest_files([export, other], roster, warehouse=warehouse, key=key)
    before = snapshot(warehouse)
    assert _groups(before) == {"7A": 5, "7B": 5, "7C": 4}
    assert len(before["quarantine"]) == 1

    # The school re-exports 7A only, with one pupil fewer and changed answers.
    corrected = sf.make_rows(ORG, "7A", n=5, dato=DATE, seed=99)
    sf.write_csv(export, corrected)
    report = ingest_files([export, other], roster, warehouse=warehouse, key=key)
    assert [o.status for o in report.outcomes] == ["loaded", "skipped"]
    after = snapshot(warehouse)
    assert _groups(after) == {"7A": 5, "7B": 5, "7C": 4}
    for gruppe in ("7B", "7C"):  # untouched, row for row
        for table in ("fct_response", "fct_answer"):
            col = 6 if table == "fct_response" else 1
            assert ([r for r in after[table] if r[col] == gruppe]
                    == [r for r in before[table] if r[col] == gruppe])
    new_7a = {r[2]: r[4] for r in after["fct_answer"] if r[1] == "7A" and r[3] == "mobbet"}
    old_7a = {r[2]: r[4] for r in before["fct_answer"] if r[1] == "7A" and r[3] == "mobbet"}
    assert new_7a != old_7a
    assert after["quarantine"] == []  # the old version's quarantine went with it
    statuses = sorted((Path(r[2]).name, r[7]) for r in after["ingest_log"])
    assert statuses == [("7C.csv", "loaded"), ("skole.csv", "loaded"), ("skole.csv", "replaced")]


def test_good_files_load_when_another_is_rejected(setup, key, snapshot):
    roster, warehouse, d = setup
    good = sf.school_files(d, [ORG, "974590247"], groups=("7A",), n=5)
    bad = sf.write_csv(d / "bad.csv", sf.make_rows("999999999", "7A", n=3))
    report = ingest_files([good[0], bad, good[1]], roster, warehouse=warehouse, key=key)
    assert [o.status for o in report.outcomes] == ["loaded", "rejected", "loaded"]
    assert report.exit_code == 2 and report.published
    snap = snapshot(warehouse)
    assert sorted({r[1] for r in snap["fct_response"]}) == [ "974590123", "974590247"]
    assert len(snap["fct_response"]) == 10
    assert {Path(r[2]).name for r in snap["ingest_log"]} == {g.name for g in good}


def test_a_changed_roster_alone_is_published(setup, key, snapshot):
    roster, warehouse, d = setup
    files = sf.school_files(d, [ORG], groups=("7A",), n=5)
    ingest_files(files, roster, warehouse=warehouse, key=key)
    meta = dict(snapshot(warehouse)["meta"])
    assert len(meta[REFERENCE_HASH_KEY]) == 64

    renamed = [(*s[:3], "Nytt navn skole" if s[2] == ORG else s[3], *s[4:]) for s in sf.SCHOOLS]
    sf.write_roster(roster.parent, renamed)
    report = ingest_files(files, roster, warehouse=warehouse, key=key)
    assert report.count("skipped") == 1 and report.reference_changed and report.published
    snap = snapshot(warehouse)
    assert ("Nytt navn skole" in {r[1] for r in snap["dim_school"]})
    assert dict(snap["meta"])[REFERENCE_HASH_KEY] != meta[REFERENCE_HASH_KEY]

    # Same content in another encoding, delimiter and column order: nothing to publish.
    sha = _sha(warehouse)
    cols = list(reversed(sf.ROSTER_HEADER))
    rows = [dict(zip(sf.ROSTER_HEADER, s, strict=True)) for s in renamed]
    sf.write_csv(roster, rows, columns=cols, delimiter=",", encoding="cp1252")
    report = ingest_files(files, roster, warehouse=warehouse, key=key)
    assert not report.reference_changed and not report.published
    assert _sha(warehouse) == sha

    # A new companion file (faser.csv beside the roster) is a change too.
    (roster.parent / "faser.csv").write_text("skole_orgnr;fase;termin\n974590247;4;2026V\n")
    report = ingest_files([], roster, warehouse=warehouse, key=key)
    assert report.published
    assert ("974590247", 4, "2026V", "faser") in snapshot(warehouse)["dim_phase"]


def test_a_second_writer_is_refused(setup, key):
    roster, warehouse, d = setup
    files = sf.school_files(d, [ORG], groups=("7A",), n=5)
    warehouse.parent.mkdir(parents=True)
    with open(warehouse.with_name(warehouse.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(WarehouseError, match="another process is writing"):
            ingest_files(files, roster, warehouse=warehouse, key=key)
    assert not warehouse.exists()


def test_a_broken_warehouse_file_is_refused(setup, key):
    roster, warehouse, d = setup
    files = sf.school_files(d, [ORG], groups=("7A",), n=5)
    warehouse.parent.mkdir(parents=True)
    warehouse.write_bytes(b"this is not a DuckDB file" * 100)
    with pytest.raises(WarehouseError, match="cannot be opened as a DuckDB warehouse"):
        ingest_files(files, roster, warehouse=warehouse, key=key)
    assert warehouse.read_bytes().startswith(b"this is not")
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["w.duckdb", "w.duckdb.lock"]


def test_a_killed_writers_leftovers_are_cleaned_up(setup, key, snapshot):
    roster, warehouse, d = setup
    files = sf.school_files(d, [ORG], groups=("7A",), n=5)
    warehouse.parent.mkdir(parents=True)
    for name in (".w.duckdb.4242.tmp", ".w.duckdb.4242.tmp.wal"):
        (warehouse.parent / name).write_bytes(b"half written")
    ingest_files(files, roster, warehouse=warehouse, key=key)
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["w.duckdb", "w.duckdb.lock"]
    assert len(snapshot(warehouse)["fct_response"]) == 5


def test_a_warehouse_without_reason_codes_gets_the_column_on_the_next_write(tmp_path):
    import duckdb

    from lmp_analytics.warehouse.publish import write_session

    path = tmp_path / "old.duckdb"
    with write_session(path):
        pass
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO quarantine VALUES (1, 'a.csv', 2, 'trinn', '2', "
                    "'expected a grade from 3 to 10', NULL)")
        con.execute("ALTER TABLE quarantine DROP COLUMN reason_code")
    with write_session(path) as session:
        cols = [r[0] for r in session.con.execute("DESCRIBE quarantine").fetchall()]
    assert cols[-2:] == ["reason", "reason_code"]
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT reason, reason_code FROM quarantine").fetchall() == [
            ("expected a grade from 3 to 10", None)]


def test_the_roster_alone_creates_a_warehouse_but_rejected_files_do_not(setup, key, snapshot):
    """`lmp ingest EMPTY_FOLDER --roster program.csv` before `lmp evaluate national` must load
    the roster (it reported exit 0 and wrote nothing); a run whose files were all rejected
    still creates nothing."""
    roster, warehouse, d = setup
    bad = d / "bad.csv"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("not;a;spekter;file\n1;2;3;4\n", encoding="utf-8")
    report = ingest_files([bad], roster, warehouse=warehouse, key=key)
    assert not report.published and not warehouse.exists()
    report = ingest_files([], roster, warehouse=warehouse, key=key)
    assert report.published and warehouse.exists()
    assert {row[0] for row in snapshot(warehouse)["dim_school"]} >= {ORG}
