"""Erasure of one pupil and retention of old rounds; both publish atomically and are audited.

Spekter is non-anonymous data about children, so a pupil's rows must be deletable: ``forget``
finds them through the keyed pseudonym (the raw id is never stored) and removes every response,
answer, nomination (as nominator or nominee) and quarantined cell, then rebuilds every derived
table so that no mart or publication still counts the pupil. ``retention`` deletes every round
before a term. The audit log records the action, the role and the number of rows removed, never
the pupil.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl

from lmp_analytics.config import warehouse_path
from lmp_analytics.errors import WarehouseError
from lmp_analytics.ingest import protect
from lmp_analytics.terms import parse_term, term_index
from lmp_analytics.warehouse.load import rebuild_rounds
from lmp_analytics.warehouse.publish import write_session
from lmp_analytics.warehouse.queries import named

Rebuild = Callable[[duckdb.DuckDBPyConnection], None]


@dataclass(frozen=True)
class ErasureResult:
    """Rows removed by one erasure or retention run."""

    responses: int
    answers: int
    nominations: int
    rounds: int = 0


def audit(con: duckdb.DuckDBPyConnection, *, role: str, action: str, scope: str | None,
          detail: str) -> None:
    """Record who (role) did what, to which scope and when."""
    con.execute(named("erasure", "insert_audit"), [dt.datetime.now(), role, action, scope, detail])


def forget_pupil(
    elev_id: str,
    *,
    key: bytes | None = None,
    warehouse: str | os.PathLike[str] | None = None,
    role: str = "program",
    rebuild: Rebuild | None = None,
) -> ErasureResult:
    """Remove every row of the pupil with raw id ``elev_id`` and rebuild the derived tables."""
    key = protect.load_key() if key is None else key
    target = warehouse_path(warehouse)
    if not target.exists():
        raise WarehouseError(f"no warehouse at {target}")
    gone = pl.DataFrame({"elev": [protect.pseudonym(key, elev_id)]})
    with write_session(target) as session:
        con = session.con
        con.register("gone", gone)
        responses, answers, nominations = con.execute(
            named("erasure", "count_pupil_rows")
        ).fetchall()[0]
        con.execute(named("erasure", "delete_pupil"))
        con.unregister("gone")
        rebuild_rounds(con)
        if rebuild is not None:
            rebuild(con)
        audit(con, role=role, action="forget", scope=None,
              detail=f"removed {responses} responses, {answers} answers, {nominations} "
                     "nominations of one pupil")
    return ErasureResult(int(responses), int(answers), int(nominations))


def apply_retention(
    before: str,
    *,
    warehouse: str | os.PathLike[str] | None = None,
    role: str = "program",
    rebuild: Rebuild | None = None,
) -> ErasureResult:
    """Delete every round whose term is earlier than ``before`` (e.g. ``2021H``)."""
    before = parse_term(before)
    target = warehouse_path(warehouse)
    if not target.exists():
        raise WarehouseError(f"no warehouse at {target}")
    with write_session(target) as session:
        con = session.con
        terms = [r[0] for r in con.execute("SELECT DISTINCT term FROM dim_round").fetchall()]
        old = [t for t in terms if term_index(t) < term_index(before)]
        con.register("old_terms", pl.DataFrame({"term": old}, schema={"term": pl.String}))
        rounds = con.sql(named("erasure", "rounds_before")).pl()
        con.unregister("old_terms")
        con.register("old_rounds", rounds)
        counts = con.execute(
            "SELECT (SELECT count(*) FROM fct_response WHERE round_id IN "
            "(SELECT round_id FROM old_rounds)), (SELECT count(*) FROM fct_answer WHERE "
            "round_id IN (SELECT round_id FROM old_rounds)), (SELECT count(*) FROM "
            "fct_nomination WHERE round_id IN (SELECT round_id FROM old_rounds))"
        ).fetchall()[0]
        con.execute(named("erasure", "delete_rounds"))
        con.unregister("old_rounds")
        rebuild_rounds(con)
        if rebuild is not None:
            rebuild(con)
        audit(con, role=role, action="retention", scope=f"before {before}",
              detail=f"removed {rounds.height} rounds ({counts[0]} responses)")
        if rounds.height == 0:
            session.discard()
    return ErasureResult(int(counts[0]), int(counts[1]), int(counts[2]), rounds.height)


__all__ = ["ErasureResult", "apply_retention", "audit", "forget_pupil"]
