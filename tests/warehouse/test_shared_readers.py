"""The process's shared read instances (``lmp_analytics.warehouse.shared``, turned on by
``sharing()`` as the dashboard's data layer does): reads of one version share one instance; a
new publish is read at once; threads read one instance side by side; outside ``sharing()`` a
read has a connection of its own (a writer of the same path in the same process is not
refused); and, attacked, an erased version is not held open: after ``lmp forget`` and the
linger, no descriptor of this process points at a file that holds the erased pupil's
pseudonym."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import duckdb
import pytest

import lmp_analytics.warehouse as warehouse
from lmp_analytics import api
from lmp_analytics.config import SAMPLE_DIR
from lmp_analytics.ingest.protect import pseudonym
from lmp_analytics.jobs import build_derived, ingest_and_build
from lmp_analytics.warehouse import reading
from lmp_analytics.warehouse.erasure import forget_pupil
from lmp_analytics.warehouse.shared import readers, sharing

KEY = "shared-readers-key-0123456789abcdef0123456789"
PUPIL = "elev1235a00@feide.example.no"  # in both sample rounds


@pytest.fixture(autouse=True)
def _fresh_pool():
    readers.close_all()
    with sharing():
        yield
    readers.close_all()


def _file(path: Path, value: int) -> Path:
    """A small DuckDB file with one table ``t(v)`` holding ``value``, published atomically."""
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    con.execute("CREATE TABLE t AS SELECT ? AS v", [value])
    con.close()
    os.replace(tmp, path)
    return path


def _count_opens(monkeypatch) -> list[Path]:
    opened: list[Path] = []
    real = warehouse.connect

    def counting(path=None):
        opened.append(Path(path))
        return real(path)

    monkeypatch.setattr(warehouse, "connect", counting)
    return opened


def test_reads_of_one_version_share_one_instance(tmp_path, monkeypatch):
    path = _file(tmp_path / "w.duckdb", 1)
    opened = _count_opens(monkeypatch)
    for _ in range(5):
        with reading(path) as con:
            assert con.sql("SELECT v FROM t").fetchall() == [(1,)]
    assert len(opened) == 1


def test_a_new_publish_is_read_at_once_and_an_open_read_keeps_its_version(tmp_path, monkeypatch):
    path = _file(tmp_path / "w.duckdb", 1)
    opened = _count_opens(monkeypatch)
    with reading(path) as old:
        assert old.sql("SELECT v FROM t").fetchall() == [(1,)]
        _file(path, 2)                               # published while the read is open
        with reading(path) as new:
            assert new.sql("SELECT v FROM t").fetchall() == [(2,)]
        assert old.sql("SELECT v FROM t").fetchall() == [(1,)]
    with reading(path) as con:
        assert con.sql("SELECT v FROM t").fetchall() == [(2,)]
    assert len(opened) == 2


def test_a_read_keeps_its_temporary_objects_to_itself(tmp_path):
    path = _file(tmp_path / "w.duckdb", 1)
    with reading(path) as a, reading(path) as b:
        a.execute("CREATE TEMP TABLE mine AS SELECT 1 AS x")
        with pytest.raises(duckdb.CatalogException):
            b.sql("SELECT * FROM mine").fetchall()


def test_threads_read_one_instance_side_by_side(tmp_path, monkeypatch):
    path = _file(tmp_path / "w.duckdb", 7)
    opened = _count_opens(monkeypatch)
    with reading(path) as con:      # the instance exists before the threads start
        con.sql("SELECT 1").fetchall()
    results: list[object] = []

    def read() -> None:          # a thread starts outside sharing(): each turns it on
        with sharing():
            for _ in range(20):
                with reading(path) as con:
                    results.append(con.sql("SELECT sum(v) FROM range(1000), t").fetchall()[0][0])

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [7000] * 160
    assert len(opened) == 1


def test_an_idle_instance_is_closed_after_the_linger(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "linger", 0.2)
    path = _file(tmp_path / "w.duckdb", 1)
    with reading(path) as con:
        con.sql("SELECT v FROM t").fetchall()
    assert _fds_of(path)
    _wait(lambda: not _fds_of(path))


def _fds_of(path: Path) -> list[str]:
    """This process's open descriptors of ``path`` (also after it was unlinked)."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").removesuffix(" (deleted)") == str(path):
                out.append(fd)
        except OSError:
            continue
    return out


def _wait(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "still true after the wait"
        time.sleep(0.05)


def test_an_erased_version_is_not_held_open(tmp_path, monkeypatch):
    """The attack: a reader of this process read the warehouse (its instance holds the file)
    when ``lmp forget`` erases a pupil. The erased version's file is replaced (unlinked), and
    the instance that held it is closed within the linger: afterwards no descriptor of this
    process reaches a file holding the pupil's pseudonym (an unlinked file's bytes stay
    readable through /proc while a descriptor is open)."""
    monkeypatch.setattr(readers, "linger", 0.3)
    path = tmp_path / "w.duckdb"
    report = ingest_and_build([SAMPLE_DIR], SAMPLE_DIR / "program.csv", warehouse=path,
                              key=KEY.encode())
    assert report.exit_code == 0
    needle = pseudonym(KEY.encode(), PUPIL).encode()
    assert api.indicators("skole", warehouse=path).height > 0       # the instance is open
    assert _fds_of(path) and all(needle in Path(f"/proc/self/fd/{fd}").read_bytes()
                        for fd in _fds_of(path))
    forget_pupil(PUPIL, key=KEY.encode(), warehouse=path, rebuild=build_derived)

    def erased_held() -> bool:
        return any(needle in Path(f"/proc/self/fd/{fd}").read_bytes() for fd in _fds_of(path))

    _wait(lambda: not erased_held())
    assert api.indicators("skole", warehouse=path).height > 0       # the new version reads


def test_outside_sharing_a_read_has_its_own_connection_and_a_writer_is_not_refused(tmp_path,
                                                                                  monkeypatch):
    path = _file(tmp_path / "w.duckdb", 1)
    readers.close_all()
    opened = _count_opens(monkeypatch)
    with sharing(), reading(path) as con:
        con.sql("SELECT v FROM t").fetchall()
    readers.close_all()          # the shared instance is closed (as after the linger)
    done = threading.Event()

    def outside() -> None:       # a new thread starts outside sharing()
        for _ in range(2):
            with reading(path) as con:
                assert con.sql("SELECT v FROM t").fetchall() == [(1,)]
        with duckdb.connect(str(path)) as writer:     # the same path, read-write
            writer.execute("UPDATE t SET v = 3")
        done.set()

    thread = threading.Thread(target=outside)
    thread.start()
    thread.join()
    assert done.is_set()
    assert len(opened) == 3
