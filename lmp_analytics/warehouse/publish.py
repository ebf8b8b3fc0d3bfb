"""Atomic publish: every write goes to a private copy that replaces the warehouse in one rename.

DuckDB allows one writer process *or* many readers on a file, never both. So a writer copies the
published file, changes the copy inside one transaction, checkpoints it and ``os.replace``-s it
into place. Readers (dashboards, notebooks) open short-lived read-only connections and see either
the old or the new file, never a half-written one. An exclusive ``flock`` keeps two writers apart.

The private copy is removed on every failure path: an exception, a full disk (no partial copy is
left) and SIGTERM (a handler turns it into an exception inside the session, then re-delivers the
signal). Only SIGKILL leaves a stray ``.tmp`` copy, which the next writer removes.

Files: the private copy and everything DuckDB makes beside it are created 0600 (the session runs
under umask 077); the published file keeps the mode and, where the writer may, the owner and group
of the file it replaces; a new warehouse is 0600. An ``erase`` session (erasure, retention)
publishes a fresh file made with ``COPY FROM DATABASE``: DuckDB reuses but never wipes the blocks
of deleted rows, so only a rewritten file is free of them; it then deletes every reader snapshot.

Only warehouses of this package are written: a ``meta`` row ``schema = lmp_analytics`` marks them
(see :func:`check_ours`); an existing DuckDB file without it is refused, never adopted.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lmp_analytics.errors import DiskFullError, WarehouseError
from lmp_analytics.presentation.messages import message, refusal
from lmp_analytics.warehouse import build, ddl, meta
from lmp_analytics.warehouse.queries import named, sql
from lmp_analytics.warehouse.snapshots import remove_reader_snapshots

SCHEMA_VERSION = "1"
SCHEMA_MARKER = ("schema", "lmp_analytics")
"""The ``meta`` row (key, value) that marks a DuckDB file as a warehouse of this package."""
NEW_FILE_MODE = 0o600
"""Mode of a new warehouse (pupil-level data: readable by its owner only)."""


@dataclass
class WriteSession:
    """An open private copy. Call :meth:`discard` to leave the published warehouse untouched.

    ``existed``: whether a published warehouse existed when the session started.
    ``removed_snapshots``: the reader links an ``erase`` session deleted after publishing.
    """

    con: duckdb.DuckDBPyConnection
    path: Path
    publish: bool = True
    existed: bool = True
    removed_snapshots: list[Path] = field(default_factory=list)

    def discard(self) -> None:
        self.publish = False


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table that does not exist yet and record ``schema_version``. A warehouse
    written under another version has its derived tables' build state forgotten first
    (:func:`lmp_analytics.warehouse.build.check_schema_version`): the next build rebuilds them
    all from the facts and says so."""
    con.execute(sql("schema"))
    ddl.ensure(con, "dim_indicator_item")
    build.check_schema_version(con, SCHEMA_VERSION)
    meta.put(con, build.SCHEMA_VERSION_KEY, SCHEMA_VERSION)
    meta.put(con, *SCHEMA_MARKER)


def check_ours(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a DuckDB file that is not a warehouse of this package (before anything is added).

    Ours: ``meta`` holds the marker row ``schema = lmp_analytics``; or, for warehouses written
    before the marker existed, ``meta`` holds ``schema_version`` and ``fct_response`` exists
    (the marker is added by the next write). Anything else, an empty DuckDB database included,
    belongs to someone else and is left exactly as it is.
    """
    tables = {r[0] for r in con.execute(named("publish", "main_tables")).fetchall()}
    if "meta" in tables:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        if meta.get(SCHEMA_MARKER[0]) == SCHEMA_MARKER[1]:
            return
        if "schema_version" in meta and "fct_response" in tables:
            return
    raise refusal(WarehouseError, "not_a_warehouse", path=path,
                  marker=f"{SCHEMA_MARKER[0]} = {SCHEMA_MARKER[1]}",
                  tables=", ".join(sorted(tables)[:8]) or message("refusal.no_tables"))


_FICLONE = 0x40049409  # Linux ioctl: copy-on-write clone of a whole file (btrfs, XFS, ...)


def copy_published(path: Path, tmp: Path) -> None:
    """The writer's private copy of the published file: a copy-on-write clone where the file
    system can make one (instant, whatever the size), else a full copy (on ext4 a 10-year
    national warehouse takes seconds to copy). Either way the published file is never written."""
    try:
        with open(path, "rb") as src, _private_file(tmp) as dst:
            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
        return
    except OSError:
        tmp.unlink(missing_ok=True)
    with open(path, "rb") as src, _private_file(tmp) as dst:
        if not _kernel_copy(src, dst):
            shutil.copyfileobj(src, dst, 16 << 20)


#: errno of a copy_file_range the file systems cannot do (then the copy goes through Python).
_NO_KERNEL_COPY = (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF,
                   errno.EPERM)


def _kernel_copy(src, dst) -> bool:
    """Copy ``src`` into the empty ``dst`` inside the kernel (``copy_file_range``: no bytes pass
    through Python; about half the time of a buffered copy of a large file on ext4). False when
    the kernel cannot do it before the first byte (another file system pair, an old kernel):
    the caller copies through Python then. Any other error (a full disk) is raised."""
    size = os.fstat(src.fileno()).st_size
    done = 0
    while done < size:
        try:
            n = os.copy_file_range(src.fileno(), dst.fileno(), size - done)
        except OSError as exc:
            if done == 0 and exc.errno in _NO_KERNEL_COPY:
                return False
            raise
        if n == 0:  # the file shrank under us: it never does (the writer lock), but never loop
            break
        done += n
    return True


def _private_file(path: Path):
    """A new file opened for writing, mode 0600 whatever the umask."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, NEW_FILE_MODE), "wb")


def compact_copy(src: Path, dst: Path, spill: Path) -> None:
    """Copy every table, sequence and row of the warehouse ``src`` into the new file ``dst``.

    ``COPY FROM DATABASE`` writes only live rows into fresh blocks: no block of ``dst`` ever held
    a deleted row (DuckDB's documented way to reclaim space; VACUUM does not). ``spill``: the
    folder DuckDB may spill to (beside the warehouse; removed by the caller).
    """
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET temp_directory = ?", [str(spill)])
        con.execute("ATTACH ? AS lmp_src (READ_ONLY)", [str(src)])
        con.execute("ATTACH ? AS lmp_dst", [str(dst)])
        con.execute("COPY FROM DATABASE lmp_src TO lmp_dst")
        con.execute("CHECKPOINT lmp_dst")
        con.execute("DETACH lmp_dst")
    finally:
        con.close()


def _keep_mode_and_owner(published: Path, new: Path) -> None:
    """Give ``new`` the mode, owner and group of the file it replaces (owner and group where the
    writer may set them: root, or a group the writer is in); a new warehouse is 0600."""
    try:
        st = os.stat(published)
    except FileNotFoundError:
        os.chmod(new, NEW_FILE_MODE)
        return
    mine = os.stat(new)
    if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
        try:
            os.chown(new, st.st_uid, st.st_gid)
        except PermissionError:
            with contextlib.suppress(PermissionError):
                os.chown(new, -1, st.st_gid)
    os.chmod(new, stat.S_IMODE(st.st_mode))  # after chown, which may clear set-id bits


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, duckdb.Error) and "No space left on device" in str(exc)


class _Terminated(BaseException):
    """SIGTERM arrived during a write session (a BaseException: ``except Exception`` lets it
    pass)."""


class _SigtermGuard:
    """While a write session runs in the main thread, SIGTERM ends it: the handler raises, and a
    watchdog thread interrupts the session's DuckDB statements until the session is over (DuckDB
    may swallow the handler's exception while it parses a statement, or turn it into "Query
    interrupted" that a caller could catch). The session's cleanup runs; then the previous
    handling is restored and the signal re-delivered (by default the process ends with
    SIGTERM). Outside the main thread, or when SIGTERM is ignored, nothing changes."""

    def __init__(self) -> None:
        self.hit = False
        self.armed = True  # False while cleaning up: the cleanup must not be cut short
        self.con: duckdb.DuckDBPyConnection | None = None
        self._previous = None
        self._installed = False
        self._done = threading.Event()
        self._watchdog: threading.Thread | None = None

    def _handle(self, signum, frame) -> None:
        first = not self.hit
        self.hit = True
        if first and self.armed:
            self._watchdog = threading.Thread(target=self._interrupt, name="lmp-sigterm",
                                              daemon=True)
            self._watchdog.start()
            raise _Terminated()

    def _interrupt(self) -> None:
        while not self._done.wait(0.05):
            con = self.con
            if con is not None:
                with contextlib.suppress(Exception):
                    con.interrupt()

    def disarm(self) -> None:
        """Cleanup starts: no more exceptions, no more interrupts."""
        self.armed = False
        self._done.set()
        if self._watchdog is not None:
            self._watchdog.join()

    def __enter__(self) -> _SigtermGuard:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGTERM)
            if previous not in (signal.SIG_IGN, None):
                self._previous = previous
                signal.signal(signal.SIGTERM, self._handle)
                self._installed = True
        return self

    def check(self) -> None:
        """Raise if SIGTERM arrived (in case a caller caught what the handler raised)."""
        if self.hit:
            raise _Terminated()

    def __exit__(self, *exc) -> bool:
        self.disarm()
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)
            if self.hit:
                signal.raise_signal(signal.SIGTERM)
        return False


@contextlib.contextmanager
def _private_umask() -> Iterator[None]:
    """Everything created meanwhile (DuckDB's file, WAL and spill files) is 0600 / 0700."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def remove_temporary_copies(path: Path) -> list[Path]:
    """Remove every private copy (and its WAL and spill folder) of a writer of ``path``; call
    only while holding the writer lock. Returns what was removed."""
    removed = []
    for stale in path.parent.glob(f".{path.name}.*.tmp*"):
        with contextlib.suppress(FileNotFoundError):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            else:
                stale.unlink()
            removed.append(stale)
    return removed


class _EarlyWriteback:
    """Write a fresh private copy's pages to disk in a thread while the session works on it.

    A full copy leaves gigabytes of dirty pages that the checkpoint's (and the publish's) fsync
    would otherwise write at the very end; flushing them meanwhile only moves that work earlier.
    Nothing depends on it: the publish still fsyncs the copy before the rename, as before; a
    discarded session does not wait for it (the thread closes its own descriptor).
    """

    def __init__(self, tmp: Path) -> None:
        self._fd = os.open(tmp, os.O_RDONLY)
        self._thread = threading.Thread(target=self._flush, name="lmp-writeback", daemon=True)
        self._thread.start()

    def _flush(self) -> None:
        try:
            with contextlib.suppress(OSError):
                os.fdatasync(self._fd)
        finally:
            os.close(self._fd)

    def join(self) -> None:
        self._thread.join()


@contextlib.contextmanager
def _writer_lock(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    fh = open(lock_path, "a+")  # noqa: SIM115 - held for the whole session
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise refusal(WarehouseError, "locked", path=path) from exc
        yield
    finally:
        fh.close()


def _open_copy(path: Path, tmp: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(tmp))
    except duckdb.Error as exc:
        tmp.unlink(missing_ok=True)
        raise refusal(WarehouseError, "cannot_open", path=path,
                      detail=f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc


def commit_stage(con: duckdb.DuckDBPyConnection) -> None:
    """Commit what a write session has done so far and go on in a new transaction.

    Safe because the session writes a private copy: readers see nothing of it until the publish,
    and a discarded or crashed session still throws the whole copy away. Worth it because DuckDB
    reads committed, compressed rows much faster than a transaction's own uncommitted rows and
    frees their memory: the marts of a national school year build 2-3x faster after the load is
    committed, and the peak memory of the ingest halves.
    """
    con.execute("COMMIT")
    con.execute("BEGIN TRANSACTION")


@contextlib.contextmanager
def scratch_session() -> Iterator[duckdb.DuckDBPyConnection]:
    """An empty in-memory warehouse with the full schema, thrown away at the end (dry runs)."""
    con = duckdb.connect(":memory:")
    try:
        apply_schema(con)
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def write_session(path: str | os.PathLike[str], *, erase: bool = False
                  ) -> Iterator[WriteSession]:
    """Open a private copy of the warehouse at ``path`` (created if absent) for one change.

    ``erase`` (erasure, retention): publish a freshly written copy (:func:`compact_copy`)
    instead of the changed private copy, so that no free block of the published file holds a
    deleted row, and then delete every reader snapshot of the earlier versions
    (``session.removed_snapshots``). An existing DuckDB file of another program is refused
    (:func:`check_ours`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _SigtermGuard() as guard, _writer_lock(path), _private_umask():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fresh = path.with_name(f".{path.name}.{os.getpid()}.tmp-compact")
        con = None
        try:
            remove_temporary_copies(path)
            existed = path.exists()
            writeback = None
            if existed:
                copy_published(path, tmp)
                writeback = _EarlyWriteback(tmp)
            con = _open_copy(path, tmp)
            guard.con = con
            if existed:
                check_ours(con, path)
            session = WriteSession(con=con, path=path, existed=existed)
            apply_schema(con)
            con.execute("BEGIN TRANSACTION")
            yield session
            guard.check()
            if session.publish:
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
            else:
                con.execute("ROLLBACK")
            con.close()
            if session.publish:
                final = tmp
                if erase:
                    spill = path.with_name(f".{path.name}.{os.getpid()}.tmp-spill")
                    compact_copy(tmp, fresh, spill)
                    final = fresh
                with open(final, "rb+") as fh:
                    os.fsync(fh.fileno())
                _keep_mode_and_owner(path, final)
                guard.check()
                os.replace(final, path)
                _fsync_dir(path.parent)
                if erase:
                    session.removed_snapshots = remove_reader_snapshots(path)
                if writeback is not None:
                    writeback.join()  # normally finished long before (the same pages)
        except BaseException as exc:
            if _disk_full(exc):
                raise refusal(DiskFullError, "disk_full", path=path.parent, mb=_size_mb(path),
                              twice=message("refusal.disk_twice") if erase else "") from exc
            raise
        finally:
            guard.disarm()
            if con is not None:
                with contextlib.suppress(Exception):
                    con.close()
            remove_temporary_copies(path)


def _size_mb(path: Path) -> int:
    try:
        return max(1, round(path.stat().st_size / 1e6))
    except OSError:
        return 1
