"""Load mapped files into an open write session (see :mod:`lmp_analytics.warehouse.publish`)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import duckdb
import polars as pl

from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.mapping import QUARANTINE_SCHEMA, MappedFile
from lmp_analytics.ingest.roster import Roster
from lmp_analytics.ingest.schemas import answer_table_schema, collect_failures
from lmp_analytics.warehouse.queries import named, sql


def _q(name: str) -> str:
    return named("load", name)


REFERENCE_TABLES = ("dim_school", "dim_phase", "fct_enrolment")
REFERENCE_HASH_KEY = "reference_sha256"


@dataclass(frozen=True)
class LoadedFile:
    """What one file changed in the warehouse; ``quarantine`` as stored (QUARANTINE_SCHEMA)."""

    file_id: int
    rows_loaded: int
    rows_quarantined: int
    quarantine: pl.DataFrame


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
) -> LoadedFile:
    """Replace the (round, gruppe) pairs of ``mapped`` with its rows, in the open transaction.

    Pupils who already answered the same round in a group this file does not replace are
    quarantined. If no row is left the file is rejected and nothing changes.
    """
    responses, answers, nominations = mapped.responses, mapped.answers, mapped.nominations
    quarantine = mapped.quarantine
    groups = mapped.round_groups()
    file_rounds = set(groups.get_column("round_id").to_list())
    touches_existing = bool(file_rounds & known_rounds)

    if touches_existing:
        con.register("new_responses", responses)
        con.register("new_groups", groups)
        conflicts = con.sql(_q("conflicting_pupils")).pl()
        con.unregister("new_responses")
        if conflicts.height:
            extra = conflicts.select(
                pl.col("row_number"),
                pl.lit("elev_id").alias("column_name"),
                pl.col("elev").alias("value"),
                pl.format(
                    "expected each pupil once per round (this pupil already answered the round "
                    "in gruppe {} from {})", "other_gruppe", "other_path"
                ).alias("reason"),
            )
            quarantine = pl.concat([quarantine, extra.cast(QUARANTINE_SCHEMA)])
            dropped = conflicts.select("row_number")
            gone = responses.join(dropped, on="row_number", how="semi").select(
                "round_id", "elev"
            )
            responses = responses.join(dropped, on="row_number", how="anti")
            answers = answers.join(gone, on=["round_id", "elev"], how="anti")
            nominations = nominations.join(gone, on=["round_id", "elev"], how="anti")
            if responses.height == 0:
                first = conflicts.row(0, named=True)
                raise FileRejected(
                    path,
                    "every row failed validation: each pupil already answered this round in "
                    f"another group (e.g. gruppe {first['other_gruppe']})",
                    row=int(first["row_number"]),
                    column="elev_id",
                )

    failures = collect_failures(answer_table_schema(), answers)
    if failures:  # mapping guarantees these; a failure here is a bug, not bad data
        raise RuntimeError(f"{path}: answer rows broke the warehouse contract: {failures[:3]}")

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
    return LoadedFile(file_id, responses.height, rows_quarantined, quarantine)


def rebuild_rounds(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild ``dim_round`` from the facts."""
    con.execute(sql("dim_round"))


def replace_national_results(con: duckdb.DuckDBPyConnection, results: pl.DataFrame) -> None:
    """Replace the Elevundersøkelsen rows of the files in ``results`` (published aggregates)."""
    con.register("new_eu", results)
    try:
        con.execute(_q("replace_eu_results"))
    finally:
        con.unregister("new_eu")
