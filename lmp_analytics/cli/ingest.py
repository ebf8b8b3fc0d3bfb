"""``lmp ingest``, ``validate`` and ``inspect``, and the ingest report they print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lmp_analytics import failures
from lmp_analytics.cli.common import (
    DebugOpt,
    ProfileOpt,
    WarehouseOpt,
    _fail,
    _not_a_folder,
    cli_lang,
    console,
    detail_text,
    err_console,
    in_language,
    localized,
    progress_bar,
    say,
    where,
)
from lmp_analytics.errors import LmpError, UsageError
from lmp_analytics.ingest import protect
from lmp_analytics.pipeline import IngestReport
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.terminal import cell, safe

MAX_FILE_ROWS = 25


def _print_report(report: IngestReport, verb: str) -> None:
    if report.roster_error:
        shown = (in_language(report.roster_rejection, report.roster_error)
                 if report.roster_rejection is not None else localized(report.roster_error))
        err_console.print(f"[bold red]{say('roster_rejected')}:[/] {safe(shown)}",
                          highlight=False)
        err_console.print(say("nothing_loaded"))
        return
    table = Table(title=say("files_title", verb=verb, n=len(report.outcomes)), show_lines=False)
    for col in ("file", "status", "rows_read", "loaded", "quarantined", "detail"):
        table.add_column(say(f"col_{col}"), overflow="fold")
    style = {"loaded": "green", "valid": "green", "skipped": "dim", "rejected": "bold red"}
    shown = report.outcomes
    if len(shown) > MAX_FILE_ROWS:
        shown = [o for o in shown if o.status == "rejected" or o.rows_quarantined]
        table.title = say("files_title_some", verb=verb, n=len(report.outcomes),
                          shown=len(shown))
    for o in shown:
        detail = detail_text(o)
        if o.status == "rejected":
            place = where("", o.row, o.column)
            detail = (place + ": " if place else "") + detail
        status = say(f"status_{o.status}") if o.status in style else o.status
        table.add_row(
            cell(o.path), cell(status, style.get(o.status, "")),
            str(o.rows_read), str(o.rows_loaded), str(o.rows_quarantined), cell(detail),
        )
    if shown:
        console.print(table)
    for w in report.warnings:
        console.print(f"[yellow]{say('warning')}:[/] {safe(localized(w))}", highlight=False)
    for o in report.outcomes:
        for w in o.warnings:
            console.print(f"[yellow]{say('warning')}:[/] {safe(localized(w))}", highlight=False)
    for notice in report.notices:
        keyed = report.notice_keys.get(notice) if cli_lang() != "en" else None
        shown = say(keyed[0], **keyed[1]) if keyed else localized(notice)
        console.print(f"[yellow]{say('note_lower')}:[/] {safe(shown)}", highlight=False)
    for o in report.outcomes:  # what each correction replaced: pupils before -> after
        for r in o.replaced:
            console.print(say("replaced", what=safe(f"{r.round_id} gruppe {r.gruppe}"),
                              before=r.before, after=r.after, path=safe(o.path)),
                          highlight=False)
    summary = Table.grid(padding=(0, 2))
    summary.add_row(say("sum_files_loaded"), str(report.count("loaded") + report.count("valid")))
    summary.add_row(say("sum_files_skipped"), str(report.count("skipped")))
    summary.add_row(say("sum_files_rejected"), str(report.count("rejected")))
    summary.add_row(say("sum_rows_loaded"), str(report.rows_loaded))
    summary.add_row(say("sum_rows_quarantined"), str(report.rows_quarantined))
    console.print(summary)
    if report.dry_run:
        console.print(say("dry_run"))
    elif report.published:
        console.print(say("published", path=f"[bold]{safe(report.warehouse)}[/]"))
    else:
        console.print(say("nothing_new", path=safe(report.warehouse)))


def _write_json_report(report: IngestReport, path: Path) -> None:
    data = {
        "exit_code": report.exit_code,
        "roster_error": report.roster_error,
        "warnings": report.warnings,
        "files": [
            {"path": str(o.path), "status": o.status, "rows_read": o.rows_read,
             "rows_loaded": o.rows_loaded, "rows_quarantined": o.rows_quarantined,
             "message": o.message, "row": o.row, "column": o.column, "warnings": o.warnings,
             "replaced": [{"round_id": r.round_id, "gruppe": r.gruppe, "before": r.before,
                           "after": r.after} for r in o.replaced]}
            for o in report.outcomes
        ],
    }
    try:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:  # name the file (a failed write() does not)
        raise failures.with_path(exc, path) from exc


def run_ingest(
    paths: list[Path],
    roster: Path,
    *,
    warehouse: Path | None,
    phases: Path | None,
    enrolment: Path | None,
    key_file: Path | None,
    dry_run: bool,
    quiet: bool = False,
    min_n: int | None = None,
    allow_min_n_below_5: bool = False,
    allow_shrink: bool = False,
    profile: Path | None = None,
) -> IngestReport:
    """Ingest (or validate) with a progress bar; used by ``ingest``, ``validate`` and ``demo``.
    ``profile``: a mapping profile (``lmp inspect``), checked before any file is read."""
    from lmp_analytics.ingest.profile import load_profile
    from lmp_analytics.jobs import ingest_and_build

    mapping_profile = load_profile(profile) if profile is not None else None

    key = None if dry_run else protect.load_key(key_file)
    extra = {} if dry_run else {"key_source": protect.key_source(key_file), "min_n": min_n,
                                "allow_min_n_below_5": allow_min_n_below_5}
    with progress_bar(disable=quiet) as bar:
        task = bar.add_task("reading files", total=None)

        def tick(done: int, total: int, path: Path) -> None:
            bar.update(task, completed=done, total=total, description=safe(path.name[:40]))

        return ingest_and_build(
            paths, roster, warehouse=warehouse, phases=phases, enrolment=enrolment, key=key,
            dry_run=dry_run, progress=tick, allow_shrink=allow_shrink, profile=mapping_profile,
            **extra,
        )


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Spekter exports or folders of them.")],
    roster: Annotated[Path, typer.Option("--roster", help="program.csv (the roster).")],
    warehouse: WarehouseOpt = None,
    phases: Annotated[Path | None, typer.Option(help="faser.csv (default: beside roster).")] = None,
    enrolment: Annotated[
        Path | None, typer.Option(help="elevtall.csv (default: beside roster).")
    ] = None,
    key_file: Annotated[Path | None, typer.Option(help="Pseudonym key file.")] = None,
    report: Annotated[Path | None, typer.Option(help="Also write the report as JSON.")] = None,
    min_n: Annotated[int | None, typer.Option(
        "--min-n", help="Suppression threshold of the warehouse's publication (default: the "
        "recorded one; 10 for a new warehouse). A change suppresses everything again and is "
        "audited.")] = None,
    allow_min_n_below_5: Annotated[bool, typer.Option(
        "--allow-min-n-below-5", help="Accept --min-n below 5.")] = False,
    allow_shrink: Annotated[bool, typer.Option(
        "--allow-shrink", help="Accept corrections that drop more than half of a group's pupils."
    )] = False,
    profile: ProfileOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Load Spekter exports into the warehouse: validated, pseudonymised, published atomically."""
    try:
        _not_a_folder("--report", report)
        result = run_ingest(paths, roster, warehouse=warehouse, phases=phases,
                            enrolment=enrolment, key_file=key_file, dry_run=False, min_n=min_n,
                            allow_min_n_below_5=allow_min_n_below_5, allow_shrink=allow_shrink,
                            profile=profile)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    if report:  # first: a printing failure must not lose the report
        _write_json_report(result, report)
    _print_report(result, "ingest")
    raise typer.Exit(result.exit_code)


def validate(
    paths: Annotated[list[Path], typer.Argument(help="Spekter exports or folders of them.")],
    roster: Annotated[Path, typer.Option("--roster", help="program.csv (the roster).")],
    phases: Annotated[Path | None, typer.Option(help="faser.csv (default: beside roster).")] = None,
    enrolment: Annotated[
        Path | None, typer.Option(help="elevtall.csv (default: beside roster).")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Also write the report as JSON.")] = None,
    profile: ProfileOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Check files as ingest would, writing nothing (no key needed)."""
    try:
        _not_a_folder("--report", report)
        result = run_ingest(paths, roster, warehouse=None, phases=phases, enrolment=enrolment,
                            key_file=None, dry_run=True, profile=profile)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    if report:  # first: a printing failure must not lose the report
        _write_json_report(result, report)
    _print_report(result, "validate")
    raise typer.Exit(result.exit_code)


def inspect(
    paths: Annotated[list[Path], typer.Argument(help="Exports in an unfamiliar layout.")],
    profile: Annotated[Path | None, typer.Option(
        "--profile", help="Write the proposed mapping profile (TOML) to this file.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing profile.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Match a file's columns and answer labels to the codebook; propose a mapping profile.

    Exit code 0 when everything matched, 1 when a column or label did not (reported, and
    written commented out in the profile), 2 when a file cannot be read."""
    from lmp_analytics.codebook import load_codebooks
    from lmp_analytics.errors import FileRejected
    from lmp_analytics.ingest.inspect import inspect_tables
    from lmp_analytics.ingest.readers import read_many
    from lmp_analytics.presentation.messages import rejection

    try:
        _not_a_folder("--profile", profile)
        if profile is not None and profile.exists() and not force:
            raise refusal(UsageError, "profile_exists", path=profile)
        files = [Path(p) for p in paths]
        for path in files:
            if not path.is_file():
                raise rejection(path, "folder" if path.is_dir() else "missing")
        tables = read_many([(path, path.read_bytes()) for path in files])
        for table in tables:
            if isinstance(table, FileRejected):
                raise table
        found = inspect_tables(tables, load_codebooks())
    except (LmpError, OSError) as exc:
        raise _fail(exc, debug) from None
    table = Table(title=say("insp_title", n=len(files), codebook=safe(found.codebook)))
    for col in ("column", "item", "match", "unmatched"):
        table.add_column(say(f"insp_col_{col}"), overflow="fold")
    for col in found.columns:
        unmatched = ", ".join(f"{lab.value} ({lab.count})" for lab in col.unmatched_labels)
        close = [lab for lab in col.labels if lab.how.startswith("nær")]
        how = localized(col.match) + (f"; {say('insp_close', n=len(close))}" if close else "")
        style = "red" if col.target is None and col.how != "fjernes" else ""
        table.add_row(cell(col.header, style), cell(col.target or "-"), cell(how),
                      cell(unmatched, "red" if unmatched else ""))
    console.print(table)
    console.print(say("insp_codebook", codebook=safe(found.codebook),
                      note=safe(localized(found.version_note))), highlight=False)
    if profile is not None:
        try:
            profile.write_text(found.profile([p.name for p in files]), encoding="utf-8")
        except OSError as exc:
            raise _fail(failures.with_path(exc, profile), debug) from None
        console.print(say("insp_wrote", path=f"[bold]{safe(profile)}[/]", file=safe(profile)),
                      highlight=False)
    if not found.complete:
        console.print(f"[yellow]{say('insp_incomplete')}[/] {say('insp_incomplete_rest')}")
    raise typer.Exit(0 if found.complete else 1)


