"""Load mapped files into an open write session (see :mod:`lmp_analytics.warehouse.publish`)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import duckdb
import polars as pl

from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.mapped import (
    FILE_COL,
    QUARANTINE_SCHEMA,
    MappedBatch,
    MappedFile,
    WideAnswers,
)
from lmp_analytics.ingest.roster import Roster
from lmp_analytics.ingest.validate import check_answer_contract, check_answers, conflict_quarantine
from lmp_analytics.presentation.messages import message, rejection
from lmp_analytics.warehouse import build, ddl
from lmp_analytics.warehouse.queries import named, sql


def _q(name: str) -> str:
    return named("load", name)


REFERENCE_TABLES = ("dim_school", "dim_phase", "fct_enrolment")
REFERENCE_HASH_KEY = "reference_sha256"


@dataclass(frozen=True)
class LoadedFile:
    """What one file changed in the warehouse; ``quarantine`` as stored (QUARANTINE_SCHEMA).
    ``file_id`` is None while a :class:`BatchLoader` holds the file for its next flush."""

    file_id: int | None
    rows_loaded: int
    rows_quarantined: int
    quarantine: pl.DataFrame
    replaced: tuple[Replacement, ...] = ()


@dataclass(frozen=True)
class Replacement:
    """One stored (round, gruppe) pair a file replaced: pupils stored before and after."""

    round_id: str
    gruppe: str
    before: int
    after: int

    @property
    def shrinks(self) -> bool:
        """More than half of the group's pupils would go."""
        return self.after * 2 < self.before


def stored_schools(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None, int]]:
    """(skole_orgnr, skole, responses) of every school with responses stored."""
    return [tuple(r) for r in con.execute(_q("stored_schools")).fetchall()]


def _replacements(con: duckdb.DuckDBPyConnection, responses: pl.DataFrame,
                  groups: pl.DataFrame) -> list[Replacement]:
    """The stored pairs among ``groups`` (registered as ``new_groups``) with their sizes now and
    after ``responses`` replace them."""
    after = dict(((r, g), n) for r, g, n in
                 responses.group_by("round_id", "gruppe").len().iter_rows())
    return [Replacement(r, g, int(n), int(after.get((r, g), 0)))
            for r, g, n in con.execute(_q("replaced_group_sizes")).fetchall()]


def _refuse_shrink(path: str, replaced: list[Replacement]) -> FileRejected:
    shrunk = [r for r in replaced if r.shrinks]
    listed = tuple(message("notice.shrunk_group", round=r.round_id, gruppe=r.gruppe,
                           before=r.before, after=r.after) for r in shrunk[:5])
    return rejection(path, "shrink_more" if len(shrunk) > 5 else "shrink", listed=listed,
                     more=len(shrunk) - 5, column="gruppe")


def existing_rounds(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Round ids already in the warehouse."""
    return {r[0] for r in con.execute(_q("existing_rounds")).fetchall()}


def loaded_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """sha256 of every file whose rows are in the warehouse now."""
    return {r[0] for r in con.execute(_q("loaded_files")).fetchall()}


def replace_reference(con: duckdb.DuckDBPyConnection, roster: Roster) -> None:
    """Replace schools, phase calendar and (when given) enrolment with the roster's."""
    con.register("new_schools", roster.schools)
    con.register("new_phases", roster.phases)
    con.execute(_q("replace_schools"))
    con.unregister("new_schools")
    con.unregister("new_phases")
    if roster.enrolment.height:
        con.register("new_enrolment", roster.enrolment)
        con.execute(_q("replace_enrolment"))
        con.unregister("new_enrolment")


def stored_reference_hash(con: duckdb.DuckDBPyConnection) -> str | None:
    """The reference-data hash stored by the last publish (None for an older warehouse)."""
    rows = con.execute(_q("get_meta"), [REFERENCE_HASH_KEY]).fetchall()
    return rows[0][0] if rows else None


def store_reference_hash(con: duckdb.DuckDBPyConnection) -> str:
    """Hash the reference tables as they are now (content, not file bytes), store and return it.

    The same roster saved in another encoding or column order gives the same hash.
    """
    h = hashlib.sha256()
    for table in REFERENCE_TABLES:
        h.update(table.encode())
        for row in con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall():
            h.update(repr(row).encode("utf-8"))
    digest = h.hexdigest()
    con.execute(_q("set_meta"), [REFERENCE_HASH_KEY, digest])
    return digest


def load_file(
    con: duckdb.DuckDBPyConnection,
    mapped: MappedFile,
    *,
    path: str,
    sha256: str,
    file_format: str,
    encoding: str | None,
    delimiter: str | None,
    run_id: str,
    known_rounds: set[str],
    allow_shrink: bool = False,
) -> LoadedFile:
    """Replace the (round, gruppe) pairs of ``mapped`` with its rows, in the open transaction.

    Pupils who already answered the same round in a group this file does not replace are
    quarantined. If no row is left the file is rejected and nothing changes. A replacement that
    leaves fewer than half of a stored group's pupils is refused (FileRejected, nothing changes)
    unless ``allow_shrink``; every replaced pair is in :attr:`LoadedFile.replaced`.
    """
    responses, answers, nominations = mapped.responses, mapped.answers, mapped.nominations
    quarantine = mapped.quarantine
    groups = mapped.round_groups()
    file_rounds = set(groups.get_column("round_id").to_list())
    touches_existing = bool(file_rounds & known_rounds)

    if touches_existing:
        responses, answers, nominations, quarantine = _drop_conflicts(
            con, path, responses, answers, nominations, quarantine, groups)

    replaced: list[Replacement] = []
    if touches_existing:
        replaced = _replacements(con, responses, groups)
        if not allow_shrink and any(r.shrinks for r in replaced):
            con.unregister("new_groups")
            raise _refuse_shrink(path, replaced)

    check_answers(path, answers)

    file_id = int(con.execute(_q("next_file_id")).fetchall()[0][0])
    con.execute(_q("supersede_same_path"), [path])
    con.execute(_q("delete_quarantine_same_path"), [path])
    if touches_existing:
        con.execute(_q("delete_groups_response"))
        con.execute(_q("delete_groups_answer"))
        con.execute(_q("delete_groups_nomination"))
        con.unregister("new_groups")
    con.register("new_responses", responses)
    con.register("new_answers", answers)
    con.register("new_nominations", nominations)
    con.register("new_quarantine", quarantine)
    try:
        con.execute(_q("insert_responses"), [file_id])
        con.execute(_q("insert_answers"))
        if nominations.height:
            con.execute(_q("insert_nominations"))
        if quarantine.height:
            con.execute(_q("insert_quarantine"), [file_id, path])
    finally:
        for name in ("new_responses", "new_answers", "new_nominations", "new_quarantine"):
            con.unregister(name)
    quarantine = quarantine.sort("row_number", "column_name")
    rows_quarantined = quarantine.get_column("row_number").n_unique()
    con.execute(
        _q("insert_log"),
        [file_id, run_id, path, sha256, file_format, encoding, delimiter,
         mapped.rows_read, responses.height, rows_quarantined, dt.datetime.now()],
    )
    known_rounds |= file_rounds
    return LoadedFile(file_id, responses.height, rows_quarantined, quarantine, tuple(replaced))


def _drop_conflicts(con: duckdb.DuckDBPyConnection, path: str, responses: pl.DataFrame,
                    answers: pl.DataFrame, nominations: pl.DataFrame, quarantine: pl.DataFrame,
                    groups: pl.DataFrame) -> tuple[pl.DataFrame, ...]:
    """Quarantine the pupils who already answered the round in a stored group this file does not
    replace (registers ``new_groups``); FileRejected when no row is left."""
    con.register("new_responses", responses)
    con.register("new_groups", groups)
    conflicts = con.sql(_q("conflicting_pupils")).pl()
    con.unregister("new_responses")
    if not conflicts.height:
        return responses, answers, nominations, quarantine
    quarantine = pl.concat([quarantine, conflict_quarantine(conflicts)])
    dropped = conflicts.select("row_number")
    gone = responses.join(dropped, on="row_number", how="semi").select("round_id", "elev")
    responses = responses.join(dropped, on="row_number", how="anti")
    answers = answers.join(gone, on=["round_id", "elev"], how="anti")
    nominations = nominations.join(gone, on=["round_id", "elev"], how="anti")
    if responses.height == 0:
        first = conflicts.row(0, named=True)
        raise rejection(path, "other_group", gruppe=first["other_gruppe"],
                        row=int(first["row_number"]), column="elev_id")
    return responses, answers, nominations, quarantine


_NO_QUARANTINE = pl.DataFrame(schema=QUARANTINE_SCHEMA)


class BatchLoader:
    """Loads the files of :class:`MappedBatch` es in file order, as :func:`load_file` one by one
    would, but with one insert per table for every run of files whose rounds are new.

    A file whose rounds are new to the warehouse (and to the files before it) replaces nothing and
    cannot conflict, so it waits for the next :meth:`flush`; any other file first flushes the
    waiting ones and then goes through :func:`load_file`. File ids follow the file order.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, *, run_id: str,
                 known_rounds: set[str], allow_shrink: bool = False) -> None:
        self.con = con
        self.run_id = run_id
        self.allow_shrink = allow_shrink
        self.known_rounds = known_rounds
        self._batch: MappedBatch | None = None
        self._pending: list[dict] = []
        self._paths: set[str] = set()

    def start(self, batch: MappedBatch) -> None:
        """Take the next batch (flushes the files waiting from the one before)."""
        self.flush()
        self._batch = batch
        rounds = batch.responses.group_by(FILE_COL).agg(pl.col("round_id").unique())
        self._rounds = {f: set(r) for f, r in rounds.iter_rows()}
        self._sizes = dict(batch.responses.group_by(FILE_COL).len().iter_rows())
        self._quarantine = batch.quarantine.partition_by(FILE_COL, as_dict=True,
                                                         include_key=False)

    def load(self, index: int, *, path: str, sha256: str, file_format: str,
             encoding: str | None, delimiter: str | None) -> LoadedFile:
        """Load file ``index`` of the current batch (or hold it for the next flush)."""
        batch = self._batch
        rounds = self._rounds.get(index, set())
        if rounds & self.known_rounds or path in self._paths:
            self.flush()
            return load_file(self.con, batch.file(index), path=path, sha256=sha256,
                             file_format=file_format, encoding=encoding, delimiter=delimiter,
                             run_id=self.run_id, known_rounds=self.known_rounds,
                             allow_shrink=self.allow_shrink)
        quarantine = self._quarantine.get((index,))
        if quarantine is None:
            loaded = LoadedFile(None, self._sizes.get(index, 0), 0, _NO_QUARANTINE)
        else:
            quarantine = quarantine.sort("row_number", "column_name")
            loaded = LoadedFile(None, self._sizes.get(index, 0),
                                quarantine.get_column("row_number").n_unique(), quarantine)
        self._pending.append({
            FILE_COL: index, "path": path, "sha256": sha256, "file_format": file_format,
            "encoding": encoding, "delimiter": delimiter, "rows_read": batch.rows_read[index],
            "rows_loaded": loaded.rows_loaded, "rows_quarantined": loaded.rows_quarantined,
        })
        self._paths.add(path)
        self.known_rounds |= rounds
        return loaded

    def flush(self) -> None:
        """Insert the waiting files."""
        if not self._pending:
            return
        con, batch, pending = self.con, self._batch, self._pending
        self._pending, self._paths = [], set()
        ids = sorted(r[0] for r in con.execute(_q("next_file_ids"), [len(pending)]).fetchall())
        now = dt.datetime.now()
        log = pl.DataFrame(pending, schema={
            FILE_COL: pl.Int64, "path": pl.String, "sha256": pl.String, "file_format": pl.String,
            "encoding": pl.String, "delimiter": pl.String, "rows_read": pl.Int64,
            "rows_loaded": pl.Int64, "rows_quarantined": pl.Int64,
        }).with_columns(
            pl.Series("file_id", ids, dtype=pl.Int64), pl.lit(self.run_id).alias("run_id"),
            pl.lit(now).alias("loaded_at"),
        )
        frames = {"new_responses": batch.responses, "new_nominations": batch.nominations,
                  "new_quarantine": batch.quarantine}
        wide = batch.wide
        if len(pending) < len(batch.tables):
            wanted = log.get_column(FILE_COL).implode()
            frames = {name: f.filter(pl.col(FILE_COL).is_in(wanted)) for name, f in frames.items()}
            wide = [WideAnswers(w.frame.filter(pl.col(FILE_COL).is_in(wanted)), w.columns,
                                w.check_pairs) for w in wide]
        wide = [w for w in wide if w.frame.height]
        check_answer_contract(wide, dict(log.select(FILE_COL, "path").iter_rows()))
        names = ["new_log", *frames]
        con.register("new_log", log)
        for name, frame in frames.items():
            con.register(name, frame)
        try:
            con.execute(_q("supersede_batch_paths"))
            con.execute(_q("delete_quarantine_batch_paths"))
            con.execute(_q("insert_responses_batch"))
            for part in wide:
                _insert_wide_answers(con, part, batch.valid_pairs)
            if frames["new_nominations"].height:
                con.execute(_q("insert_nominations_batch"))
            if frames["new_quarantine"].height:
                con.execute(_q("insert_quarantine_batch"))
            con.execute(_q("insert_log_batch"))
        finally:
            for name in names:
                con.unregister(name)


def _insert_wide_answers(con: duckdb.DuckDBPyConnection, wide: WideAnswers,
                         valid_pairs: pl.DataFrame) -> None:
    """Unpivot one block of wide answers into ``fct_answer`` inside DuckDB (no long copy)."""
    columns = ", ".join(f'"{c}"' for c in wide.columns)
    names = "[" + ", ".join(f"'{c}'" for c in wide.columns) + "]::VARCHAR[]"
    pairs = _q("valid_pairs_filter") if wide.check_pairs else ""
    con.register("new_wide", wide.frame)
    if wide.check_pairs:
        con.register("new_pairs", valid_pairs)
    try:
        con.execute(_q("insert_answers_wide").format(columns=columns, names=names, pairs=pairs))
    finally:
        con.unregister("new_wide")
        if wide.check_pairs:
            con.unregister("new_pairs")


_ROUND_ORDER = "ORDER BY skole_orgnr, first_date, runde"
ROUND_TARGET = "dim_round"
#: dim_round depends on nothing but its rounds' facts: its recorded inputs are constant.
_ROUND_INPUTS = "1"


def rebuild_rounds(con: duckdb.DuckDBPyConnection) -> None:
    """Bring ``dim_round`` up to date with the facts: recompute the rounds whose facts changed
    since its last build (the engine's state, :mod:`lmp_analytics.warehouse.build`), or every
    round when it has no state."""
    build.round_fingerprints(con, "round_fingerprint_now")
    select = sql("dim_round")
    if build.is_current(con, ROUND_TARGET, _ROUND_INPUTS):
        if not build.changed(con, ROUND_TARGET, "round_fingerprint_now", "round_changed"):
            return
        changed = "(SELECT round_id FROM round_changed)"
        fresh = select.format(
            responses=f"(SELECT * FROM fct_response WHERE round_id IN {changed})",
            answers=f"(SELECT * FROM fct_answer WHERE round_id IN {changed})")
        con.execute(_q("replaced_rounds").format(changed=changed, fresh=fresh,
                                                  order=_ROUND_ORDER))
        ddl.insert(con, ROUND_TARGET, _q("replaced_rounds_rows"), replace=True)
        con.execute(_q("drop_replaced_rounds"))
    else:
        ddl.insert(con, ROUND_TARGET, _q("rounds_rows").format(
            select=select.format(responses="fct_response", answers="fct_answer"),
            order=_ROUND_ORDER), replace=True)
    build.record(con, ROUND_TARGET, "round_fingerprint_now", _ROUND_INPUTS)


def record_round_state(con: duckdb.DuckDBPyConnection) -> None:
    """Mark ``dim_round`` as derived from the facts as they are now."""
    build.round_fingerprints(con, "round_fingerprint_now")
    build.record(con, ROUND_TARGET, "round_fingerprint_now", _ROUND_INPUTS)


def replace_national_results(con: duckdb.DuckDBPyConnection, results: pl.DataFrame) -> None:
    """Store Elevundersøkelsen rows (published aggregates): each replaces the stored row of the
    same cell (unit, school year, grade, indicator, gender, owner), except that preliminary
    figures never replace final ones."""
    con.register("new_eu", results)
    try:
        con.execute(_q("replace_eu_results"))
    finally:
        con.unregister("new_eu")


def national_loaded_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Content hashes of the national files loaded before (a file loaded again is a no-op)."""
    return {row[0] for row in con.execute(_q("eu_loaded_hashes")).fetchall()}


def load_national_file(
    con: duckdb.DuckDBPyConnection, results: pl.DataFrame, problems: pl.DataFrame, *,
    path: str, sha256: str, layout: str, file_format: str | None, rows_read: int,
) -> None:
    """Store one national file: its rows (:func:`replace_national_results`), its quarantine
    (replacing an earlier quarantine of the same path) and its log entry."""
    replace_national_results(con, results)
    con.register("new_eu_quarantine", problems)
    try:
        con.execute(_q("replace_eu_quarantine"))
    finally:
        con.unregister("new_eu_quarantine")
    quarantined = problems.get_column("row").n_unique() if problems.height else 0
    con.execute(_q("log_eu_file"), [path, sha256, layout, file_format, rows_read,
                                    results.height, quarantined, dt.datetime.now()])
