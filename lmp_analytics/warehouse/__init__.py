"""The DuckDB warehouse: one file, published atomically, read through short-lived connections.

Readers use :func:`reading` or :func:`connect` (read-only). Keep one for a query or a page: it
keeps seeing the version it opened, so a long-lived one would miss a newer publish. A long-lived
reader (the dashboard) reads inside :func:`lmp_analytics.warehouse.shared.sharing`, where
:func:`reading` hands out cursors of one instance per published version instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb

from lmp_analytics.config import warehouse_path
from lmp_analytics.errors import WarehouseError
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.warehouse.shared import is_sharing, readers


def connect(path: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse (``LMP_WAREHOUSE`` or the default).

    Example::

        from lmp_analytics.warehouse import connect
        with connect() as con:
            rounds = con.sql("SELECT * FROM dim_round").pl()
    """
    target = warehouse_path(path)
    if not target.exists():
        raise refusal(WarehouseError, "no_warehouse_build", target=target)
    # DuckDB shares one database instance per path inside a process: while any connection to
    # the previous file is still open, a plain connect(path) would return the old snapshot after
    # a publish (os.replace). Attaching the file to a fresh in-memory database always opens the
    # file that is published now.
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS warehouse (READ_ONLY)", [str(target)])
        con.execute("USE warehouse")
    except duckdb.Error as exc:
        con.close()
        raise refusal(WarehouseError, "read_only", target=target, detail=exc) from exc
    return con


@contextlib.contextmanager
def reading(
    path: str | os.PathLike[str] | duckdb.DuckDBPyConnection | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the version of the warehouse published now (:func:`connect`),
    closed after the block. Inside :func:`lmp_analytics.warehouse.shared.sharing`: a cursor of
    the process's one instance of that version instead, so the reads of a page open the file
    once; it too sees only the version it was opened on.

    Given an open connection instead of a path it yields that connection and leaves it open:
    a caller that makes several reads (``api`` / ``readmodels`` functions take it as ``warehouse``)
    reads one published snapshot throughout."""
    if isinstance(path, duckdb.DuckDBPyConnection):
        yield path
        return
    if is_sharing():
        with readers.cursor(warehouse_path(path), connect) as con:
            yield con
        return
    con = connect(path)
    try:
        yield con
    finally:
        con.close()


def exists(path: str | os.PathLike[str] | None = None) -> bool:
    """Whether a published warehouse file exists."""
    return Path(warehouse_path(path)).exists()
