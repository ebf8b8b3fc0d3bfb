"""One DuckDB instance per published version, shared by the reads of a long-lived reader.

Opening a read connection (an in-memory DuckDB with the file attached read-only, see
:func:`lmp_analytics.warehouse.connect`) costs ~15–25 ms of CPU, and every block a query reads is
loaded and decompressed again by each new instance. A dashboard page makes 4–10 reads, each an
``api`` / ``readmodels`` call through :func:`lmp_analytics.warehouse.reading`. Inside
:func:`sharing` (the dashboard's data layer turns it on around its reads) each version of a
file (path, device, inode, size, mtime, and the same of its WAL) gets one instance, and every
read gets a cursor of it (~0.5 ms: a connection of its own, with its own temporary objects, to
the same attached file). The published file is never written in place (writers publish a new
file with ``os.replace``), so a version's instance reads exactly that version, as a fresh
connection would: a new publish has another stamp and so another instance.

Why not for every read: DuckDB refuses to open a file read-write in a process that has it
attached elsewhere, so a process that reads a file and then writes that same path in place
(a test planting rows, a researcher's own script) would fail while an instance lingers.
Readers that only read turn sharing on; everything else gets a connection of its own.

An instance is closed once no read has used it for :data:`LINGER_SECONDS` (a background thread
checks every half linger), so a replaced or erased version is not held open for more than 1.5
lingers after its last read (``lmp forget`` deletes the readers' snapshot links; the bytes of
an unlinked file are freed when its last descriptor closes). A forked child never uses its
parent's instances.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

#: An instance unused for this long is closed.
LINGER_SECONDS = 2.0

_sharing: contextvars.ContextVar[bool] = contextvars.ContextVar("lmp_shared_reads",
                                                               default=False)


@contextlib.contextmanager
def sharing() -> Iterator[None]:
    """Reads through :func:`lmp_analytics.warehouse.reading` in this block (this thread or
    task) use the process's shared instances."""
    token = _sharing.set(True)
    try:
        yield
    finally:
        _sharing.reset(token)


def is_sharing() -> bool:
    """Whether the reads of the current thread or task use the shared instances."""
    return _sharing.get()

Version = tuple


def _version(target: Path) -> Version | None:
    """The stamp of the file now at ``target`` and of its WAL (None: no file)."""
    try:
        st = os.stat(target)
    except OSError:
        return None
    try:
        wal = os.stat(f"{target}.wal")
        wal_stamp = (wal.st_size, wal.st_mtime_ns)
    except OSError:
        wal_stamp = None
    return (str(target), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, wal_stamp)


@dataclass
class _Entry:
    base: duckdb.DuckDBPyConnection
    shared: bool
    users: int = 0
    last_used: float = field(default_factory=time.monotonic)


class SharedReaders:
    """The process's instances, one per version; :meth:`cursor` hands out reads."""

    def __init__(self, linger: float = LINGER_SECONDS) -> None:
        self.linger = linger
        self._lock = threading.Lock()
        self._entries: dict[Version, _Entry] = {}
        self._pid = os.getpid()
        self._reaper: threading.Thread | None = None

    @contextlib.contextmanager
    def cursor(self, target: Path, open_base) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the instance of the version now at ``target``; ``open_base(target)``
        opens an instance when there is none (and raises the reader's refusals)."""
        entry = self._acquire(target, open_base)
        try:
            with self._lock:
                cur = entry.base.cursor()
            try:
                cur.execute("USE warehouse")
                yield cur
            finally:
                cur.close()
        finally:
            self._release(entry)

    def _acquire(self, target: Path, open_base) -> _Entry:
        self._after_fork()
        key = _version(target)
        with self._lock:
            entry = self._entries.get(key) if key is not None else None
            if entry is not None:
                entry.users += 1
                return entry
        base = open_base(target)
        # The version attached is the one stamped only if nothing was published meanwhile;
        # otherwise this instance serves this read alone and is closed after it.
        shared = key is not None and _version(target) == key
        with self._lock:
            if shared and key in self._entries:      # another thread opened it meanwhile
                base.close()
                entry = self._entries[key]
                entry.users += 1
                return entry
            entry = _Entry(base, shared, users=1)
            if shared:
                self._entries[key] = entry
                self._start_reaper()
        return entry

    def _release(self, entry: _Entry) -> None:
        with self._lock:
            entry.users -= 1
            entry.last_used = time.monotonic()
            if not entry.shared and entry.users == 0:
                entry.base.close()

    def _after_fork(self) -> None:
        if os.getpid() != self._pid:             # a forked child: its parent's instances
            self._lock = threading.Lock()        # are not its to use or close
            self._entries = {}
            self._pid = os.getpid()
            self._reaper = None

    def _start_reaper(self) -> None:
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap, name="lmp-shared-readers",
                                            daemon=True)
            self._reaper.start()

    def _reap(self) -> None:
        """Close idle instances every half linger; end when none is left (a new instance
        starts another)."""
        while True:
            time.sleep(self.linger / 2)
            with self._lock:
                if self._pid != os.getpid():
                    return
            if not self.close_idle():
                with self._lock:
                    if not self._entries:
                        self._reaper = None
                        return

    def close_idle(self, older_than: float | None = None) -> int:
        """Close every instance unused for ``older_than`` seconds (default: the linger);
        returns how many are still open."""
        limit = self.linger if older_than is None else older_than
        now = time.monotonic()
        with self._lock:
            for key, entry in list(self._entries.items()):
                if entry.users == 0 and now - entry.last_used >= limit:
                    del self._entries[key]
                    entry.base.close()
            return len(self._entries)

    def close_all(self) -> None:
        """Close every instance no read is using (at exit, and for tests)."""
        self.close_idle(older_than=0.0)


readers = SharedReaders()
atexit.register(readers.close_all)

__all__ = ["LINGER_SECONDS", "SharedReaders", "is_sharing", "readers", "sharing"]
