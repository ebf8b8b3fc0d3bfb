"""What a failed command says: its exit code, one plain line, and the traceback in a log file.

Exit codes of every ``lmp`` command (the README's table):

- ``0`` everything done;
- ``1`` some rows quarantined, the rest loaded (``ingest`` / ``validate``);
- ``2`` a file (or the roster) rejected, or a usage / configuration error: an unknown option
  value, a path that is a folder where a file is expected, a missing file or permission, no key;
- ``3`` an unexpected internal error (a bug, a full disk, another operating-system failure). The
  screen gets one plain line (what failed, the file if any, what to do) and where the traceback
  was written: ``logs/`` under the data folder (:func:`lmp_analytics.config.log_dir`), else the
  system's temporary folder. ``--debug`` shows the traceback instead.

The log holds the command's name and the traceback, never its arguments (``lmp forget
--elev-id`` takes a pupil's Feide id).
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import tempfile
import traceback
from pathlib import Path

from lmp_analytics.errors import DiskFullError, LmpError, Message
from lmp_analytics.pipeline import EXIT_REJECTED

#: 2: a file rejected, or a usage / configuration error (0, 1 and 2 are the ingest's codes).
EXIT_USAGE = EXIT_REJECTED
#: 3: an unexpected internal error.
EXIT_INTERNAL = 3


#: How Rust libraries (polars, DuckDB) name the operating-system error in a bare OSError.
_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def with_path(exc: OSError, path: str | os.PathLike[str] | None) -> OSError:
    """``exc`` as a proper :class:`OSError` subclass (errno recovered from a Rust library's
    "(os error 28)" message) naming ``path`` when it names no file."""
    number = exc.errno
    if number is None:
        m = _OS_ERROR.search(str(exc))
        if m is None:
            return exc
        number = int(m.group(1))
    named = OSError(number, os.strerror(number), exc.filename or (str(path) if path else None))
    named.__cause__ = exc  # the log keeps the original traceback
    return named.with_traceback(exc.__traceback__)


def _where(exc: OSError) -> str:
    return f" {exc.filename}" if exc.filename else ""


def _said(english: str, key: str, **values: object) -> Message:
    """``english`` keyed ``cli.fail.<key>`` (the CLI says it in ``LMP_LANG``; logs and tests
    read the English)."""
    return Message(english, f"fail.{key}", values)


def describe(exc: BaseException) -> tuple[int, str]:
    """The exit code and the one plain line (without the log's location) for ``exc``; the line
    is a keyed :class:`~lmp_analytics.errors.Message` where this module words it."""
    if isinstance(exc, DiskFullError):
        return EXIT_INTERNAL, str(exc)
    if isinstance(exc, LmpError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, OSError):
        exc = with_path(exc, None)
        if exc.errno is None:  # raised by the package with a message for people
            return EXIT_USAGE, str(exc)
        what = exc.strerror or str(exc)
        where = _where(exc)
        path = exc.filename
        if isinstance(exc, IsADirectoryError):
            return EXIT_USAGE, _said(f"{path or 'the path'} is a folder; give the path of a file",
                                     "is_folder" if path else "is_folder_unnamed", path=path)
        if isinstance(exc, NotADirectoryError):
            return EXIT_USAGE, _said(
                f"{path or 'the path'}: part of the path is a file where a folder is expected",
                "not_folder" if path else "not_folder_unnamed", path=path)
        if isinstance(exc, FileExistsError):
            return EXIT_USAGE, _said(f"{path or 'the file'} exists already",
                                     "exists" if path else "exists_unnamed", path=path)
        if isinstance(exc, FileNotFoundError):
            return EXIT_USAGE, _said(f"{path or 'the file'} does not exist",
                                     "missing" if path else "missing_unnamed", path=path)
        if isinstance(exc, PermissionError):
            if not path:  # a refusal of the package (e.g. a role's scope), not the disk
                return EXIT_USAGE, str(exc)
            return EXIT_USAGE, _said(f"no permission to use {path}: choose a file or folder "
                                     "you may write to, or change its permissions",
                                     "permission", path=path)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return EXIT_INTERNAL, _said(
                f"the disk is full (writing{where or ' a file'}): free some space and run the "
                "command again", "disk_full" if path else "disk_full_unnamed", path=path)
        return EXIT_INTERNAL, f"{what}{(':' + where) if where else ''}"
    if os.strerror(errno.ENOSPC) in str(exc):  # DuckDB's IOException on a full disk
        return EXIT_INTERNAL, _said(f"the disk is full ({exc}): free some space and run the "
                                    "command again", "disk_full_detail", detail=str(exc))
    if type(exc) is ValueError:  # how the package's layers refuse a bad argument or value
        return EXIT_USAGE, str(exc)
    return EXIT_INTERNAL, _said(f"unexpected internal error ({type(exc).__name__}: {exc})",
                                "internal", kind=type(exc).__name__, detail=str(exc))


def write_log(
    exc: BaseException, command: str | None, directory: Path | None = None
) -> Path | None:
    """Write the traceback of ``exc`` to a new file (mode 0600) and return its path; None when
    neither ``directory`` (default: :func:`lmp_analytics.config.log_dir`) nor the temporary
    folder can take it."""
    from lmp_analytics import config

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    name = f"lmp-{stamp}-{os.getpid()}.log"
    text = (f"lmp {command or ''} failed at {dt.datetime.now().isoformat(timespec='seconds')}\n"
            + "".join(traceback.format_exception(exc)))
    candidates = [directory or config.log_dir(), Path(tempfile.gettempdir()) / "lmp-logs"]
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            return path
        except OSError:
            continue
    return None


def report_line(exc: BaseException, command: str | None) -> tuple[int, str]:
    """Exit code and the whole plain line for ``exc``; for code 3 the traceback is logged and
    the line says where (a keyed :class:`~lmp_analytics.errors.Message` whose ``line`` value is
    the described line, or ``exc`` itself when the package keyed it)."""
    code, line = describe(exc)
    if code != EXIT_INTERNAL:
        return code, line
    log = write_log(exc, command)
    prefix = f"lmp {command} failed: " if command else ""
    if log is None:
        tail = _said("the traceback could not be saved; rerun with --debug to see it",
                     "tail_unsaved")
    else:
        tail = _said(f"traceback written to {log} (rerun with --debug to see it)", "tail_log",
                     log=str(log))
    bug = not isinstance(exc, OSError) and not getattr(line, "message_key", "").startswith(
        "fail.disk_full")
    english = f"{prefix}{line}; {tail}" + ("; this is a bug: please report it with that "
                                           "traceback" if bug else "")
    said = exc if (getattr(exc, "message_key", None) and str(exc) == str(line)) else line
    key = ("line" if command else "bare_line") + ("_bug" if bug else "")
    return code, _said(english, key, command=command, line=said, tail=tail)
