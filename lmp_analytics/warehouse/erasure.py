"""Erasure of one pupil and retention of old rounds; both publish atomically and are audited.

Spekter is non-anonymous data about children, so a pupil's rows must be deletable: ``forget``
finds them through the keyed pseudonym (the raw id is never stored) and removes every response,
answer, nomination (as nominator or nominee) and quarantined cell, then rebuilds every derived
table so that no mart or publication still counts the pupil. ``retention`` deletes every round
before a term. The audit log (:mod:`lmp_analytics.warehouse.audit`) records the action, who ran
it, the role and the number of rows removed, never the pupil. ``forget`` checks its key against
the warehouse's recorded key fingerprint first (:mod:`lmp_analytics.warehouse.meta`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl

from lmp_analytics.config import warehouse_path
from lmp_analytics.errors import KeyMismatchError, WarehouseError
from lmp_analytics.ingest import protect
from lmp_analytics.terms import parse_term, term_index
from lmp_analytics.warehouse import audit, meta
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


def check_erasure_key(con: duckdb.DuckDBPyConnection, key: bytes, found: int,
                      source: str | None = None) -> None:
    """Before an erasure: refuse a key other than the recorded one (KeyMismatchError). A
    warehouse that records no key adopts this one when it found the pupil (the key made that
    pseudonym); finding nothing there is an error, since a wrong key also finds nothing."""
    if meta.check_key(con, key, source=source, action="Erasure"):
        return
    if found:
        meta.record_key(con, key)
        return
    raise KeyMismatchError(
        f"no rows of that pupil, and this warehouse records no key fingerprint (it was made "
        f"before they were recorded), so the key from {source or 'the configured key'} cannot "
        "be checked: a wrong key also finds no rows. Check the id and that this is the key the "
        "warehouse was built with; the next ingest records the key's fingerprint."
    )


def forget_pupil(
    elev_id: str,
    *,
    key: bytes | None = None,
    warehouse: str | os.PathLike[str] | None = None,
    role: str = "program",
    rebuild: Rebuild | None = None,
    key_source: str | None = None,
) -> ErasureResult:
    """Remove every row of the pupil with raw id ``elev_id`` and rebuild the derived tables.
    ``key_source`` names where the key came from, for the message when it is refused."""
    key = protect.load_key() if key is None else key
    target = warehouse_path(warehouse)
    if not target.exists():
        raise WarehouseError(f"no warehouse at {target}")
    gone = pl.DataFrame({"elev": [protect.pseudonym(key, elev_id)]})
    with (audit.pending("forget", role=role, warehouse=target) as entry,
          write_session(target) as session):
        con = session.con
        con.register("gone", gone)
        responses, answers, nominations = con.execute(
            named("erasure", "count_pupil_rows")
        ).fetchall()[0]
        check_erasure_key(con, key, responses + answers + nominations, key_source)
        con.execute(named("erasure", "delete_pupil"))
        con.unregister("gone")
        rebuild_rounds(con)
        if rebuild is not None:
            rebuild(con)
        entry.detail = (f"removed {responses} responses, {answers} answers, {nominations} "
                        "nominations of one pupil")
        entry.record()
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
    with (audit.pending("retention", role=role, scope=f"before {before}",
                        warehouse=target) as entry,
          write_session(target) as session):
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
        entry.detail = f"removed {rounds.height} rounds ({counts[0]} responses)"
        entry.record()
        if rounds.height == 0:
            session.discard()
    return ErasureResult(int(counts[0]), int(counts[1]), int(counts[2]), rounds.height)


__all__ = ["ErasureResult", "apply_retention", "check_erasure_key", "forget_pupil"]
