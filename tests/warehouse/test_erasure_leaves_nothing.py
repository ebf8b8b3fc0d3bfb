"""Erasure that erases, attacked at the byte level: after ``forget`` / ``retention`` no byte of any
file beside the warehouse holds an erased pseudonym (not the published file's free blocks, not a
reader snapshot, not a writer's leftover copy); the verification fails loudly when one does; ids
never come from argv; retention shows its plan and needs ``--yes``; a future term is refused.
(A live dashboard session during ``forget`` is in tests/dashboards/test_erasure_live.py.)"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from lmp_analytics.cli import app
from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.errors import TermError
from lmp_analytics.ingest.protect import pseudonym
from lmp_analytics.jobs import build_derived, ingest_and_build
from lmp_analytics.warehouse import erasure
from lmp_analytics.warehouse.erasure import (
    ErasureNotVerified,
    apply_retention,
    forget_pupil,
    plan_retention,
)

KEY = "erasure-test-key-0123456789abcdef0123456789"
PUPIL = "elev1235a00@feide.example.no"  # in both sample rounds, group 5A of 974590123


def _holders(directory: Path, needles: set[bytes]) -> dict[str, int]:
    """Every file under ``directory`` holding a needle: name -> number of needles found."""
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            blob = path.read_bytes()
            n = sum(1 for needle in needles if needle in blob)
            if n:
                out[path.name] = n
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("erasure_base") / "w.duckdb"
    report = ingest_and_build([SAMPLE_DIR], SAMPLE_DIR / "program.csv", warehouse=path,
                              key=KEY.encode())
    assert report.exit_code == 0
    return path


@pytest.fixture
def warehouse(base, tmp_path) -> Path:
    path = tmp_path / "wh" / "w.duckdb"
    path.parent.mkdir()
    shutil.copyfile(base, path)
    return path


def _pupils_by_term(path: Path) -> dict[str, set[str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT term, elev FROM fct_response").fetchall()
    out: dict[str, set[str]] = {}
    for term, elev in rows:
        out.setdefault(term, set()).add(elev)
    return out


def test_forget_leaves_no_byte_of_the_pupil_in_the_published_file(warehouse):
    pid = pseudonym(KEY.encode(), PUPIL).encode()
    assert _holders(warehouse.parent, {pid}) == {"w.duckdb": 1}   # the scan can see it
    others = {p.encode() for p in _pupils_by_term(warehouse)["2025V"]} - {pid}
    forget_pupil(PUPIL, key=KEY.encode(), warehouse=warehouse, rebuild=build_derived)
    assert _holders(warehouse.parent, {pid}) == {}                 # not even in a free block
    assert _holders(warehouse.parent, others)["w.duckdb"] == len(others)  # the rest is kept


def test_forget_deletes_reader_snapshots_and_leftover_copies(warehouse):
    """The dashboard's hard links of the old version and a killed writer's private copy are
    files beside the warehouse that hold the pupil: all are gone after forget."""
    pid = pseudonym(KEY.encode(), PUPIL).encode()
    st = os.stat(warehouse)
    os.link(warehouse, warehouse.with_name(f"w.duckdb.read-{st.st_ino}-{st.st_mtime_ns}"))
    os.link(warehouse, warehouse.with_name("w.duckdb.read-tmp-4242-1"))   # a link being made
    shutil.copyfile(warehouse, warehouse.with_name(".w.duckdb.4242.tmp"))
    assert len(_holders(warehouse.parent, {pid})) == 4
    result = forget_pupil(PUPIL, key=KEY.encode(), warehouse=warehouse, rebuild=build_derived)
    assert _holders(warehouse.parent, {pid}) == {}
    assert sorted(p.name for p in warehouse.parent.iterdir()
                  if not p.name.endswith(".audit.jsonl")) == ["w.duckdb", "w.duckdb.lock"]
    assert result.snapshots == 2 and result.found == 1 and result.responses == 2


def test_verification_fails_loudly_when_a_file_beside_still_holds_the_pupil(warehouse):
    pid = pseudonym(KEY.encode(), PUPIL)
    shutil.copyfile(warehouse, warehouse.with_name("w.duckdb.bak"))   # an operator's copy
    with pytest.raises(ErasureNotVerified, match=r"w\.duckdb\.bak") as info:
        forget_pupil(PUPIL, key=KEY.encode(), warehouse=warehouse, rebuild=build_derived)
    assert pid not in str(info.value) and PUPIL not in str(info.value)
    # The published file itself is clean; only the copy is named.
    assert f"still in: file {warehouse.with_name('w.duckdb.bak')}." in str(info.value)
    assert _holders(warehouse.parent, {pid.encode()}) == {"w.duckdb.bak": 1}


def test_verification_finds_pseudonyms_in_any_byte_and_any_table(warehouse, monkeypatch):
    pupils = sorted(_pupils_by_term(warehouse)["2025V"])
    assert len(pupils) > 8          # many needles: the Aho-Corasick path
    monkeypatch.setattr(erasure, "SCAN_CHUNK", 4096)
    stray = warehouse.with_name(".w.duckdb.spill")
    needle = pupils[17]
    stray.write_bytes(b"\0" * 4090 + needle.encode() + b"\xff" * 100)   # across a chunk edge
    found = erasure.scan_files([stray, warehouse], pupils)
    assert found[stray] == {needle}
    assert found[warehouse] == set(pupils)
    assert erasure.scan_files([stray], pupils[:3]) == {}
    with pytest.raises(ErasureNotVerified) as info:
        erasure.verify_erased(warehouse, [needle])
    assert "table fct_response.elev" in str(info.value) and "spill" in str(info.value)


def test_retention_leaves_no_byte_of_the_deleted_rounds_pupils(warehouse):
    by_term = _pupils_by_term(warehouse)
    only_old = {p.encode() for p in by_term["2024H"] - by_term["2025V"]}
    kept = {p.encode() for p in by_term["2025V"]}
    assert only_old and _holders(warehouse.parent, only_old)["w.duckdb"] == len(only_old)
    st = os.stat(warehouse)
    os.link(warehouse, warehouse.with_name(f"w.duckdb.read-{st.st_ino}-{st.st_mtime_ns}"))
    result = apply_retention("2025V", warehouse=warehouse, rebuild=build_derived)
    assert result.rounds == 4 and result.snapshots == 1
    assert _holders(warehouse.parent, only_old) == {}
    assert _holders(warehouse.parent, kept)["w.duckdb"] == len(kept)


def test_retention_plan_and_future_terms(warehouse):
    plan = plan_retention("2025V", warehouse=warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = con.execute(
            "SELECT count(DISTINCT round_id), count(DISTINCT skole_orgnr), count(*) "
            "FROM fct_response WHERE term = '2024H'").fetchall()[0]
    assert plan["term"].to_list() == ["2024H"]
    assert plan.select("rounds", "schools", "responses").row(0) == expected
    assert plan_retention("2024H", warehouse=warehouse).height == 0
    sha = _sha(warehouse)
    import datetime as dt

    from lmp_analytics.terms import shift_term, term_of_date

    next_term = shift_term(term_of_date(dt.date.today()), 1)
    for term in ("2099H", next_term):
        with pytest.raises(TermError, match="future term"):
            apply_retention(term, warehouse=warehouse, rebuild=build_derived)
    with pytest.raises(TermError, match="future term"):
        plan_retention("2025H", warehouse=warehouse, today=dt.date(2025, 3, 1))
    assert _sha(warehouse) == sha


# --------------------------------------------------------------------------------------------
# The commands


@pytest.fixture
def cli_env(tmp_path):
    (tmp_path / "no-roles.toml").write_text("[users]\n", encoding="utf-8")
    return {"LMP_PSEUDONYM_KEY": KEY, "LMP_PSEUDONYM_KEY_FILE": str(tmp_path / "none.key"),
            "LMP_ROLES": str(tmp_path / "no-roles.toml")}


def test_forget_reads_ids_from_standard_input_or_a_file(warehouse, cli_env, tmp_path, snapshot):
    runner = CliRunner()
    ok = runner.invoke(app, ["forget", "--elev-id-file", "-", "-w", str(warehouse)],
                       input=f"\n{PUPIL}\n\n", env=cli_env)
    assert ok.exit_code == 0, ok.output
    assert "of 1 of 1 pupil(s)" in ok.output and "source exports" in ok.output
    pid = pseudonym(KEY.encode(), PUPIL)
    assert pid not in {r[9] for r in snapshot(warehouse)["fct_response"]}

    other = next(iter(_pupils_by_term(warehouse)["2025V"]))
    assert other != pid
    ids = tmp_path / "ids.txt"
    ids.write_text("\ufeffnobody@example.no\n", encoding="utf-8")
    none = runner.invoke(app, ["forget", "--elev-id-file", str(ids), "-w", str(warehouse)],
                         env=cli_env)
    assert none.exit_code == 0 and "No rows of those pupils" in none.output

    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    for args in (["--elev-id-file", str(empty)], [],
                 ["--elev-id-file", str(tmp_path / "missing.txt")]):
        bad = runner.invoke(app, ["forget", *args, "-w", str(warehouse)], env=cli_env)
        assert bad.exit_code == 2, bad.output
        assert "id" in bad.output


def test_forget_with_an_id_on_the_command_line_warns(warehouse, cli_env):
    result = CliRunner().invoke(app, ["forget", "--elev-id", PUPIL, "-w", str(warehouse)],
                                env=cli_env)
    assert result.exit_code == 0, result.output
    assert "process" in result.output and "shell history" in result.output
    assert "--elev-id-file" in result.output


def test_retention_shows_the_plan_and_needs_yes(warehouse, cli_env, snapshot):
    runner = CliRunner()
    sha = _sha(warehouse)
    asked = runner.invoke(app, ["retention", "--before", "2025V", "-w", str(warehouse)],
                          env=cli_env)
    assert asked.exit_code == 2, asked.output
    assert "2024H" in asked.output and "--yes" in asked.output and "total" in asked.output
    dry = runner.invoke(app, ["retention", "--before", "2025V", "--dry-run", "-w",
                              str(warehouse)], env=cli_env)
    assert dry.exit_code == 0 and "nothing was deleted" in dry.output.lower()
    future = runner.invoke(app, ["retention", "--before", "2099H", "--yes", "-w",
                                 str(warehouse)], env=cli_env)
    assert future.exit_code == 2 and "future term" in future.output
    assert _sha(warehouse) == sha                  # nothing was deleted by any of these

    done = runner.invoke(app, ["retention", "--before", "2025V", "--yes", "-w",
                               str(warehouse)], env=cli_env)
    assert done.exit_code == 0, done.output
    assert "Deleted 4 round(s)" in done.output
    assert {r[2] for r in snapshot(warehouse)["fct_response"]} == {"2025V"}
    again = runner.invoke(app, ["retention", "--before", "2025V", "-w", str(warehouse)],
                          env=cli_env)
    assert again.exit_code == 0 and "nothing to delete" in again.output
