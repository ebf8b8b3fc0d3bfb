"""The audit log: one JSON line for every run that hands numbers out or changes who is counted.

Covered: ``lmp export``, ``lmp report`` and the dashboard's report download, ``lmp indicators
--out`` and ``lmp compare --out``, ``forget``, ``retention``, ``rekey``, a changed threshold
(``ingest --min-n``) and a key fingerprint recorded on a warehouse that already held pupils.
Each line records when (UTC), who ran it (the OS user, ``getpass.getuser()``, and the host),
the role the command was run with (self-claimed: the OS user is what identifies the person),
the action, its scope, a detail without any pupil, the files written, the threshold applied
where numbers were handed out, and ``status``: ``done``, or ``failed`` for a change that was
recorded and then could not be completed.

**Where and why.** The log is the file ``<warehouse stem>.audit.jsonl`` beside the warehouse
(``warehouse.duckdb`` -> ``warehouse.audit.jsonl``), mode 0600. A line is appended with one
``write`` on a descriptor opened with ``O_APPEND`` and then ``fsync``-ed: appends by parallel
runs never overwrite each other and need no lock, so exports and reports never wait for each
other or for an ingest, and recording a line never republishes the warehouse (a table inside
the warehouse needed a whole write session, a 2.5 GB copy at national size, for one row; a
second DuckDB file would again admit one writer at a time). The package only ever appends to it.
Older warehouses keep their ``audit_log`` table; :func:`read_log` lists those rows too.

**The rule: no line for an output that was not written, no output without a line.** Files are
written to temporary files beside their targets first, then the line is recorded, then the
files are renamed into place (:func:`write_outputs`): a run that fails before the line leaves
neither file nor line. A change of the warehouse records its line inside the write session,
just before the publish; if the publish then fails, a second line with ``status: failed``
follows (:func:`pending`, :func:`changes`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lmp_analytics.config import warehouse_path
from lmp_analytics.warehouse import reading

LOG_SUFFIX = ".audit.jsonl"
#: The fields of a line, in order (``outputs`` is a list of paths, ``min_n`` may be null).
FIELDS = ("time", "user", "host", "pid", "role", "action", "scope", "detail", "outputs",
          "min_n", "status")

Target = str | os.PathLike[str] | duckdb.DuckDBPyConnection | None


def _warehouse_file(warehouse: Target) -> Path:
    """The warehouse file of a path, of None (the configured one) or of an open connection."""
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        rows = warehouse.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
        if not rows or not rows[0][0]:
            raise ValueError("the audit log needs a warehouse file, not an in-memory database")
        return Path(rows[0][0]).resolve()
    return warehouse_path(warehouse)


def log_path(warehouse: Target = None) -> Path:
    """The audit log of a warehouse: ``<stem>.audit.jsonl`` in the warehouse's folder."""
    target = _warehouse_file(warehouse)
    return target.with_name(target.stem + LOG_SUFFIX)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return f"uid:{os.getuid()}"


@dataclass
class Entry:
    """One line of the audit log, before it is recorded. ``record`` appends it."""

    action: str
    role: str | None
    scope: str | None = None
    detail: str = ""
    warehouse: Target = None
    outputs: list[str] = field(default_factory=list)
    min_n: int | None = None
    recorded: bool = False

    def line(self, status: str) -> dict:
        """The JSON object of this entry with ``status``."""
        return {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "user": _user(), "host": socket.gethostname(), "pid": os.getpid(),
            "role": self.role, "action": self.action, "scope": self.scope,
            "detail": self.detail, "outputs": list(self.outputs), "min_n": self.min_n,
            "status": status,
        }

    def record(self, status: str = "done") -> dict:
        """Append this entry to the log (durably) and return the line written."""
        line = self.line(status)
        _append(log_path(self.warehouse), line)
        self.recorded = True
        return line


def _append(path: Path, line: dict) -> None:
    data = (json.dumps(line, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
        written = os.write(fd, data)  # one write: appends of parallel runs never interleave
        if written != len(data):
            raise OSError(f"{path}: the audit line was written only in part (disk full?)")
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def record(
    action: str,
    *,
    role: str | None,
    scope: str | None = None,
    detail: str = "",
    warehouse: Target = None,
    outputs: Sequence[str | os.PathLike[str]] = (),
    min_n: int | None = None,
    status: str = "done",
) -> dict:
    """Append one line to the warehouse's audit log now (the one function every caller uses,
    directly or through :func:`pending` / :func:`write_outputs`). Returns the line."""
    entry = Entry(action, role, scope, detail, warehouse, [str(p) for p in outputs], min_n)
    return entry.record(status)


@contextlib.contextmanager
def changes() -> Iterator[list[Entry]]:
    """A list for the entries of one change; each is recorded (``entry.record()``) once the
    change is complete and just before it is made visible. If the block then fails, a ``failed``
    line follows each recorded entry; an entry not recorded yet leaves no line (nothing was
    changed)."""
    entries: list[Entry] = []
    try:
        yield entries
    except BaseException as exc:
        for entry in entries:
            if not entry.recorded:
                continue
            failed = Entry(entry.action, entry.role, entry.scope,
                           f"{entry.detail}; not completed: {type(exc).__name__}: {exc}"[:500],
                           entry.warehouse, entry.outputs, entry.min_n)
            with contextlib.suppress(OSError):
                failed.record("failed")
        raise


@contextlib.contextmanager
def pending(
    action: str,
    *,
    role: str | None,
    scope: str | None = None,
    detail: str = "",
    warehouse: Target = None,
    min_n: int | None = None,
) -> Iterator[Entry]:
    """One entry of :func:`changes`: the block records it just before its change is made
    visible."""
    with changes() as entries:
        entries.append(Entry(action, role, scope, detail, warehouse, [], min_n))
        yield entries[0]


def write_outputs(
    files: Sequence[tuple[str | os.PathLike[str], bytes]],
    *,
    action: str,
    role: str | None,
    scope: str | None = None,
    detail: str = "",
    warehouse: Target = None,
    min_n: int | None = None,
) -> list[Path]:
    """Write ``files`` (path, bytes) audited: each to a temporary file beside it, then one audit
    line naming them all, then every file renamed into place. Nothing is written when the audit
    line cannot be; a rename that fails after it records a ``failed`` line."""
    temps: list[tuple[Path, Path]] = []
    try:
        for path, data in files:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            temps.append((tmp, path))
        with pending(action, role=role, scope=scope, detail=detail, warehouse=warehouse,
                     min_n=min_n) as entry:
            entry.outputs = [str(p.resolve()) for _, p in temps]
            entry.record()
            for tmp, path in temps:
                os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
    return [p for _, p in temps]


def read_log(warehouse: Target = None) -> list[dict]:
    """Every audit entry of a warehouse, oldest first: the rows of an older warehouse's
    ``audit_log`` table (``source: table``; no user or host was recorded then), then the lines
    of the log file (``source: log``). A line that cannot be read (torn by a crash) is listed
    with ``action: unreadable``."""
    out: list[dict] = []
    target = _warehouse_file(warehouse)
    if target.exists():
        with reading(target) as con, contextlib.suppress(duckdb.CatalogException):
            for logged, role, action, scope, detail in con.execute(
                "SELECT logged_at, role, action, scope, detail FROM audit_log ORDER BY logged_at"
            ).fetchall():
                out.append({"time": logged.isoformat(timespec="seconds"), "user": None,
                            "host": None, "pid": None, "role": role, "action": action,
                            "scope": scope, "detail": detail, "outputs": [], "min_n": None,
                            "status": "done", "source": "table"})
    path = log_path(target)
    if path.exists():
        with open(path, encoding="utf-8", errors="replace") as fh:
            for number, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                try:
                    line = json.loads(text)
                except json.JSONDecodeError:
                    line = {"action": "unreadable", "detail": f"line {number} of {path}"}
                out.append({**{f: None for f in FIELDS}, **line, "source": "log"})
    return out


__all__ = ["FIELDS", "LOG_SUFFIX", "Entry", "changes", "log_path", "pending", "read_log", "record",
           "write_outputs"]
