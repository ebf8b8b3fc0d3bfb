"""The incremental build engine: one state table, one table list, one way to tell what changed.

Every derived target (declared in :mod:`lmp_analytics.warehouse.registry`) is built inside the
ingest's write transaction, either in full or for the units (rounds, or (term, rolle)
components) whose fingerprints changed since it was last built. What a target was built from is
recorded here and nowhere else:

- ``build_state`` (target, unit, term, n, fp): the unit fingerprints of its last build;
- ``meta[<target's inputs_key>]``: the fingerprint of its other inputs (schools, indicator
  definitions, threshold, ...). A different value means a full rebuild.

A warehouse written under another ``schema_version`` (``meta``) has its state forgotten when it
is opened for writing (:func:`check_schema_version`): the next build rebuilds every derived
table from the facts and the ingest report says so.
"""

from __future__ import annotations

import re

import duckdb

from lmp_analytics.errors import LmpError
from lmp_analytics.presentation.messages import message
from lmp_analytics.warehouse import meta
from lmp_analytics.warehouse.queries import named
from lmp_analytics.warehouse.registry import TARGETS, derived_tables, target_of

STATE_TABLE = "build_state"
SCHEMA_VERSION_KEY = "schema_version"
#: meta key: why every derived table must be rebuilt at the next build (set by a schema change).
REBUILD_KEY = "rebuild_reason"
#: State tables of earlier versions (one per builder); dropped when the engine first writes.
LEGACY_STATE_TABLES = ("dim_round_state", "mart_round_state", "mart_school_change_state",
                       "pub_component_state")


class MissingDerivedTable(LmpError):
    """A reader needs a derived table the warehouse does not have (built by an older version,
    or never built)."""


def _q(name: str, **parts: str) -> str:
    text = named("build", name)
    return text.format(**parts) if parts else text


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The warehouse's permanent tables."""
    return {r[0] for r in con.execute(_q("tables")).fetchall()}


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The column names of ``table`` (empty when there is no such table)."""
    return {r[0] for r in con.execute(_q("columns_of"), [table]).fetchall()}


def require(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Raise :class:`MissingDerivedTable` naming the first derived table in ``names`` that the
    warehouse lacks, and how to make it."""
    present = tables(con)
    for name in names:
        if name not in present:
            target = target_of(name)
            raise MissingDerivedTable(
                f"the warehouse has no {name} table ({target.layer} layer, built by "
                f"{target.builder}); it was written by an older version or never built. Run "
                "`lmp ingest` on it (the same files again are enough) to build every derived "
                "table from the facts.")


def ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``build_state`` when missing and drop the per-builder state tables of earlier
    versions (their targets then rebuild in full once)."""
    con.execute(_q("create_state"))
    present = tables(con)
    for legacy in LEGACY_STATE_TABLES:
        if legacy in present:
            con.execute(_q("drop_legacy_state", table=legacy))


def round_fingerprints(con: duckdb.DuckDBPyConnection, into: str) -> None:
    """Temp table ``into`` (round_id, term, n, fp): each round's fingerprint of its facts."""
    con.execute(_q("round_fingerprints", target=into))


def state_as(con: duckdb.DuckDBPyConnection, target: str, into: str,
             unit: str = "round_id") -> None:
    """Temp table ``into`` (``unit``, term, n, fp): what ``target`` was last built from."""
    ensure_state(con)
    con.execute(_q("state_of", into=into, unit=unit), [target])


def inputs_of(con: duckdb.DuckDBPyConnection, target: str) -> str | None:
    """The recorded fingerprint of ``target``'s other inputs (None: never built)."""
    return meta.get(con, TARGETS[target].inputs_key)


def is_current(con: duckdb.DuckDBPyConnection, target: str, inputs: str) -> bool:
    """Whether ``target`` may be updated incrementally: its tables exist, it has a recorded
    state and was built with the same ``inputs``."""
    spec = TARGETS[target]
    present = tables(con)
    return (set(spec.tables) <= present and STATE_TABLE in present
            and inputs_of(con, target) == inputs)


def is_recorded(con: duckdb.DuckDBPyConnection, target: str) -> bool:
    """Whether ``target`` has a recorded state (another target may reuse its fingerprints)."""
    return STATE_TABLE in tables(con) and inputs_of(con, target) is not None


def changed(con: duckdb.DuckDBPyConnection, target: str, now: str, into: str,
            unit: str = "round_id") -> int:
    """Temp table ``into`` (``unit``, term) of the units of ``now`` whose fingerprint differs
    from ``target``'s recorded one (new, changed or gone); returns how many."""
    ensure_state(con)
    con.execute(_q("changed_units", now=now, into=into, unit=unit), {"target": target})
    return con.execute(_q("count_rows", table=into)).fetchall()[0][0]


def record(con: duckdb.DuckDBPyConnection, target: str, now: str | None, inputs: str,
           unit: str = "round_id") -> None:
    """Record that ``target`` now reflects the units of temp table ``now`` (None: keep its unit
    state) and ``inputs``."""
    ensure_state(con)
    if now is not None:
        con.execute(_q("forget_state"), [target])
        con.execute(_q("save_state", now=now, unit=unit), [target])
    meta.put(con, TARGETS[target].inputs_key, inputs)


def forget(con: duckdb.DuckDBPyConnection, target: str) -> None:
    """Forget what ``target`` was built from: its next build is a full one."""
    if STATE_TABLE in tables(con):
        con.execute(_q("forget_state"), [target])
    meta.delete(con, TARGETS[target].inputs_key)


def check_schema_version(con: duckdb.DuckDBPyConnection, current: str) -> str | None:
    """Before ``schema_version`` is (re)written: when the warehouse was written under another
    version, forget every target's state (the next build rebuilds them all from the facts) and
    return why (also kept in ``meta`` until that build). None when nothing changed."""
    before = meta.get(con, SCHEMA_VERSION_KEY)
    if before is None or before == current:
        return None
    for name in TARGETS:
        forget(con, name)
    reason = message("notice.schema_version", before=before, after=current)
    meta.put(con, REBUILD_KEY, str(reason))
    return reason


def missing(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The derived tables every build leaves (:func:`~lmp_analytics.warehouse.registry.
    derived_tables`) that the warehouse lacks."""
    present = tables(con)
    return [t for t in derived_tables(always=True) if t not in present]


def rebuild_reason(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the next build must rebuild derived tables of an existing warehouse even when no
    file changed (None: nothing to do): another schema version, or missing derived tables."""
    reason = meta.get(con, REBUILD_KEY)
    if reason is not None:  # stored as English text: keyed again when it is the usual one
        known = _SCHEMA_REASON.fullmatch(reason)
        return (message("notice.schema_version", before=known[1], after=known[2]) if known
                else reason)
    gone = missing(con)
    if gone:
        return message("notice.tables_missing", tables=", ".join(gone))
    return None


#: The English text of ``cli.notice.schema_version`` (a reason stored in ``meta``).
_SCHEMA_REASON = re.compile(r"warehouse schema version (\S+) -> (\S+): every derived table "
                            r"is rebuilt from the facts")


def clear_rebuild_reason(con: duckdb.DuckDBPyConnection) -> None:
    """The rebuild has been done (in this write session)."""
    meta.delete(con, REBUILD_KEY)
