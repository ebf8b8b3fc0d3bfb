"""An ingest cut into chunks, with the next chunk read and mapped in a worker thread while the
current one is inserted (``pipeline.CHUNK_FILES`` / ``CHUNK_BYTES``), stores exactly what one
chunk stores and reports the same outcome for every file: corrections that replace a group of an
earlier chunk, a copy of an earlier file (skipped), a quarantined row, nominations and rejected
files."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import spekter_factory as sf

from lmp_analytics import pipeline
from lmp_analytics.pipeline import ingest_files

TABLES = {
    "fct_response": "SELECT * FROM fct_response ORDER BY ALL",
    "fct_answer": "SELECT * FROM fct_answer ORDER BY ALL",
    "fct_nomination": "SELECT * FROM fct_nomination ORDER BY ALL",
    "quarantine": "SELECT * FROM quarantine ORDER BY ALL",
    "dim_round": "SELECT * FROM dim_round ORDER BY ALL",
    "ingest_log": "SELECT * EXCLUDE (run_id, loaded_at) FROM ingest_log ORDER BY ALL",
}


def _inputs(d: Path) -> tuple[Path, list[Path]]:
    roster = sf.write_roster(d / "ref")
    a, b, c = sf.orgnrs(3)
    files = sf.school_files(d / "in", [a, b], groups=("7A", "7B"), n=10)
    bad = sf.make_rows(c, "5A", n=8, trinn=5)
    bad[2]["trinn"] = "2"  # quarantined
    files.append(sf.write_csv(d / "in" / "c_5a.csv", bad))
    files.append(sf.write_csv(d / "in" / "c_9a_mistanke.csv", sf.make_rows(
        c, "9A", n=8, trinn=9, versjon="spekter-2022-mistanke", runde="2", nominations=True)))
    files.append(sf.write_csv(d / "in" / "c_8a_nominations.csv", sf.make_rows(
        c, "8A", n=6, trinn=8, nominations=True)))  # negative nominations: rejected
    files.append(shutil.copyfile(files[1], d / "in" / "copy_of_a_7b.csv"))  # same content
    files.append(sf.write_csv(d / "in" / "unknown_school.csv",
                              sf.make_rows("911111111", "6A", n=5)))  # not in the roster
    # A re-export of a's 7A with one pupil fewer: replaces the group loaded in an earlier chunk.
    files.append(sf.write_csv(d / "in" / "a_7a_corrected.csv", sf.make_rows(a, "7A", n=9)))
    files += sf.school_files(d / "in2", [c], groups=("6B",), n=7)
    return roster, files


def _ingest(d: Path, roster: Path, files: list[Path]):
    warehouse = d / "w.duckdb"
    report = ingest_files(files, roster, warehouse=warehouse, key=sf.TEST_KEY.encode())
    outcomes = [(o.path.name, o.status, o.rows_read, o.rows_loaded, o.rows_quarantined,
                 o.message, o.row, o.column, o.warnings) for o in report.outcomes]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {name: con.execute(query).fetchall() for name, query in TABLES.items()}
    finally:
        con.close()
    # Paths differ between the two runs only by the folder itself.
    return repr(outcomes).replace(str(d), "<dir>"), repr(tables).replace(str(d), "<dir>")


@pytest.fixture(scope="module")
def one_chunk(tmp_path_factory):
    d = tmp_path_factory.mktemp("one")
    roster, files = _inputs(d)
    return _ingest(d, roster, files)


def test_one_chunk_is_what_the_files_say(one_chunk):
    outcomes, _ = one_chunk
    assert "('copy_of_a_7b.csv', 'skipped'" in outcomes
    assert "('unknown_school.csv', 'rejected'" in outcomes
    assert "('a_7a_corrected.csv', 'loaded', 9, 9, 0" in outcomes
    assert "('c_5a.csv', 'loaded', 8, 7, 1" in outcomes
    assert "('c_9a_mistanke.csv', 'loaded', 8, 8, 0" in outcomes
    assert "('c_8a_nominations.csv', 'rejected'" in outcomes


@pytest.mark.parametrize("chunk_files, chunk_bytes", [(2, 10**9), (500, 1), (3, 2_500)])
def test_chunks_store_what_one_chunk_stores(tmp_path, monkeypatch, one_chunk, chunk_files,
                                            chunk_bytes):
    monkeypatch.setattr(pipeline, "CHUNK_FILES", chunk_files)
    monkeypatch.setattr(pipeline, "CHUNK_BYTES", chunk_bytes)
    d = tmp_path / "one"  # the same folder name as the one-chunk run
    roster, files = _inputs(d)
    chunks = list(pipeline._chunks(files))
    assert len(chunks) > 2, "the settings must cut the files into several chunks"
    assert [p for c in chunks for p in c] == files
    outcomes, tables = _ingest(d, roster, files)
    expected_outcomes, expected_tables = one_chunk
    assert outcomes == expected_outcomes
    assert tables == expected_tables
