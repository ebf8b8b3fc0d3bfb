"""Reader snapshots and the other files the package keeps beside a warehouse.

A reader that must see one version of the warehouse for a while (the dashboard: every query of
a page run) hard-links the published file as ``<name>.read-<inode>-<mtime_ns>`` and reads the
link. A link keeps that version's bytes on disk after a newer file is published, so erasure and
retention delete every link (:func:`remove_reader_snapshots`) right after they publish. Readers
build their names only with :func:`snapshot_path` and :func:`snapshot_tmp_path`, so the removal
finds all of them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

READ_INFIX = ".read-"


def snapshot_path(target: Path, inode: int, mtime_ns: int) -> Path:
    """The reader link of the version of ``target`` with this inode and mtime."""
    return target.with_name(f"{target.name}{READ_INFIX}{inode}-{mtime_ns}")


def snapshot_tmp_path(target: Path, token: str) -> Path:
    """A link being made (renamed to :func:`snapshot_path` once its stamp is known)."""
    return target.with_name(f"{target.name}{READ_INFIX}tmp-{token}")


def reader_snapshots(target: Path) -> list[Path]:
    """Every reader link of ``target``, finished or being made."""
    return sorted(target.parent.glob(f"{target.name}{READ_INFIX}*"))


def remove_reader_snapshots(target: Path) -> list[Path]:
    """Delete every reader link of ``target``; returns the ones removed. A reader that has a
    link open finishes its query on the (now nameless) file; its next run links the new one."""
    removed = []
    for link in reader_snapshots(target):
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
            removed.append(link)
    return removed


def files_beside(target: Path) -> list[Path]:
    """Every regular file the package may keep beside the warehouse: the file itself, its WAL,
    lock, reader links and writers' private copies (``<name>*`` and ``.<name>*``), and any other
    file whose name starts so (an operator's ``<name>.bak`` too)."""
    out = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(target.parent):
            if entry.name.startswith((target.name, f".{target.name}")):
                if entry.is_file(follow_symlinks=False):
                    out.append(Path(entry.path))
                elif entry.is_dir(follow_symlinks=False):
                    out.extend(p for p in Path(entry.path).rglob("*") if p.is_file())
    return sorted(out)


__all__ = ["READ_INFIX", "files_beside", "reader_snapshots", "remove_reader_snapshots",
           "snapshot_path", "snapshot_tmp_path"]
