"""Jobs that span layers: the only place that wires ingest to the derived tables above it."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import duckdb

from lmp_analytics.pipeline import REFERENCE_FILE_NAMES, IngestReport, ingest_files

__all__ = ["build_derived", "ingest_and_build", "ingest_files", "ingest_national",
           "ingest_national_files"]


def build_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the derived tables above ``dim_round`` up to date inside the open write
    transaction: the steps of :data:`lmp_analytics.warehouse.registry.JOB_STEPS` in order
    (marts with item non-response, per-school changes, suppressed publication), each
    incremental where the build engine's state allows (:mod:`lmp_analytics.warehouse.build`)."""
    from lmp_analytics.evaluation.change_table import build_change_table
    from lmp_analytics.evaluation.national_view import build_national_estimates
    from lmp_analytics.metrics.marts import build_marts
    from lmp_analytics.publication import build_publication
    from lmp_analytics.warehouse.registry import JOB_STEPS

    steps = {"marts": build_marts, "school_changes": build_change_table,
             "publication": build_publication, "estimates": build_estimates,
             "national_estimates": build_national_estimates}
    for name in JOB_STEPS:
        steps[name](con)


def build_estimates(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> bool:
    """Compute at publish time what a page would otherwise fit (``estimates`` in
    :mod:`lmp_analytics.warehouse.registry`), inside the open write transaction, after the
    changes and the publication: the landing panel (:mod:`lmp_analytics.evaluation.
    landing_panel`) for the programme and every municipality, and the programme's event study
    (:mod:`lmp_analytics.evaluation.event_study`), for every indicator, at the warehouse's
    threshold. The per-school changes are read as every reader reads them
    (:func:`lmp_analytics.api.compare`, programme scope) and cut to each role by the one role
    scope, so the stored rows are what the live path computes. Skipped when its inputs (the
    marts' round fingerprints, the changes' and the publication's inputs) are unchanged.
    Returns whether it computed."""
    import polars as pl

    from lmp_analytics import api
    from lmp_analytics.evaluation import event_study, landing_panel
    from lmp_analytics.evaluation.programme import school_term_panel, visible_panel
    from lmp_analytics.privacy.roles import Role
    from lmp_analytics.warehouse import build, meta
    from lmp_analytics.warehouse.meta import writer_min_n
    from lmp_analytics.warehouse.queries import named

    target = "estimates"
    min_n = writer_min_n(con)
    inputs = f"{con.execute(named('estimates', 'inputs_fingerprint')).fetchall()[0][0]}" \
             f"/min_n={min_n}"
    if not full and build.is_current(con, target, inputs):
        return False
    indicators = api._indicator_ids(con) if "mart_indicator_counts" in build.tables(con) else []
    kommuner = [r[0] for r in con.execute(named("read_models", "kommuner")).fetchall()
                if r[0] is not None]
    roles = {"program": Role("program"),
             **{f"kommune:{k}": Role("kommune", kommuner=frozenset([k])) for k in kommuner}}
    panels: dict[str, list[pl.DataFrame]] = {key: [] for key in roles}
    views = []
    for indicator in indicators:
        changes = api.compare(indicator=indicator, phase=None, role="program", warehouse=con,
                              min_n=min_n, surface="dashboard")
        cells = api.published_cells(con, level="program", indicators=[indicator],
                                    breakdown="alle", min_n=min_n)
        school_cells = api.published_cells(con, level="skole", indicators=[indicator],
                                           breakdown="alle", min_n=min_n)
        memo: list[pl.DataFrame] = []

        def panel(indicator: str = indicator, memo: list = memo,
                  shown: pl.DataFrame = school_cells) -> pl.DataFrame:
            if not memo:
                memo.append(visible_panel(school_term_panel(con, indicator), shown).filter(
                    pl.col("rolle") == "sammenligning"))
            return memo[0]

        try:
            done = _landing_panels(changes, roles, indicator=indicator, min_n=min_n,
                                   cells=cells, panel=panel)
        except Exception:  # not stored: a page call computes it and says what is wrong
            done = {}
        for key, frame in done.items():
            panels[key].append(frame)
        views.append(event_study.event_study_view(con, indicator, min_n=min_n,
                                                  cells=school_cells))
    landing_panel.store(con, panels)
    event_study.store(con, views)
    meta.put(con, event_study.MIN_N_KEY, str(min_n))
    build.record(con, target, None, inputs)
    return True


def _landing_panels(changes, roles: dict, *, indicator: str, min_n: int, cells,
                    panel) -> dict:
    """:func:`~lmp_analytics.evaluation.landing_panel.summarise` of every role key: the role's
    rows cut by the one role scope, as a page's live call cuts them. A municipality's scope is
    taken from its own schools' changes (the scope keeps no other school's row, so the rows are
    the same), and every municipality without a participating school's change shares one
    summary (every phase "no schools": it reads neither the cells nor the panel). At national
    scale most of the ~350 municipalities have no participant."""
    import polars as pl

    from lmp_analytics.evaluation import landing_panel
    from lmp_analytics.privacy.scope import scope

    mine = changes.filter((pl.col("indicator") == indicator) & (pl.col("rolle") == "deltaker"))
    by_kommune = {key[0]: part for key, part in
                  mine.partition_by("kommunenummer", as_dict=True).items()}
    parts = {NOBODY: mine.clear()}
    for key, role in roles.items():
        rows = mine
        if role.kind == "kommune":
            (kommune,) = role.kommuner
            rows = by_kommune.get(kommune, mine.clear())
            if rows.height == 0:
                continue
        parts[key] = scope(rows, role, "dashboard")
    done = landing_panel.summarise_roles(parts, indicator=indicator, min_n=min_n, cells=cells,
                                         panel=panel)
    return {key: done.get(key, done[NOBODY]) for key in roles}


NOBODY = ""  # the summary every municipality without a participant's change shares


def ingest_and_build(
    paths: Iterable[str | os.PathLike[str]], roster: str | os.PathLike[str], **kwargs
) -> IngestReport:
    """Ingest files and rebuild marts in the same atomic publish."""
    return ingest_files(paths, roster, after_load=build_derived, **kwargs)


NATIONAL_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".json", ".parquet"}


def _said(warning: Warning) -> str:
    """A caught warning's text: the keyed message it was raised with (a national reader's
    :class:`~lmp_analytics.errors.Message`), else its plain text."""
    first = warning.args[0] if warning.args else None
    return first if isinstance(first, str) else str(warning)


def _national_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file()
                          and f.suffix.lower() in NATIONAL_SUFFIXES
                          and f.stem.lower() not in REFERENCE_FILE_NAMES
                          and not f.name.startswith((".", "~$")))
        else:
            out.append(p)
    return out


def ingest_national_files(
    paths: Iterable[str | os.PathLike[str]], *, warehouse: str | os.PathLike[str] | None = None,
    roster: str | os.PathLike[str] | None = None, dry_run: bool = False,
) -> IngestReport:
    """Load Elevundersøkelsen files (any layout :mod:`lmp_analytics.national` reads) into
    ``fct_eu_result``, each file on its own, as ``lmp ingest`` does for Spekter files.

    A file that cannot be read, or whose every row is bad, is rejected and changes nothing;
    bad rows of a file that loads go to ``eu_quarantine`` (file, row, column, value, reason).
    The same file content loaded before is skipped (a no-op); a newer export of the same cells
    replaces them (preliminary figures never replace final ones). ``roster`` (program.csv)
    matches the school names of Skoleporten downloads. ``dry_run`` checks against an empty
    scratch warehouse and writes nothing. Exit code and summary: :class:`IngestReport`.
    """
    from lmp_analytics.config import warehouse_path
    from lmp_analytics.errors import FileRejected, RosterError
    from lmp_analytics.ingest.roster import read_roster
    from lmp_analytics.national import EuExportWarning, read_eu_export_with_problems
    from lmp_analytics.national.schema import RowProblem
    from lmp_analytics.pipeline import FileOutcome
    from lmp_analytics.presentation.messages import message, rejection
    from lmp_analytics.warehouse import load
    from lmp_analytics.warehouse.publish import scratch_session, write_session

    target = warehouse_path(warehouse)
    report = IngestReport(warehouse=target, dry_run=dry_run)
    schools = None
    if roster is not None:
        try:
            ref = read_roster(roster)
        except (RosterError, FileRejected) as exc:
            report.roster_error, report.roster_rejection = str(exc), exc
            return report
        schools = ref.schools
        report.warnings += ref.warnings
    files = _national_files(paths)

    def one(con, path: Path, done: set[str]) -> FileOutcome:
        try:
            if not path.is_file():
                raise rejection(path, "folder" if path.is_dir() else "missing")
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in done:
                return FileOutcome(path, "skipped", message="already loaded (same content)",
                               message_key="already_loaded")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", EuExportWarning)
                export = read_eu_export_with_problems(path, schools)
        except FileRejected as exc:
            return FileOutcome(path, "rejected", message=exc.reason, row=exc.row,
                               column=exc.column, message_key=getattr(exc, "message_key", None),
                               message_values=dict(getattr(exc, "message_values", {})))
        problems = export.problems
        bad_rows = problems.get_column("row").n_unique() if problems.height else 0
        if export.results.height == 0 and problems.height:
            first = RowProblem(**problems.row(0, named=True))
            values = {"detail": first.said_detail, "more": problems.height - 1}
            key = "reject.no_row_loaded_more" if problems.height > 1 else "reject.no_row_loaded"
            return FileOutcome(path, "rejected", rows_read=export.rows_read,
                               message=message(key, **values), row=first.row,
                               column=first.column, message_key=key, message_values=values)
        load.load_national_file(
            con, export.results, problems, path=str(path.resolve()), sha256=digest,
            layout=export.layout, file_format=export.file_format, rows_read=export.rows_read)
        done.add(digest)
        parts = []
        if problems.height:
            first = RowProblem(**problems.row(0, named=True))
            parts.append(message("notice.eu_quarantined", n=bad_rows, first=first.said))
        if export.rows_without_data:
            parts.append(message("notice.eu_no_data", n=export.rows_without_data))
        key, values = None, {}
        if len(parts) == 1:
            key, values = parts[0].message_key, parts[0].message_values
        elif parts:
            key, values = "notice.joined2", {"first": parts[0], "second": parts[1]}
        return FileOutcome(path, "valid" if dry_run else "loaded", rows_read=export.rows_read,
                           rows_loaded=export.results.height, rows_quarantined=bad_rows,
                           message="; ".join(parts), message_key=key, message_values=values,
                           warnings=[_said(w.message) for w in caught] + list(export.warnings))

    def run(con) -> bool:
        from lmp_analytics.evaluation.national_view import build_national_estimates

        done = load.national_loaded_hashes(con)
        for path in files:
            report.outcomes.append(one(con, path, done))
        if report.count("loaded") > 0 and not dry_run:
            build_national_estimates(con)   # the designs the dashboards show, fitted once here
        return report.count("loaded") > 0

    if dry_run:
        with scratch_session() as con:
            run(con)
        return report
    with write_session(target) as session:
        report.published = run(session.con)
        if not report.published:
            session.discard()
    return report


def ingest_national(
    paths: Iterable[str | os.PathLike[str]], *, warehouse: str | os.PathLike[str] | None = None
) -> int:
    """Load Elevundersøkelsen files and return the number of rows loaded; raises
    :class:`~lmp_analytics.errors.FileRejected` for the first rejected file (the other files
    are loaded). :func:`ingest_national_files` gives the full report."""
    from lmp_analytics.errors import FileRejected

    report = ingest_national_files(paths, warehouse=warehouse)
    for outcome in report.outcomes:
        if outcome.status == "rejected":
            raise FileRejected(str(outcome.path), outcome.message, row=outcome.row,
                               column=outcome.column)
    return report.rows_loaded
