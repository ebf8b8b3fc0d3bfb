"""The publish path under an unlucky operator: the published file keeps its mode and owner (a new
one is 0600, and so is every private copy); a full disk or SIGTERM during a write leaves no copy
and the old warehouse; a DuckDB file of another program is refused, never adopted, while a
warehouse written before the schema marker existed still opens."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import spekter_factory as sf
from typer.testing import CliRunner

from lmp_analytics.cli import app
from lmp_analytics.errors import WarehouseError
from lmp_analytics.pipeline import ingest_files
from lmp_analytics.warehouse import publish
from lmp_analytics.warehouse.publish import SCHEMA_MARKER, write_session

ORG = "974590123"
ROOT = Path(__file__).resolve().parents[2]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _names(directory: Path) -> list[str]:
    """The files in ``directory``, without an audit log (its own append-only file)."""
    return sorted(p.name for p in directory.iterdir() if not p.name.endswith(".audit.jsonl"))


@pytest.fixture
def setup(tmp_path, key):
    roster = sf.write_roster(tmp_path / "ref")
    warehouse = tmp_path / "wh" / "w.duckdb"
    first = sf.school_files(tmp_path / "in1", [ORG], groups=("7A",), n=5)
    assert ingest_files(first, roster, warehouse=warehouse, key=key).published
    more = sf.school_files(tmp_path / "in2", ["974590247"], groups=("7B",), n=5)
    return roster, warehouse, more


# --------------------------------------------------------------------------------------------
# Mode and owner


def test_a_new_warehouse_and_every_private_copy_are_0600(tmp_path, key):
    old = os.umask(0o022)   # the usual umask: files would be 0644
    try:
        roster = sf.write_roster(tmp_path / "ref")
        files = sf.school_files(tmp_path / "in", [ORG], groups=("7A",), n=5)
        warehouse = tmp_path / "wh" / "w.duckdb"
        seen: dict[str, int] = {}

        def look(con) -> None:   # inside the write session, before publishing
            for p in warehouse.parent.glob(".w.duckdb.*"):
                seen[p.name] = _mode(p)

        assert ingest_files(files, roster, warehouse=warehouse, key=key,
                            after_load=look).published
    finally:
        os.umask(old)
    assert _mode(warehouse) == 0o600
    assert seen and set(seen.values()) == {0o600}, seen


@pytest.mark.parametrize("mode", [0o600, 0o640])
def test_publish_keeps_the_mode_of_the_published_file(setup, key, mode):
    roster, warehouse, more = setup
    os.chmod(warehouse, mode)
    old = os.umask(0o022)
    try:
        assert ingest_files(more, roster, warehouse=warehouse, key=key).published
    finally:
        os.umask(old)
    assert _mode(warehouse) == mode


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file another owner")
def test_publish_keeps_the_owner_and_group_of_the_published_file(setup, key):
    roster, warehouse, more = setup
    os.chown(warehouse, 12345, 23456)
    assert ingest_files(more, roster, warehouse=warehouse, key=key).published
    st = os.stat(warehouse)
    assert (st.st_uid, st.st_gid) == (12345, 23456)


# --------------------------------------------------------------------------------------------
# Full disk and SIGTERM


@pytest.mark.parametrize("copier", ["kernel", "python"])
def test_a_full_disk_at_the_copy_leaves_no_partial_copy(setup, key, monkeypatch, copier):
    roster, warehouse, more = setup
    sha = _sha(warehouse)

    def no_clone(*args):
        raise OSError(errno.EOPNOTSUPP, "no reflink here")

    def half_then_full(src, dst, length=0):
        dst.write(src.read(os.path.getsize(warehouse) // 2))
        dst.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    real_range = os.copy_file_range
    calls = []

    def kernel_half_then_full(src_fd, dst_fd, count, *args):
        calls.append(count)
        if len(calls) == 1:  # half the file, then the disk is full
            return real_range(src_fd, dst_fd, os.path.getsize(warehouse) // 2)
        raise OSError(errno.ENOSPC, "No space left on device")

    def no_kernel_copy(*args):
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(publish.fcntl, "ioctl", no_clone)
    if copier == "kernel":
        monkeypatch.setattr(publish.os, "copy_file_range", kernel_half_then_full)
        monkeypatch.setattr(publish.shutil, "copyfileobj", None)  # never falls back after a byte
    else:  # a file system pair copy_file_range cannot serve: the copy goes through Python
        monkeypatch.setattr(publish.os, "copy_file_range", no_kernel_copy)
        monkeypatch.setattr(publish.shutil, "copyfileobj", half_then_full)
    with pytest.raises(WarehouseError, match="no space left") as info:
        ingest_files(more, roster, warehouse=warehouse, key=key)
    assert "unchanged" in str(info.value)
    assert _names(warehouse.parent) == ["w.duckdb", "w.duckdb.lock"]
    assert _sha(warehouse) == sha


def test_a_full_disk_while_compacting_leaves_no_copy(setup, monkeypatch):
    _, warehouse, _ = setup
    sha = _sha(warehouse)
    real = publish.compact_copy

    def full(src, dst, spill):
        real(src, dst, spill)   # a whole copy exists, then the disk is full
        spill.mkdir(exist_ok=True)
        (spill / "spill.block").write_bytes(b"x" * 100)
        raise duckdb.IOException("Could not write file: No space left on device")

    monkeypatch.setattr(publish, "compact_copy", full)
    with (pytest.raises(WarehouseError, match="twice that for forget and retention"),
          write_session(warehouse, erase=True) as session):
        session.con.execute("DELETE FROM fct_response")
    assert _names(warehouse.parent) == ["w.duckdb", "w.duckdb.lock"]
    assert _sha(warehouse) == sha


WRITER = """
import sys, time
from lmp_analytics.warehouse.publish import write_session
with write_session(sys.argv[1]) as session:
    session.con.execute("CREATE TABLE scratch AS SELECT range AS v FROM range(100000)")
    print("WRITING", flush=True)
    if sys.argv[2] == "sleep":
        time.sleep(120)
    else:   # a long query: DuckDB is inside C code when the signal arrives
        session.con.execute("SELECT sum(a.range * b.range) FROM range(100000000) a, "
                            "range(1000) b").fetchall()
print("NOT REACHED", flush=True)
"""


@pytest.mark.parametrize("during", ["sleep", "query"])
def test_sigterm_during_a_write_removes_the_private_copy(setup, tmp_path, during):
    _, warehouse, _ = setup
    sha = _sha(warehouse)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(script), str(warehouse), during], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "WRITING", proc.stderr.read()
        assert any(p.name.endswith(".tmp") for p in warehouse.parent.iterdir())
        if during == "query":
            import time
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGTERM, (out, err)   # ended by the signal, as before
    assert "NOT REACHED" not in out
    assert _names(warehouse.parent) == ["w.duckdb", "w.duckdb.lock"]
    assert _sha(warehouse) == sha


# --------------------------------------------------------------------------------------------
# Whose file is it


def _cli_env(tmp_path: Path) -> dict[str, str]:
    roles = tmp_path / "roles.toml"
    roles.write_text("[users]\n", encoding="utf-8")
    return {"LMP_PSEUDONYM_KEY": sf.TEST_KEY, "LMP_PSEUDONYM_KEY_FILE": str(tmp_path / "n.key"),
            "LMP_ROLES": str(roles)}


@pytest.mark.parametrize("content", ["other program", "empty database"])
def test_a_duckdb_file_of_another_program_is_refused(tmp_path, content, wide_console):
    roster = sf.write_roster(tmp_path / "ref")
    files = sf.school_files(tmp_path / "in", [ORG], groups=("7A",), n=5)
    foreign = tmp_path / "theirs" / "crm.duckdb"
    foreign.parent.mkdir()
    with duckdb.connect(str(foreign)) as con:
        if content == "other program":
            con.execute("CREATE TABLE customers (id INTEGER, name VARCHAR)")
            con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")   # not ours either
            con.execute("INSERT INTO customers VALUES (1, 'Kari')")
        else:
            con.execute("CREATE TABLE t (x INTEGER)")
            con.execute("DROP TABLE t")
    sha = _sha(foreign)
    ids = tmp_path / "ids.txt"
    ids.write_text("elev@example.no\n", encoding="utf-8")
    runner = CliRunner()
    for args in (["ingest", *map(str, files), "--roster", str(roster)],
                 ["forget", "--elev-id-file", str(ids)],
                 ["retention", "--before", "2024H", "--yes"],
                 ["status"]):
        result = runner.invoke(app, [*args, "-w", str(foreign)], env=_cli_env(tmp_path))
        assert result.exit_code == 2, (args, result.output, result.exception)
        assert "not a warehouse of lmp_analytics" in result.output, (args, result.output)
        assert _sha(foreign) == sha, args
        assert _names(foreign.parent) in (["crm.duckdb"], ["crm.duckdb", "crm.duckdb.lock"])


def test_a_warehouse_from_before_the_schema_marker_still_opens(setup, key, snapshot):
    roster, warehouse, more = setup
    assert dict(snapshot(warehouse)["meta"])[SCHEMA_MARKER[0]] == SCHEMA_MARKER[1]
    with duckdb.connect(str(warehouse)) as con:     # as the package wrote it before the marker
        con.execute("DELETE FROM meta WHERE key = ?", [SCHEMA_MARKER[0]])
    assert SCHEMA_MARKER[0] not in dict(snapshot(warehouse)["meta"])
    assert ingest_files(more, roster, warehouse=warehouse, key=key).published
    assert dict(snapshot(warehouse)["meta"])[SCHEMA_MARKER[0]] == SCHEMA_MARKER[1]


@pytest.fixture
def small_disk(tmp_path):
    """A real small file system (tmpfs) of the size asked for, unmounted afterwards."""
    mounted: list[Path] = []

    def make(megabytes: int) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs",
                               str(point)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the injected "
                        "ENOSPC tests above cover the same code path")
        mounted.append(point)
        return point

    yield make
    for point in mounted:
        subprocess.run(["umount", str(point)], check=False)


@pytest.mark.parametrize(("megabytes", "stage"), [
    (9, OSError),                    # no room for the private copy
    (16, duckdb.FatalException),     # the copy fits; DuckDB's checkpoint of it does not
])
def test_a_real_full_disk_during_forget_leaves_the_old_warehouse_alone(setup, key, small_disk,
                                                                       megabytes, stage):
    from lmp_analytics.jobs import build_derived
    from lmp_analytics.warehouse.erasure import forget_pupil

    roster, warehouse, more = setup
    assert ingest_files(more, roster, warehouse=warehouse, key=key).published
    disk = small_disk(megabytes)
    target = disk / "w.duckdb"
    filler = disk / "filler"   # leaves a little more than the warehouse free, not twice it
    free = megabytes * 2**20 - 2 * os.path.getsize(warehouse) - 512 * 1024
    if free > 0:
        filler.write_bytes(b"\0" * free)
    shutil.copyfile(warehouse, target)
    sha = _sha(target)
    with pytest.raises(WarehouseError, match="no space left") as info:
        forget_pupil(sf.pupil_id(ORG, "7A", 0), key=key, warehouse=target,
                     rebuild=build_derived)
    assert type(info.value.__cause__) is stage
    assert sorted(set(_names(disk)) - {"filler"}) == ["w.duckdb", "w.duckdb.lock"]
    assert _sha(target) == sha
