"""Derived tables are made from their declared DDL, never from the rows of one build.

Each derived table's columns and types are declared once, as a ``CREATE TABLE`` block named
after the table in the SQL file its target points to (``Target.ddl`` in
:mod:`lmp_analytics.warehouse.registry`; ``warehouse/sql/derived.sql``). A builder creates the
table from that block (:func:`create`) and inserts its rows (:func:`insert`, :func:`insert_frame`);
rows with a missing or an extra column are refused with :class:`SchemaMismatch`, which names
the table and the columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import duckdb
import polars as pl

from lmp_analytics.errors import LmpError
from lmp_analytics.warehouse.queries import named
from lmp_analytics.warehouse.registry import target_of

_FILE = "derived"


class SchemaMismatch(LmpError):
    """Rows to store in a derived table do not have exactly its declared columns."""


def ddl_of(table: str) -> str:
    """The ``CREATE TABLE IF NOT EXISTS`` statement declaring ``table`` (KeyError: not a derived
    table)."""
    return named(target_of(table).ddl, table)


@cache
def declared(table: str) -> tuple[tuple[str, str], ...]:
    """``table``'s declared (column, DuckDB type) pairs, in order."""
    scratch = duckdb.connect(":memory:")
    try:
        scratch.execute(ddl_of(table))
        return columns_of(scratch, table)
    finally:
        scratch.close()


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> tuple[tuple[str, str], ...]:
    """The (column, DuckDB type) pairs of ``table`` on ``con``, in order (empty: no table)."""
    return tuple((str(name), str(kind)) for name, kind in
                 con.execute(named(_FILE, "columns"), [table]).fetchall())


def check(table: str, columns: Sequence[str]) -> None:
    """Raise :class:`SchemaMismatch` unless ``columns`` are exactly ``table``'s declared columns
    (in any order)."""
    names = [name for name, _ in declared(table)]
    lacking = [c for c in names if c not in columns]
    extra = [c for c in columns if c not in names]
    if not lacking and not extra:
        return
    parts = []
    if lacking:
        parts.append("no column " + ", ".join(f"'{c}'" for c in lacking))
    if extra:
        parts.append("a column the table does not declare: " + ", ".join(f"'{c}'" for c in extra))
    raise SchemaMismatch(
        f"the rows to store in {table} have {' and '.join(parts)} (its columns are declared in "
        f"warehouse/sql/{target_of(table).ddl}.sql: {', '.join(names)})")


def create(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Make ``table`` anew, empty, from its declaration (dropping the old one)."""
    con.execute(named(_FILE, "drop").format(table=table))
    con.execute(ddl_of(table))


def ensure(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Make ``table`` from its declaration when the warehouse has none."""
    con.execute(ddl_of(table))


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: str, *,
           replace: bool = False) -> None:
    """Insert the rows of the SELECT ``rows`` (columns matched by name) into ``table``;
    ``replace``: into a new table made from its declaration."""
    check(table, con.sql(rows.strip().rstrip(";")).columns)
    if replace:
        create(con, table)
    con.execute(named(_FILE, "insert_by_name").format(table=table, rows=rows))


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, *,
                 replace: bool = False) -> None:
    """Insert ``frame``'s rows into ``table`` (columns matched by name); ``replace``: into a new
    table made from its declaration."""
    check(table, frame.columns)
    if replace:
        create(con, table)
    name = f"new_rows_{table}"
    con.register(name, frame)
    try:
        columns = ", ".join(f'"{c}"' for c, _ in declared(table))
        con.execute(named(_FILE, "insert_frame").format(table=table, columns=columns, frame=name))
    finally:
        con.unregister(name)
