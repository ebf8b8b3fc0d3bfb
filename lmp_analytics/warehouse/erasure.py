"""Erasure of pupils and retention of old rounds: both publish atomically, are audited and are
verified after publishing.

Spekter is non-anonymous data about children, so a pupil's rows must be deletable: ``forget``
finds them through the keyed pseudonym (the raw id is never stored) and removes every response,
answer, nomination (as nominator or nominee) and quarantined cell, then rebuilds every derived
table so that no mart or publication still counts the pupil. ``retention`` deletes every round
before a term. The audit log (:mod:`lmp_analytics.warehouse.audit`) records the action, who ran
it, the role and the number of rows removed, never the pupil. ``forget`` checks its key against
the warehouse's recorded key fingerprint first (:mod:`lmp_analytics.warehouse.meta`).

Deleting rows is not enough: DuckDB leaves them in free blocks of the file, and the dashboard's
reader snapshots (hard links) keep earlier versions whole. So both publish through an ``erase``
write session (a freshly written file; every reader snapshot deleted after the rename) and then
:func:`verify_erased` checks that the erased pseudonyms are in no table and in no byte of any
file beside the warehouse, and fails loudly otherwise.
"""

from __future__ import annotations

import datetime as dt
import mmap
import os
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from lmp_analytics.config import warehouse_path
from lmp_analytics.errors import KeyMismatchError, TermError, UsageError, WarehouseError
from lmp_analytics.ingest import protect
from lmp_analytics.presentation.messages import message, refusal
from lmp_analytics.terms import parse_term, term_index, term_of_date
from lmp_analytics.warehouse import audit, meta, reading
from lmp_analytics.warehouse.load import rebuild_rounds
from lmp_analytics.warehouse.publish import check_ours, write_session
from lmp_analytics.warehouse.queries import named
from lmp_analytics.warehouse.snapshots import (
    READ_INFIX,
    files_beside,
    remove_reader_snapshots,
)

Rebuild = Callable[[duckdb.DuckDBPyConnection], None]


class ErasureNotVerified(WarehouseError):
    """After publishing, an erased pseudonym is still in a table or in a file beside the
    warehouse."""


@dataclass(frozen=True)
class ErasureResult:
    """Rows removed by one erasure or retention run.

    ``pupils``: ids asked for; ``found``: how many of them the warehouse held; ``snapshots``:
    reader snapshots deleted; ``files_checked``: files beside the warehouse scanned afterwards;
    ``plan``: retention's rounds, schools and rows per term.
    """

    responses: int
    answers: int
    nominations: int
    rounds: int = 0
    pupils: int = 0
    found: int = 0
    snapshots: int = 0
    files_checked: int = 0
    plan: pl.DataFrame | None = field(default=None, compare=False)


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
    raise refusal(KeyMismatchError, "no_fingerprint_erasure",
                  source=source or message("refusal.source_configured"))


def read_pupil_ids(lines: Iterable[str]) -> list[str]:
    """Pupil ids from a file's lines (one per line; blank lines ignored; duplicates once)."""
    return list(dict.fromkeys(s for s in (line.strip() for line in lines) if s))


def forget_pupils(
    elev_ids: Iterable[str],
    *,
    key: bytes | None = None,
    warehouse: str | os.PathLike[str] | None = None,
    role: str = "program",
    rebuild: Rebuild | None = None,
    key_source: str | None = None,
) -> ErasureResult:
    """Remove every row of the pupils with these raw ids, rebuild the derived tables, publish a
    freshly written file, delete every reader snapshot and verify (:func:`verify_erased`).
    ``key_source`` names where the key came from, for the message when it is refused."""
    ids = read_pupil_ids(elev_ids)
    if not ids:
        raise refusal(UsageError, "ids_none")
    key = protect.load_key() if key is None else key
    target = warehouse_path(warehouse)
    if not target.exists():
        raise refusal(WarehouseError, "no_warehouse", target=target)
    pseudonyms = sorted({protect.pseudonym(key, i) for i in ids})
    gone = pl.DataFrame({"elev": pseudonyms})
    with (audit.pending("forget", role=role, warehouse=target) as entry,
          write_session(target, erase=True) as session):
        con = session.con
        con.register("gone", gone)
        responses, answers, nominations = con.execute(
            named("erasure", "count_pupil_rows")
        ).fetchall()[0]
        found = con.execute(named("erasure", "count_pupils_found")).fetchall()[0][0]
        check_erasure_key(con, key, responses + answers + nominations, key_source)
        con.execute(named("erasure", "delete_pupil"))
        con.unregister("gone")
        rebuild_rounds(con)
        if rebuild is not None:
            rebuild(con)
        entry.detail = (f"removed {responses} responses, {answers} answers, {nominations} "
                        f"nominations of {len(ids)} pupil(s) ({found} found)")
        entry.record()
    checked = verify_erased(target, pseudonyms)
    return ErasureResult(int(responses), int(answers), int(nominations), pupils=len(ids),
                         found=int(found), snapshots=len(session.removed_snapshots),
                         files_checked=checked)


def forget_pupil(elev_id: str, **kwargs) -> ErasureResult:
    """:func:`forget_pupils` for one pupil."""
    return forget_pupils([elev_id], **kwargs)


def _check_before(before: str, today: dt.date | None) -> str:
    before = parse_term(before)
    now = term_of_date(today or dt.date.today())
    if term_index(before) > term_index(now):
        raise refusal(TermError, "future_term", before=before, now=now)
    return before


def _rounds_before(con: duckdb.DuckDBPyConnection, before: str) -> pl.DataFrame:
    terms = [r[0] for r in con.execute("SELECT DISTINCT term FROM dim_round").fetchall()]
    old = [t for t in terms if term_index(t) < term_index(before)]
    con.register("old_terms", pl.DataFrame({"term": old}, schema={"term": pl.String}))
    try:
        return con.sql(named("erasure", "rounds_before")).pl()
    finally:
        con.unregister("old_terms")


def plan_retention(
    before: str, *, warehouse: str | os.PathLike[str] | None = None,
    today: dt.date | None = None,
) -> pl.DataFrame:
    """What ``apply_retention(before)`` would delete: per term the rounds, schools, responses,
    answers and nominations (empty: nothing). A future term is refused (TermError)."""
    before = _check_before(before, today)
    with reading(warehouse) as con:
        check_ours(con, warehouse_path(warehouse))
        con.register("old_rounds", _rounds_before(con, before))
        return con.sql(named("erasure", "retention_plan")).pl()


def apply_retention(
    before: str,
    *,
    warehouse: str | os.PathLike[str] | None = None,
    role: str = "program",
    rebuild: Rebuild | None = None,
    today: dt.date | None = None,
) -> ErasureResult:
    """Delete every round whose term is earlier than ``before`` (e.g. ``2021H``; not a future
    term), publish a freshly written file, delete every reader snapshot and verify that the
    pseudonyms found only in the deleted rounds are gone (:func:`verify_erased`)."""
    before = _check_before(before, today)
    target = warehouse_path(warehouse)
    if not target.exists():
        raise refusal(WarehouseError, "no_warehouse", target=target)
    hex_chars = {"hex_chars": protect.PSEUDONYM_HEX_CHARS}
    with (audit.pending("retention", role=role, scope=f"before {before}",
                        warehouse=target) as entry,
          write_session(target, erase=True) as session):
        con = session.con
        rounds = _rounds_before(con, before)
        con.register("old_rounds", rounds)
        plan = con.sql(named("erasure", "retention_plan")).pl()
        if rounds.height == 0:
            session.discard()
            entry.detail = "removed 0 rounds (0 responses)"
            entry.record()
            return ErasureResult(0, 0, 0, 0, plan=plan)
        stored = {r[0] for r in con.execute(named("erasure", "stored_pseudonyms"),
                                            hex_chars).fetchall()}
        con.execute(named("erasure", "delete_rounds"))
        con.unregister("old_rounds")
        rebuild_rounds(con)
        if rebuild is not None:
            rebuild(con)
        kept = {r[0] for r in con.execute(named("erasure", "stored_pseudonyms"),
                                          hex_chars).fetchall()}
        responses, answers, nominations = (int(plan[c].sum()) for c in
                                           ("responses", "answers", "nominations"))
        entry.detail = (f"removed {rounds.height} rounds ({responses} responses) of terms "
                        f"{', '.join(plan['term'].to_list())}")
        entry.record()
    checked = verify_erased(target, sorted(stored - kept))
    return ErasureResult(responses, answers, nominations, rounds.height,
                         snapshots=len(session.removed_snapshots), files_checked=checked,
                         plan=plan)


# --------------------------------------------------------------------------------------------
# Verification


def verify_erased(target: Path, pseudonyms: Collection[str]) -> int:
    """Check the published warehouse and every file beside it after an erasure: no text column
    of any table holds one of ``pseudonyms`` and no file named ``<warehouse>*`` or
    ``.<warehouse>*``, nor the audit log, holds one in any byte. A reader snapshot made while
    the erasure published is deleted (then the check is repeated once). Raises
    :class:`ErasureNotVerified` naming the tables and files (never the pseudonyms); returns the
    number of files scanned."""
    needles = sorted(set(pseudonyms))
    problems = [f"table {t}" for t in _tables_holding(target, needles)] if needles else []
    log = audit.log_path(target)
    for attempt in (1, 2):
        files = files_beside(target) + ([log] if log.exists() else [])
        found = scan_files(files, needles) if needles else {}
        stale = [p for p in found if p.name.startswith(f"{target.name}{READ_INFIX}")]
        if attempt == 1 and stale:
            remove_reader_snapshots(target)
            continue
        break
    problems += [f"file {p}" for p in found]
    if problems:
        raise ErasureNotVerified(
            f"{target}: the erased data was published, but {len(needles)} erased pseudonym(s) "
            f"are still in: {'; '.join(problems)}. Stop the processes that use these files, "
            "delete the files that are not the warehouse itself and run the command again."
        )
    return len(files)


def _tables_holding(target: Path, needles: list[str]) -> list[str]:
    """Tables (``table.column``) of the published warehouse whose text holds a needle: equal to
    it, or (for a few needles) containing it."""
    out = []
    with reading(target) as con:
        con.register("erased", pl.DataFrame({"p": needles}))
        columns: dict[str, list[str]] = {}
        for table, column in con.execute(named("erasure", "varchar_columns")).fetchall():
            columns.setdefault(table, []).append(column)
        for table, cols in columns.items():
            for col in cols:
                ident = '"' + col.replace('"', '""') + '"'
                if len(needles) <= 16:
                    cond = " OR ".join(f"contains({ident}, ?)" for _ in needles)
                    params = list(needles)
                else:
                    cond, params = f"{ident} IN (SELECT p FROM erased)", []
                tbl = '"' + table.replace('"', '""') + '"'
                hit = con.execute(f"SELECT EXISTS (SELECT 1 FROM {tbl} WHERE {cond})",
                                  params).fetchall()[0][0]
                if hit:
                    out.append(f"{table}.{col}")
    return out


SCAN_CHUNK = 64 << 20


def scan_files(paths: Iterable[Path], needles: Collection[str]) -> dict[Path, set[str]]:
    """Which files hold which needles (ASCII text) anywhere in their bytes, compressed or not
    as DuckDB stored them. Files that vanish meanwhile are skipped."""
    out: dict[Path, set[str]] = {}
    needles = sorted(set(needles))
    if not needles:
        return out
    for path in paths:
        try:
            hits = _scan_file(Path(path), needles)
        except FileNotFoundError:
            continue
        if hits:
            out[Path(path)] = hits
    return out


def _scan_file(path: Path, needles: list[str]) -> set[str]:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return set()
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as blob:
            if len(needles) <= 8:
                return {n for n in needles if blob.find(n.encode("ascii")) != -1}
            # Many needles: Aho-Corasick over overlapping chunks (polars' extract_many); each
            # byte becomes one character (latin-1), so ASCII needles match exactly.
            longest = max(len(n) for n in needles)
            hits: set[str] = set()
            start = 0
            while start < size:
                chunk = blob[start:start + SCAN_CHUNK + longest - 1].decode("latin-1")
                found = pl.Series([chunk]).str.extract_many(needles, overlapping=True)
                hits.update(found.explode().drop_nulls().to_list())
                start += SCAN_CHUNK
            return hits


__all__ = ["ErasureNotVerified", "ErasureResult", "apply_retention", "check_erasure_key",
           "forget_pupil", "forget_pupils", "plan_retention", "read_pupil_ids", "scan_files",
           "verify_erased"]
