"""Ingest many files in one run: each file is read, protected, mapped and validated on its own;
good files load even when another file of the same run is rejected; the warehouse is published
once, atomically, at the end. The steps live in :mod:`lmp_analytics.ingest`, the load in
:mod:`lmp_analytics.warehouse`; this module wires them and sits above both, so neither package
imports the other.

For speed, files go in chunks (at most :data:`CHUNK_FILES` files and about :data:`CHUNK_BYTES`
bytes, so memory is bounded by the chunk, not by the input): each chunk is read, then mapped and
validated in one pass (:func:`~lmp_analytics.ingest.mapping.map_tables`) and loaded with one
insert per table for the files whose rounds are new
(:class:`~lmp_analytics.warehouse.load.BatchLoader`). The next chunk is read and mapped in a
worker thread while DuckDB inserts the current one (polars and DuckDB release the GIL). Every
file keeps its own outcome, line numbers, quarantine and rejection, as if it were loaded alone in
order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lmp_analytics.codebook import load_codebooks
from lmp_analytics.config import env_min_n, warehouse_path
from lmp_analytics.errors import FileRejected, RosterError
from lmp_analytics.ingest import protect
from lmp_analytics.ingest.mapping import MappedBatch, map_tables
from lmp_analytics.ingest.profile import MappingProfile, apply_profile
from lmp_analytics.ingest.readers import SUPPORTED_SUFFIXES, RawTable, read_many
from lmp_analytics.ingest.roster import Roster, read_roster
from lmp_analytics.presentation.messages import message, rejection
from lmp_analytics.warehouse import audit, build, load, meta
from lmp_analytics.warehouse.publish import commit_stage, scratch_session, write_session

EXIT_OK, EXIT_QUARANTINE, EXIT_REJECTED = 0, 1, 2
REFERENCE_FILE_NAMES = {"program", "faser", "elevtall", "truth"}
CHUNK_FILES = 500
"""Files read and mapped together: bounds memory (a national year is ~5,000 files) while keeping
the per-file overhead of polars, pandera and DuckDB calls small."""
CHUNK_BYTES = 24_000_000
"""Input bytes read and mapped together (a chunk closes at the file that reaches it): bounds the
memory of a run of large consolidated files, and gives the reader of the next chunk something to
overlap with the insert of this one. Two chunks are in memory at a time."""

Progress = Callable[[int, int, Path], None]
AfterLoad = Callable[[duckdb.DuckDBPyConnection], None]


@dataclass
class FileOutcome:
    """What happened to one input file. ``status``: loaded | skipped | rejected | valid."""

    path: Path
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    row: int | None = None
    column: str | None = None
    warnings: list[str] = field(default_factory=list)
    replaced: list[load.Replacement] = field(default_factory=list)
    message_key: str | None = None
    """The key of ``message`` in the language files (``cli.<key>``), when it has one."""
    message_values: dict = field(default_factory=dict)


@dataclass
class IngestReport:
    """The outcome of one ``lmp ingest`` / ``lmp validate`` run."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    roster_error: str | None = None
    roster_rejection: FileRejected | None = None
    """The refusal behind ``roster_error`` when the roster file itself was refused (its key
    lets the CLI say it in the reader's language)."""
    warehouse: Path | None = None
    published: bool = False
    dry_run: bool = False
    reference_changed: bool = False
    min_n: int | None = None
    notices: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Run-level warnings (e.g. a retired kommunenummer in the roster read as its successor)."""
    notice_keys: dict[str, tuple[str, dict]] = field(default_factory=dict)
    """For a notice that has one: the key of its text in the language files (``cli.<key>``)
    and its values."""

    def notice(self, text: str, key: str, **values) -> None:
        """Add the notice ``text`` (English), keyed ``key`` with ``values``."""
        self.notices.append(text)
        self.notice_keys[text] = (key, values)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def rows_loaded(self) -> int:
        return sum(o.rows_loaded for o in self.outcomes)

    @property
    def rows_quarantined(self) -> int:
        return sum(o.rows_quarantined for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 all loaded; 1 some rows quarantined (the rest loaded); 2 a file or roster rejected."""
        if self.roster_error or self.count("rejected"):
            return EXIT_REJECTED
        if self.rows_quarantined:
            return EXIT_QUARANTINE
        return EXIT_OK


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files given, plus every supported file under given folders (reference files, hidden files
    and Excel's ``~$`` lock files excluded)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(
                f for f in p.rglob("*")
                if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES
                and f.stem.lower() not in REFERENCE_FILE_NAMES
                and not f.stem.lower().startswith("elevundersokelsen")
                and not f.name.startswith((".", "~$"))  # hidden files, Excel's lock files
            )
        else:
            out.append(p)
    return out


def _companion(roster_path: Path, explicit: str | os.PathLike[str] | None, name: str):
    if explicit is not None:
        return Path(explicit)
    guess = roster_path.with_name(name)
    return guess if guess.exists() else None


def ingest_files(
    paths: Iterable[str | os.PathLike[str]],
    roster: str | os.PathLike[str],
    *,
    warehouse: str | os.PathLike[str] | None = None,
    phases: str | os.PathLike[str] | None = None,
    enrolment: str | os.PathLike[str] | None = None,
    key: bytes | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    after_load: AfterLoad | None = None,
    today: dt.date | None = None,
    key_source: str | None = None,
    min_n: int | None = None,
    allow_min_n_below_5: bool = False,
    allow_shrink: bool = False,
    profile: MappingProfile | None = None,
) -> IngestReport:
    """Ingest Spekter exports into the warehouse (or only check them, with ``dry_run``).

    ``profile`` (:func:`lmp_analytics.ingest.profile.load_profile`) renames and recodes every
    file's columns before mapping, for exports that are not in the contract layout.

    ``phases``/``enrolment`` default to ``faser.csv``/``elevtall.csv`` beside the roster.
    ``key`` defaults to :func:`lmp_analytics.ingest.protect.load_key`; a dry run uses a
    throw-away key because it stores nothing. ``after_load`` rebuilds derived tables (marts)
    in the same private copy of the warehouse before publishing (the loaded facts are committed
    to that copy first, which readers never see: they see the old file or the new one).

    A new warehouse is published when a file loaded, or when no file was rejected and the
    roster, phase calendar or enrolment differ from the stored ones (a hash in ``meta``): a run in
    which files were rejected and none loaded changes nothing, roster included. A roster that
    leaves out a school whose responses are stored is refused (``roster_error``; nothing changes).
    A run that loads no file creates a warehouse only when it was given no file (the roster
    alone); one whose files were all rejected or skipped never does. A correction that replaces
    a stored (round, gruppe) pair by fewer than half of its pupils is rejected unless
    ``allow_shrink``;
    every replaced pair is reported (:attr:`FileOutcome.replaced`).

    A dry run takes the same path into an in-memory scratch warehouse (derived tables included),
    so it reports exactly what an ingest into an empty warehouse would (files are checked against
    each other, not against the published warehouse, whose pseudonyms need the real key).

    The key must be the one recorded in the warehouse (KeyMismatchError otherwise, before
    anything is read; ``key_source`` names it in the message); the first ingest records it. The
    threshold is ``min_n`` when given (below 5 only with ``allow_min_n_below_5``), else the
    recorded one (10 for a new warehouse): see :mod:`lmp_analytics.warehouse.meta`. A changed
    threshold publishes (the publication is suppressed again) and is audited.
    """
    if min_n is not None:
        meta.check_min_n(int(min_n), allow_below_5=allow_min_n_below_5)
    target = warehouse_path(warehouse)
    report = IngestReport(warehouse=target, dry_run=dry_run)
    roster_path = Path(roster)
    try:
        ref: Roster = read_roster(
            roster_path,
            _companion(roster_path, phases, "faser.csv"),
            _companion(roster_path, enrolment, "elevtall.csv"),
        )
    except (RosterError, FileRejected) as exc:
        report.roster_error, report.roster_rejection = str(exc), exc
        return report
    report.warnings += ref.warnings
    if key is None:
        key = protect.generate_key().encode() if dry_run else protect.load_key()
    books = load_codebooks()
    files = expand_paths(paths)

    def run(con: duckdb.DuckDBPyConnection, existed: bool = False,
            entries: list[audit.Entry] | None = None) -> bool:
        """Load every file into ``con``; True if the result should be published."""
        report.roster_error = _dropped_schools(con, ref)
        if report.roster_error:
            return False
        if not dry_run:
            key_known = meta.check_key(con, key, source=key_source, action="Ingest")
            held_pupils = not key_known and meta.has_pupils(con)
            threshold = meta.set_min_n(con, min_n, allow_below_5=allow_min_n_below_5)
            report.min_n = threshold.after
            _threshold_notices(report, threshold)
        known = load.existing_rounds(con)
        done = load.loaded_hashes(con)
        run_id = uuid.uuid4().hex[:12]
        started = dt.datetime.now()
        loader = load.BatchLoader(con, run_id=run_id, known_rounds=known,
                                  allow_shrink=allow_shrink)
        _load_chunks(con, loader, files, done=done, profile=profile, books=books,
                     roster_orgnrs=ref.orgnrs, key=key, today=today, report=report,
                     progress=progress, dry_run=dry_run)
        loader.flush()
        loaded = report.count("loaded") + report.count("valid")
        if not loaded and report.count("rejected"):
            return False  # a rejected run changes nothing, roster included
        before = load.stored_reference_hash(con)
        load.replace_reference(con, ref)
        report.reference_changed = load.store_reference_hash(con) != before
        # A run that loads no file creates a warehouse only when it was given no file at all
        # (the roster alone: `lmp ingest EMPTY_FOLDER --roster program.csv`, e.g. before
        # `lmp evaluate national`); it updates an existing one only when the reference data
        # (roster, faser, elevtall) or the threshold changed, or when its derived tables must
        # be rebuilt (another schema version, or missing tables).
        rebuild = (build.rebuild_reason(con) if existed and not dry_run and after_load
                   else None)
        if not (loaded or ((existed or not files) and report.reference_changed)
                or (existed and not dry_run and threshold.changed) or rebuild):
            return False
        if dry_run:  # the same derived tables as an ingest builds: the same errors surface
            load.rebuild_rounds(con)
            if after_load is not None:
                after_load(con)
            return False
        if not key_known:
            _record_key(con, report, key, key_source, target, entries, held_pupils)
        if threshold.first:
            report.notice(f"threshold min_n = {threshold.after} recorded for this "
                          "warehouse (change it with `lmp ingest --min-n N`)",
                          "min_n_recorded", min_n=threshold.after)
        if threshold.changed or (min_n is not None and threshold.first):
            entries.append(audit.Entry(
                "min_n", None, detail=f"threshold min_n {threshold.before} -> "
                f"{threshold.after}: the publication is suppressed again", warehouse=target,
                min_n=threshold.after))
        commit_stage(con)  # the facts are in: derived tables build faster from committed rows
        if rebuild:
            report.notices.append(rebuild)
            build.clear_rebuild_reason(con)
        load.rebuild_rounds(con)
        if after_load is not None:
            after_load(con)
        con.execute(
            load.named("load", "insert_run"),
            [run_id, started, dt.datetime.now(), report.count("loaded"),
             report.count("skipped"), report.rows_loaded, report.rows_quarantined],
        )
        for entry in entries:  # just before the publish (audit.changes: failure lines after)
            entry.record()
        return True

    if dry_run:  # the same checks against an empty scratch warehouse that is thrown away
        with scratch_session() as con:
            run(con)
        return report
    with audit.changes() as entries, write_session(target) as session:
        report.published = run(session.con, session.existed, entries)
        if not report.published:
            session.discard()
    return report


def _threshold_notices(report: IngestReport, threshold: meta.ThresholdChange) -> None:
    if threshold.changed:
        report.notice(
            f"threshold min_n changed from {threshold.before} to {threshold.after}: every "
            "indicator is suppressed again (recorded in the audit log)",
            "min_n_changed", before=threshold.before, after=threshold.after)
    try:
        wanted = env_min_n()
    except ValueError:
        wanted = None
    if wanted is not None and wanted != threshold.after:
        report.notice(
            f"LMP_MIN_N={wanted} is ignored by ingest: the warehouse's threshold is min_n="
            f"{threshold.after}; change it with `lmp ingest --min-n N`",
            "min_n_env_ignored", wanted=wanted, min_n=threshold.after)


def _record_key(con: duckdb.DuckDBPyConnection, report: IngestReport, key: bytes,
                source: str | None, target: Path, entries: list[audit.Entry],
                held_pupils: bool) -> None:
    """Record the key of the first pseudonymising ingest; a warehouse that already held pupils
    (made before fingerprints were recorded) adopts it, announced and audited."""
    meta.record_key(con, key)
    if not held_pupils:
        return
    fingerprint = protect.key_fingerprint(key)[:12]
    report.notices.append(
        message("notice.key_adopted", fingerprint=fingerprint, source=source)
        if source else message("notice.key_adopted_configured", fingerprint=fingerprint))
    entries.append(audit.Entry(
        "key", None, detail=f"key fingerprint {fingerprint}... recorded for a warehouse that held "
        "pupils without one", warehouse=target))


def _dropped_schools(con: duckdb.DuckDBPyConnection, ref: Roster) -> str | None:
    """Why the roster is refused when it leaves out schools whose responses are stored (None
    when it keeps them all)."""
    gone = [(org, name, n) for org, name, n in load.stored_schools(con) if org not in ref.orgnrs]
    if not gone:
        return None
    listed = tuple(message("notice.school_responses", name=f"{org} {name}" if name else org,
                           n=n) for org, name, n in gone[:10])
    return message("notice.roster_drops_schools_more" if len(gone) > 10
                   else "notice.roster_drops_schools", source=ref.source, n=len(gone),
                   listed=listed, more=len(gone) - 10)


def _load_chunks(con: duckdb.DuckDBPyConnection, loader: load.BatchLoader, files: list[Path], *,
                 done: set[str], profile: MappingProfile | None, books: dict,
                 roster_orgnrs: set[str], key: bytes, today: dt.date | None, report: IngestReport,
                 progress: Progress | None, dry_run: bool) -> None:
    """Read, map and load ``files`` chunk by chunk, the next chunk read and mapped in a worker
    thread while this one is inserted; each file's outcome goes to ``report`` in file order."""
    pseudonymiser = protect.Pseudonymiser(key)

    def read_and_map(chunk: list[Path]) -> tuple[list[_Prepared], MappedBatch]:
        prepared = _prepare(chunk, done, profile)
        tables = [p.table for p in prepared if p.table is not None]
        return prepared, map_tables(tables, books=books, roster_orgnrs=roster_orgnrs, key=key,
                                    today=today, pseudonymiser=pseudonymiser)

    first = 0
    with ThreadPoolExecutor(max_workers=1) as worker:
        for chunk, (prepared, batch) in _prefetched(_chunks(files), read_and_map, worker):
            loader.start(batch)
            index = 0
            for i, prep in enumerate(prepared):
                if prep.table is None:
                    outcome = prep.outcome
                else:
                    outcome = _load_one(loader, batch, index, prep, done, dry_run)
                    index += 1
                report.outcomes.append(outcome)
                if progress:
                    progress(first + i + 1, len(files), chunk[i])
            loader.flush()  # while the worker reads and maps the next chunk
            if not dry_run:  # frees the chunk's rows: memory bounded by the chunk
                commit_stage(con)
            first += len(chunk)


def _chunks(files: list[Path]) -> Iterator[list[Path]]:
    """``files`` in order, cut into chunks of at most :data:`CHUNK_FILES` files and about
    :data:`CHUNK_BYTES` bytes."""
    chunk: list[Path] = []
    size = 0
    for path in files:
        chunk.append(path)
        with contextlib.suppress(OSError):  # reported when the file is read
            size += path.stat().st_size
        if len(chunk) >= CHUNK_FILES or size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _prefetched(chunks: Iterator[list[Path]], work: Callable, worker: ThreadPoolExecutor):
    """(chunk, ``work(chunk)``) in order, with ``work`` of the next chunk already running in
    ``worker`` while the caller handles this one."""
    pending = None
    for chunk in chunks:
        future = worker.submit(work, chunk)
        if pending is not None:
            yield pending[0], pending[1].result()
        pending = (chunk, future)
    if pending is not None:
        yield pending[0], pending[1].result()


@dataclass
class _Prepared:
    """A file read for mapping (``table``), or its final outcome when it was not."""

    path: Path
    digest: str = ""
    table: RawTable | None = None
    outcome: FileOutcome | None = None


def _prepare(paths: list[Path], done: set[str],
             profile: MappingProfile | None = None) -> list[_Prepared]:
    """Hash and read the files (in one go: see :func:`read_many`); a file loaded before (same
    content) is skipped unread, a file that cannot be read gets its outcome here. A ``profile``
    is applied to every table read."""
    out: list[_Prepared] = []
    todo: list[tuple[_Prepared, bytes]] = []
    for path in paths:
        try:
            if not path.is_file():
                raise rejection(path, "folder" if path.is_dir() else "missing")
            data = path.read_bytes()
        except FileRejected as exc:
            out.append(_Prepared(path, outcome=_rejected(path, exc)))
            continue
        digest = hashlib.sha256(data).hexdigest()
        prep = _Prepared(path, digest)
        if digest in done:
            prep.outcome = FileOutcome(path, "skipped", message="already loaded (same content)",
                               message_key="already_loaded")
        else:
            todo.append((prep, data))
        out.append(prep)
    tables = read_many([(prep.path, data) for prep, data in todo])
    for (prep, _), table in zip(todo, tables, strict=True):
        if profile is not None and not isinstance(table, FileRejected):
            try:
                table = apply_profile(table, profile)
            except FileRejected as exc:
                table = exc
        if isinstance(table, FileRejected):
            prep.digest, prep.outcome = "", _rejected(prep.path, table)
        else:
            prep.table = table
    return out


def _rejected(path: Path, exc: FileRejected) -> FileOutcome:
    return FileOutcome(path, "rejected", message=exc.reason, row=exc.row, column=exc.column,
                       message_key=getattr(exc, "message_key", None),
                       message_values=dict(getattr(exc, "message_values", {})))


def _load_one(loader: load.BatchLoader, batch: MappedBatch, index: int, prep: _Prepared,
              done: set[str], dry_run: bool) -> FileOutcome:
    path, table = prep.path, prep.table
    if prep.digest in done:  # the same content loaded from another file earlier in this run
        return FileOutcome(path, "skipped", message="already loaded (same content)",
                               message_key="already_loaded")
    if batch.rejected[index] is not None:
        return _rejected(path, batch.rejected[index])
    try:
        loaded = loader.load(
            index, path=str(path.resolve()), sha256=prep.digest, file_format=table.file_format,
            encoding=table.encoding, delimiter=table.delimiter,
        )
    except FileRejected as exc:
        return _rejected(path, exc)
    done.add(prep.digest)
    return FileOutcome(
        path, "valid" if dry_run else "loaded", rows_read=batch.rows_read[index],
        rows_loaded=loaded.rows_loaded, rows_quarantined=loaded.rows_quarantined,
        warnings=table.warnings + batch.warnings[index],
        message=_quarantine_summary(loaded.quarantine), replaced=list(loaded.replaced),
        **_quarantine_key(loaded.quarantine),
    )


def _quarantine_key(quarantine) -> dict:
    """The key and values of :func:`_quarantine_summary` (``cli.quarantine_summary``; the
    reason as its code, which the language files name)."""
    if quarantine.height == 0:
        return {}
    first = quarantine.row(0, named=True)
    return {"message_key": "quarantine_summary", "message_values": {
        "n": quarantine.get_column("row_number").n_unique(), "row": first["row_number"],
        "column": first["column_name"], "value": repr(first["value"]),
        "code": first.get("reason_code")}}


def _quarantine_summary(quarantine) -> str:
    if quarantine.height == 0:
        return ""
    first = quarantine.row(0, named=True)
    return (
        f"{quarantine.get_column('row_number').n_unique()} row(s) quarantined; first: row "
        f"{first['row_number']}, column '{first['column_name']}': got {first['value']!r}, "
        f"{first['reason']}"
    )
