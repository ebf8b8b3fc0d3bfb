"""The audit log: every command that writes numbers to a file leaves one line with the OS user
and host; the log is an append-only file beside the warehouse, so recording never republishes
the warehouse and exports never wait for a writer; no line for an output that was not written
and no output without its line."""

from __future__ import annotations

import fcntl
import getpass
import json
import multiprocessing
import shutil
import socket
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from lmp_analytics.cli import app
from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.ingest.protect import write_key_file

ROSTER = SAMPLE_DIR / "program.csv"


def lmp(*args: str | Path, **env: str):
    return CliRunner().invoke(app, [str(a) for a in args], env=env or None)


pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("audit")
    wh = root / "w.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(SAMPLE_DIR), "--roster", str(ROSTER), "-w",
                                      str(wh), "--key-file", str(write_key_file(root / "k.key"))],
                                env={"LMP_MIN_N": "", "LMP_PSEUDONYM_KEY": ""})
    assert result.exit_code == 0, result.output
    return wh


@pytest.fixture
def warehouse(built, tmp_path) -> Path:
    copy = tmp_path / "wh" / "w.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(built, copy)
    return copy


def lines(warehouse: Path) -> list[dict]:
    log = warehouse.with_name("w.audit.jsonl")
    if not log.exists():
        return []
    return [json.loads(t) for t in log.read_text(encoding="utf-8").splitlines()]


def _published(path: Path) -> tuple[int, int, bytes]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, path.read_bytes()


def test_an_export_records_who_ran_it_and_does_not_republish(warehouse, tmp_path):
    before = _published(warehouse)
    out = tmp_path / "out" / "e.csv"
    result = lmp("export", "--out", out, "-w", warehouse, "--role", "kommune:0301")
    assert result.exit_code == 0, result.output
    assert _published(warehouse) == before  # the publication (and its time) did not move
    [line] = lines(warehouse)
    assert line["user"] == getpass.getuser() and line["host"] == socket.gethostname()
    assert (line["role"], line["action"], line["status"]) == ("kommune:0301", "export", "done")
    assert line["outputs"] == [str(out.resolve())] and line["min_n"] == 10
    assert warehouse.with_name("w.audit.jsonl").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in out.parent.iterdir()) == ["e.csv"]  # no temporary file left


def test_exports_do_not_wait_for_a_writer(warehouse, tmp_path):
    lock = warehouse.with_name(warehouse.name + ".lock")
    with open(lock, "a+") as fh:  # another process is writing (an ingest holds this lock)
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = lmp("export", "--out", tmp_path / "e.csv", "-w", warehouse)
    assert result.exit_code == 0, result.output
    assert [e["action"] for e in lines(warehouse)] == ["export"]


def test_indicators_and_compare_written_to_a_file_are_audited(warehouse, tmp_path):
    out = tmp_path / "i.csv"
    assert lmp("indicators", "--format", "csv", "--out", out, "-w", warehouse).exit_code == 0
    assert lmp("compare", "--format", "parquet", "--out", tmp_path / "c.parquet", "-w",
               warehouse).exit_code == 0
    assert lmp("indicators", "-w", warehouse).exit_code == 0  # a table on screen: no file
    logged = lines(warehouse)
    assert [(e["action"], e["outputs"]) for e in logged] == [
        ("indicators", [str(out.resolve())]),
        ("compare", [str((tmp_path / "c.parquet").resolve())])]
    assert all(e["user"] == getpass.getuser() for e in logged)


def test_no_line_for_an_output_not_written_and_no_output_without_a_line(warehouse, tmp_path,
                                                                       monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    failed = lmp("export", "--out", blocker / "e.csv", "-w", warehouse)
    assert failed.exit_code == 2 and "a-file" in failed.output
    assert lines(warehouse) == []
    # the log cannot be written: the export is refused and leaves no file
    log = warehouse.with_name("w.audit.jsonl")
    log.mkdir()
    out = tmp_path / "e.csv"
    refused = lmp("export", "--out", out, "-w", warehouse)
    assert refused.exit_code != 0
    assert not out.exists() and list(tmp_path.glob(".e.csv*")) == []
    log.rmdir()
    # --out that is a folder is refused before any work: no line
    taken = tmp_path / "taken"
    (taken / "inside").mkdir(parents=True)
    assert lmp("export", "--out", taken, "-w", warehouse).exit_code == 2
    assert lines(warehouse) == []
    # the output cannot be put in place after its line: a 'failed' line follows
    from lmp_analytics.warehouse import audit

    def no_rename(src, dst):
        raise OSError(5, "Input/output error", str(dst))

    with monkeypatch.context() as patched:
        patched.setattr(audit.os, "replace", no_rename)
        assert lmp("export", "--out", tmp_path / "late.csv", "-w", warehouse).exit_code != 0
    assert not (tmp_path / "late.csv").exists() and list(tmp_path.glob(".late.csv*")) == []
    assert [e["status"] for e in lines(warehouse)] == ["done", "failed"]


def _append_many(args: tuple[str, int]) -> None:
    from lmp_analytics.warehouse.audit import record

    warehouse, worker = args
    for i in range(25):
        record("export", role=f"w{worker}", detail=f"{i} " + "x" * 300, warehouse=warehouse)


def test_parallel_appends_keep_every_line_whole(warehouse):
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_append_many, [(str(warehouse), w) for w in range(8)])
    logged = lines(warehouse)  # every line parses
    assert len(logged) == 200
    assert sorted((e["role"], int(e["detail"].split()[0])) for e in logged) == sorted(
        (f"w{w}", i) for w in range(8) for i in range(25))


def test_lmp_audit_lists_the_log_and_an_older_warehouses_table(warehouse, tmp_path):
    from lmp_analytics.warehouse.erasure import apply_retention

    with duckdb.connect(str(warehouse)) as con:  # a row written by an earlier version
        con.execute("INSERT INTO audit_log VALUES (TIMESTAMP '2025-01-02 03:04:05', 'program', "
                    "'export', 'level=school', 'old row')")
    assert lmp("export", "--out", tmp_path / "e.csv", "-w", warehouse).exit_code == 0
    apply_retention("2020H", warehouse=warehouse)
    result = lmp("audit", "--json", "-w", warehouse)
    assert result.exit_code == 0, result.output
    listed = [json.loads(t) for t in result.output.splitlines()]
    assert [(e["source"], e["action"]) for e in listed] == [
        ("table", "export"), ("log", "export"), ("log", "retention")]
    assert listed[0]["detail"] == "old row" and listed[0]["user"] is None
    assert listed[2]["user"] == getpass.getuser()
    shown = lmp("audit", "-w", warehouse)
    assert "retention" in shown.output and f"{getpass.getuser()}@" in shown.output
    status = " ".join(lmp("status", "-w", warehouse).output.split())
    assert "w.audit.jsonl (3 entries" in status and "threshold (min_n) 10" in status
