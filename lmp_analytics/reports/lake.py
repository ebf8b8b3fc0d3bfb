"""The warehouse as a lake: Hive-partitioned Parquet that DuckDB, Spark and Trino read unchanged.

``lmp export --lake DIR`` writes one folder per table (``DIR/<table>/term=2025H/*.parquet``),
partitioned by term where the table has one (tables keyed by round carry their round's ``term``
as the partition column; the school-change table is partitioned by ``post_term``), and a schema
file ``DIR/_lmp_lake.json`` with every table's layer, columns, types, partition column and rows,
the suppression threshold applied and who wrote it.

Which tables go out depends on the role, as everywhere else:

- ``program``: the suppressed publication only (``pub_*``), at the threshold a read applies
  (``LMP_MIN_N`` may be stricter than the warehouse, never weaker);
- ``forsker``: the publication and the pseudonymised facts, dimensions and marts (``fct_*``,
  ``dim_*``, ``mart_*``), the layers a research platform builds on;
- other roles: refused.

Never exported: the audit and ingest logs, quarantined rows (they keep the raw value that failed),
``meta`` and the build state. The folder is written beside the target and switched in by renames
(a reader sees the old lake or the new one); an existing folder that is not a lake is never
touched. A lake is a handed-out copy: ``lmp forget`` does not reach it (see README, *Privacy*).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from lmp_analytics.errors import LmpError
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.privacy.roles import Role
from lmp_analytics.publication import stricter_publication
from lmp_analytics.warehouse import audit, meta, reading
from lmp_analytics.warehouse.queries import named

__all__ = ["LAKE_FILE", "LakeError", "LakeResult", "lake_tables", "read_lake_table", "write_lake"]

#: The schema file that marks a folder as a lake written by this package.
LAKE_FILE = "_lmp_lake.json"
LAKE_FORMAT = "lmp_analytics lake"
LAKE_VERSION = 1

_LAYERS = {"pub_": "pub", "fct_": "fct", "dim_": "dim", "mart_": "mart"}
_ROLE_LAYERS = {"program": ("pub",), "forsker": ("dim", "fct", "mart", "pub")}


class LakeError(LmpError, ValueError):
    """A lake cannot be written: the role, the target folder or the threshold forbid it."""


@dataclass(frozen=True)
class LakeResult:
    """What :func:`write_lake` wrote: the folder and the rows per table."""

    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    min_n: int = 0


def _layer(table: str) -> str | None:
    if table.endswith("_state"):
        return None
    return next((layer for prefix, layer in _LAYERS.items() if table.startswith(prefix)), None)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in con.execute(named("lake", "columns"), [table]).fetchall()]


def lake_tables(con: duckdb.DuckDBPyConnection, role: Role) -> list[tuple[str, str]]:
    """(table, layer) of every table ``role`` may take out as a lake, in name order."""
    layers = _ROLE_LAYERS.get(role.kind)
    if layers is None:
        raise refusal(LakeError, "lake_role", role=role)
    names = [r[0] for r in con.execute(named("lake", "tables")).fetchall()]
    return [(t, layer) for t in names if (layer := _layer(t)) in layers]


def _partition(con: duckdb.DuckDBPyConnection, table: str,
               columns: list[tuple[str, str]]) -> tuple[str, str | None]:
    """The SELECT for ``table`` and its partition column (None: one file)."""
    names = {c for c, _ in columns}
    quoted = f'"{table}"'
    whole = named("lake", "whole_table").format(table=quoted)
    if "term" in names:
        return whole, "term"
    if "post_term" in names:
        return whole, "post_term"
    if "round_id" in names and table != "dim_round" and _columns(con, "dim_round"):
        return named("lake", "with_round_term").format(table=quoted), "term"
    return whole, None


def _check_target(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise refusal(LakeError, "lake_not_folder", target=target)
    if target.is_dir() and any(target.iterdir()) and not (target / LAKE_FILE).is_file():
        raise refusal(LakeError, "lake_foreign", target=target, file=LAKE_FILE)


def _literal(path: Path) -> str:
    """A path as an SQL string literal (COPY takes no parameter): quotes doubled, so a folder
    named ``it's`` is a path, not SQL."""
    return "'" + str(path).replace("'", "''") + "'"


def _copy(con: duckdb.DuckDBPyConnection, select: str, folder: Path, partition: str | None) -> None:
    folder.mkdir(parents=True)
    empty = _count(con, select) == 0
    if partition is None or empty:
        con.execute(named("lake", "copy_file").format(
            select=select, path=_literal(folder / "data.parquet")))
    else:
        con.execute(named("lake", "copy_partitioned").format(
            select=select, path=_literal(folder), partition=partition))


def _count(con: duckdb.DuckDBPyConnection, select: str) -> int:
    return con.execute(named("lake", "count_rows").format(select=select)).fetchone()[0]


def write_lake(
    directory: str | os.PathLike[str],
    *,
    role: Role,
    warehouse: str | os.PathLike[str] | None = None,
    min_n: int | None = None,
    now: dt.datetime | None = None,
) -> LakeResult:
    """Write the tables ``role`` may take out as Hive-partitioned Parquet in ``directory``
    (see the module docstring), audited (``export-lake``) before the folder is switched in.

    The publication is written at the threshold a read applies (:func:`meta.read_min_n`): a
    stricter reader's ``pub_indicator_cells`` is suppressed again by the engine
    (:func:`lmp_analytics.publication.stricter_publication`); another ``pub_*`` table cannot be,
    so a stricter threshold with such a table is refused rather than written weaker."""


    target = Path(directory).absolute()
    _check_target(target)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    rows: dict[str, int] = {}
    described: dict[str, dict] = {}
    try:
        with reading(warehouse) as con:
            threshold = meta.read_min_n(con, min_n)
            stricter = threshold > meta.applied_min_n(con)
            for table, layer in lake_tables(con, role):
                columns = _columns(con, table)
                select, partition = _partition(con, table, columns)
                if layer == "pub" and stricter:
                    if table != "pub_indicator_cells":
                        raise refusal(LakeError, "lake_stricter", table=table,
                                      min_n=meta.applied_min_n(con), threshold=threshold)
                    frame = stricter_publication(con, threshold)
                    con.register("_lake_stricter", frame.to_arrow())
                    select = named("lake", "stricter_publication")
                _copy(con, select, tmp / table, partition)
                rows[table] = _count(con, select)
                out_columns = [list(c) for c in columns]
                if partition and partition not in {c for c, _ in columns}:
                    out_columns.append([partition, "VARCHAR"])
                described[table] = {"layer": layer, "partition_by": partition,
                                    "rows": rows[table], "columns": out_columns}
            schema_version = meta.get(con, "schema_version")
        when = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        manifest = {"format": LAKE_FORMAT, "version": LAKE_VERSION, "written_at": when,
                    "role": str(role), "min_n": threshold,
                    "warehouse_schema_version": schema_version,
                    "read_with": "read_parquet('<table>/**/*.parquet', hive_partitioning = true)",
                    "tables": described}
        (tmp / LAKE_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
        with audit.pending("export-lake", role=str(role), scope=str(role),
                           detail=f"{len(rows)} tables, {sum(rows.values())} rows",
                           warehouse=warehouse, min_n=threshold) as entry:
            entry.outputs = [str(target)]
            entry.record()
            if target.exists():
                os.rename(target, old)
            os.rename(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return LakeResult(target, rows, threshold)


def read_lake_table(directory: str | os.PathLike[str], table: str,
                    con: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    """One table of a lake read back with DuckDB (Hive partitions as VARCHAR columns)."""
    folder = Path(directory) / table
    own = con is None
    con = con or duckdb.connect(":memory:")
    try:
        return con.sql(named("lake", "read_table"),
                       params={"files": str(folder / "**" / "*.parquet")}).pl()
    finally:
        if own:
            con.close()
