"""What every read model shares: the warehouse and role arguments, empty frames, table checks."""

from __future__ import annotations

import duckdb
import polars as pl

from lmp_analytics import api
from lmp_analytics.privacy.roles import Role
from lmp_analytics.warehouse.queries import named

WarehouseArg = api.WarehouseArg  # a path, None (the default warehouse) or an open connection
RoleArg = str | Role | None


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the warehouse has the table ``name``."""
    return bool(con.sql(named("reads", "table_exists"), params=[name]).fetchall()[0][0])


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A frame without rows of ``schema``."""
    return pl.DataFrame(schema=schema)
