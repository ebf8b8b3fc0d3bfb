"""The ``lmp`` command. Each command is a thin shell around a package function.

Exit codes (documented in README, defined in :mod:`lmp_analytics.failures`): 0 everything
loaded / done; 1 some rows quarantined, the rest loaded; 2 at least one file rejected, or a usage /
configuration error; 3 an unexpected internal error. Errors are printed for people as one plain
line, without a traceback (``--debug`` shows it; for code 3 it is written to a log file).
Everything printed that comes from data goes through :mod:`lmp_analytics.terminal`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from lmp_analytics import config, failures
from lmp_analytics.choices import choose
from lmp_analytics.errors import LmpError, UsageError
from lmp_analytics.ingest import protect
from lmp_analytics.pipeline import EXIT_REJECTED, IngestReport
from lmp_analytics.terminal import cell, plain, safe

#: The command being run (named in the log of an unexpected error).
_running: dict[str, str | None] = {"command": None}


class LmpGroup(TyperGroup):
    """The ``lmp`` command group: an exception no command handled becomes one plain line and
    exit code 2 (a deliberate refusal) or 3 (unexpected; traceback to a log file), never a
    traceback on screen unless ``--debug`` is given."""

    def parse_args(self, ctx, args):
        """Note ``--debug`` before the command runs (the handler below needs it)."""
        ctx.meta["lmp_debug"] = "--debug" in args
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx, args):
        """Note which command runs."""
        name, cmd, rest = super().resolve_command(ctx, args)
        _running["command"] = name
        return name, cmd, rest

    def invoke(self, ctx):
        """Run the command; an unhandled exception becomes :func:`_fail`'s line and code."""
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt,
                BrokenPipeError):
            raise  # click's own usage errors (exit 2), exits, Ctrl+C and a closed pipe
        except Exception as exc:
            if ctx.meta.get("lmp_debug"):
                raise
            raise _fail(exc, False) from None


app = typer.Typer(
    cls=LmpGroup,
    name="lmp",
    help="Analytics for Læringsmiljøprosjektet: ingest Spekter rounds, indicators, dashboards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output (CI logs, files) gets a wide page instead of Rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse", "-w", help="Warehouse file (default: $LMP_WAREHOUSE or "
                 "data/warehouse.duckdb)."),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]
ProfileOpt = Annotated[Path | None, typer.Option(
    "--profile", help="Mapping profile (TOML, from `lmp inspect`) for files that are not in the "
    "contract layout: renames columns and recodes answer labels before mapping.")]


def progress_bar(target: Console | None = None, *, disable: bool = False) -> Progress:
    """The one progress bar style of the CLI (description, bar, n/total, elapsed)."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=target or console, transient=True, disable=disable,
    )


def _not_a_folder(option: str, path: Path | None) -> None:
    """UsageError when the file an option names is a folder (checked before any work)."""
    if path is not None and path.is_dir():
        raise UsageError(f"{option} {path} is a folder; give the path of a file to write")


def _fail(exc: BaseException, debug: bool, code: int | None = None,
          command: str | None = None) -> typer.Exit:
    """Print ``exc`` as one plain line (escaped) and return the Exit to raise: ``code``, else the
    code :func:`lmp_analytics.failures.describe` gives (3, with the traceback logged, for an
    unexpected error). ``debug``: re-raise instead."""
    if debug:
        raise exc
    described, line = failures.report_line(exc, command or _running["command"])
    err_console.print(f"[bold red]error:[/] {safe(line, keep_newlines=True)}", highlight=False,
                      soft_wrap=True)
    return typer.Exit(code if code is not None else described)


@app.command()
def keygen(
    out: Annotated[
        Path | None, typer.Option("--out", help="Key file to create (default: "
                                  "pseudonym.key in $LMP_HOME, else in ./data).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing key.")] = False,
) -> None:
    """Create a pseudonym key file (0600). Keep it outside the warehouse and back it up."""
    try:
        _not_a_folder("--out", out)
        path = protect.write_key_file(out or config.default_key_file(), overwrite=force)
    except (FileExistsError, UsageError) as exc:
        raise _fail(exc, False) from None
    console.print(f"Created pseudonym key [bold]{safe(path)}[/] (readable only by you).")
    console.print(f"Use it with: export LMP_PSEUDONYM_KEY_FILE={safe(path)}")


MAX_FILE_ROWS = 25


def _print_report(report: IngestReport, verb: str) -> None:
    if report.roster_error:
        err_console.print(f"[bold red]roster rejected:[/] {safe(report.roster_error)}",
                          highlight=False)
        err_console.print("Nothing was loaded.")
        return
    table = Table(title=f"{verb}: {len(report.outcomes)} file(s)", show_lines=False)
    for col in ("file", "status", "rows read", "loaded", "quarantined", "detail"):
        table.add_column(col, overflow="fold")
    style = {"loaded": "green", "valid": "green", "skipped": "dim", "rejected": "bold red"}
    shown = report.outcomes
    if len(shown) > MAX_FILE_ROWS:
        shown = [o for o in shown if o.status == "rejected" or o.rows_quarantined]
        table.title = (f"{verb}: {len(report.outcomes)} file(s); listing the "
                       f"{len(shown)} with rejections or quarantined rows")
    for o in shown:
        detail = o.message
        if o.status == "rejected":
            where = []
            if o.row is not None:
                where.append(f"row {o.row}")
            if o.column:
                where.append(f"column '{o.column}'")
            detail = (", ".join(where) + ": " if where else "") + o.message
        table.add_row(
            cell(o.path), cell(o.status, style.get(o.status, "")),
            str(o.rows_read), str(o.rows_loaded), str(o.rows_quarantined), cell(detail),
        )
    if shown:
        console.print(table)
    for w in report.warnings:
        console.print(f"[yellow]warning:[/] {safe(w)}", highlight=False)
    for o in report.outcomes:
        for w in o.warnings:
            console.print(f"[yellow]warning:[/] {safe(w)}", highlight=False)
    for notice in report.notices:
        console.print(f"[yellow]note:[/] {safe(notice)}", highlight=False)
    for o in report.outcomes:  # what each correction replaced: pupils before -> after
        for r in o.replaced:
            console.print(f"replaced {safe(f'{r.round_id} gruppe {r.gruppe}')}: {r.before} -> "
                          f"{r.after} pupils ({safe(o.path)})", highlight=False)
    summary = Table.grid(padding=(0, 2))
    summary.add_row("files loaded", str(report.count("loaded") + report.count("valid")))
    summary.add_row("files skipped (already loaded)", str(report.count("skipped")))
    summary.add_row("files rejected", str(report.count("rejected")))
    summary.add_row("rows loaded", str(report.rows_loaded))
    summary.add_row("rows quarantined", str(report.rows_quarantined))
    console.print(summary)
    if report.dry_run:
        console.print("Dry run: nothing was written.")
    elif report.published:
        console.print(f"Published [bold]{safe(report.warehouse)}[/]")
    else:
        console.print(f"Nothing new: {safe(report.warehouse)} unchanged.")


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


@app.command()
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


@app.command()
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


@app.command()
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

    try:
        _not_a_folder("--profile", profile)
        if profile is not None and profile.exists() and not force:
            raise UsageError(f"--profile {profile} exists already; give --force to overwrite it")
        files = [Path(p) for p in paths]
        for path in files:
            if not path.is_file():
                raise FileRejected(str(path), "is a folder, not a file" if path.is_dir()
                                   else "does not exist")
        tables = read_many([(path, path.read_bytes()) for path in files])
        for table in tables:
            if isinstance(table, FileRejected):
                raise table
        found = inspect_tables(tables, load_codebooks())
    except (LmpError, OSError) as exc:
        raise _fail(exc, debug) from None
    table = Table(title=f"inspect: {len(files)} file(s), codebook {safe(found.codebook)}")
    for col in ("column", "item", "match", "unmatched labels (count)"):
        table.add_column(col, overflow="fold")
    for col in found.columns:
        unmatched = ", ".join(f"{lab.value} ({lab.count})" for lab in col.unmatched_labels)
        close = [lab for lab in col.labels if lab.how.startswith("nær")]
        how = col.how + (f"; {len(close)} label(s) close" if close else "")
        style = "red" if col.target is None and col.how != "fjernes" else ""
        table.add_row(cell(col.header, style), cell(col.target or "-"), cell(how),
                      cell(unmatched, "red" if unmatched else ""))
    console.print(table)
    console.print(f"codebook {safe(found.codebook)}: {safe(found.version_note)}", highlight=False)
    if profile is not None:
        try:
            profile.write_text(found.profile([p.name for p in files]), encoding="utf-8")
        except OSError as exc:
            raise _fail(failures.with_path(exc, profile), debug) from None
        console.print(f"Wrote mapping profile [bold]{safe(profile)}[/]; use it with "
                      f"`lmp ingest --profile {safe(profile)}`.", highlight=False)
    if not found.complete:
        console.print("[yellow]Some columns or labels did not match:[/] they are written "
                      "commented out in the profile; fill them in or leave them out.")
    raise typer.Exit(0 if found.complete else 1)


NationalRosterOpt = Annotated[Path | None, typer.Option(
    "--roster", help="program.csv: matches the school names of Skoleporten downloads.")]


def _national(paths: list[Path], warehouse: Path | None, roster: Path | None, report: Path | None,
              debug: bool, dry_run: bool) -> None:
    from lmp_analytics.jobs import ingest_national_files

    try:
        result = ingest_national_files(paths, warehouse=warehouse, roster=roster,
                                       dry_run=dry_run)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    _print_report(result, "validate-national" if dry_run else "ingest-national")
    if report:
        _write_json_report(result, report)
    raise typer.Exit(result.exit_code)


@app.command("ingest-national")
def ingest_national_cmd(
    paths: Annotated[list[Path], typer.Argument(
        help="Elevundersøkelsen files from Udir (statistics-bank export as CSV, XLSX or JSON; "
             "Skoleporten nedlasting.csv) or folders of them.")],
    warehouse: WarehouseOpt = None,
    roster: NationalRosterOpt = None,
    report: Annotated[Path | None, typer.Option(help="Also write the report as JSON.")] = None,
    debug: DebugOpt = False,
) -> None:
    """Load Elevundersøkelsen results (published aggregates; '*' stays suppressed)."""
    _national(paths, warehouse, roster, report, debug, dry_run=False)


@app.command("validate-national")
def validate_national_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Elevundersøkelsen files or folders.")],
    roster: NationalRosterOpt = None,
    report: Annotated[Path | None, typer.Option(help="Also write the report as JSON.")] = None,
    debug: DebugOpt = False,
) -> None:
    """Check Elevundersøkelsen files as ingest-national would, writing nothing."""
    _national(paths, None, roster, report, debug, dry_run=True)


@app.command()
def status(warehouse: WarehouseOpt = None, debug: DebugOpt = False) -> None:
    """Rounds per school and term, pupils, quarantine and the last ingest."""
    from lmp_analytics.warehouse.status import warehouse_status

    try:
        st = warehouse_status(warehouse)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    console.print(f"Warehouse [bold]{safe(st.path)}[/]")
    if st.rounds.height == 0:
        console.print("It holds no Spekter rounds yet.")
        raise typer.Exit(0)
    terms = [c for c in st.rounds.columns if c not in ("kommunenummer", "skole", "skole_orgnr")]
    grid = Table(title="Respondents per school and term (n rounds when more than one)",
                 box=None, pad_edge=False)
    grid.add_column("kommune", no_wrap=True)
    grid.add_column("skole", no_wrap=True, overflow="ellipsis", max_width=24)
    grid.add_column("orgnr", no_wrap=True)
    for t in terms:
        grid.add_column(t, justify="right", no_wrap=True)
    for row in st.rounds.iter_rows(named=True):
        grid.add_row(cell(row["kommunenummer"]), cell(row["skole"]), cell(row["skole_orgnr"]),
                     *[cell(row[t] or "·") for t in terms])
    console.print(grid)
    facts = Table.grid(padding=(0, 2))
    facts.add_row("schools with rounds", str(st.schools))
    facts.add_row("rounds", str(st.n_rounds))
    facts.add_row("pupils (pseudonyms)", str(st.pupils))
    facts.add_row("responses", str(st.responses))
    facts.add_row("quarantined rows", str(st.quarantined_rows))
    facts.add_row("last ingest", cell(st.last_ingest or "-"))
    facts.add_row("threshold (min_n)", str(st.min_n))
    facts.add_row("pseudonym key fingerprint",
                  f"{st.key_fingerprint[:12]}..." if st.key_fingerprint else
                  "not recorded (the next ingest records it)")
    facts.add_row("audit log", cell(f"{st.audit_log} ({st.audit_entries} entries; `lmp audit`)"))
    console.print(facts)
    if st.quarantine.height:
        q = Table(title="Quarantine by file and reason")
        for c in st.quarantine.columns:
            q.add_column(c, overflow="fold")
        for row in st.quarantine.iter_rows():
            q.add_row(*[cell(v) for v in row])
        console.print(q)


@app.command("audit")
def audit_cmd(
    last: Annotated[int, typer.Option("--last", help="Show the last N entries (0: all).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The audit log: who (OS user, host, role) exported, reported, erased, rekeyed or changed
    the threshold, when, and which files were written."""
    from lmp_analytics.warehouse.audit import log_path, read_log

    try:
        entries = read_log(warehouse)
    except (LmpError, OSError, ValueError) as exc:
        raise _fail(exc, debug) from None
    shown = entries[-last:] if last > 0 else entries
    if as_json:
        for entry in shown:
            sys.stdout.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"Audit log {log_path(warehouse)}: {len(shown)} of {len(entries)} "
                        "entries", box=None, pad_edge=False)
    for c in ("time", "user@host", "role", "action", "scope", "detail", "outputs", "status"):
        table.add_column(c, overflow="fold")
    for e in shown:
        who = f"{e.get('user')}@{e.get('host')}" if e.get("user") else "-"
        table.add_row(str(e.get("time") or "-"), who, str(e.get("role") or "-"),
                      str(e.get("action")), str(e.get("scope") or ""), str(e.get("detail") or ""),
                      ", ".join(e.get("outputs") or []), str(e.get("status") or ""))
    console.print(table, highlight=False)


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the world into.")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 2026,
    scale: Annotated[str, typer.Option(help="demo | kommune | national")] = "demo",
    with_errors: Annotated[
        bool, typer.Option("--with-errors", help="Plant known bad rows and files.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Write a synthetic programme world in the data contract's formats, with truth.json."""
    from lmp_analytics.synth import write_world
    from lmp_analytics.synth.params import SCALES

    try:
        scale = choose("--scale", scale, SCALES)
        with progress_bar() as bar:
            task = bar.add_task(f"synth {scale}", total=None)
            summary = write_world(
                out, seed=seed, scale=scale, with_errors=with_errors,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except (LmpError, ValueError) as exc:
        raise _fail(exc, debug) from None
    console.print(
        f"Wrote {summary.n_files} files ({summary.n_rows} rows; {summary.n_schools} schools, "
        f"{summary.n_pupils} pupils) to [bold]{safe(summary.out_dir)}[/]; truth in "
        f"{safe(summary.truth_path)}"
    )


@app.command()
def demo(
    warehouse: WarehouseOpt = None,
    port: Annotated[int, typer.Option(help="Dashboard port on 127.0.0.1.", min=1,
                                      max=65535)] = 8501,
    no_dashboard: Annotated[
        bool, typer.Option("--no-dashboard", help="Build only; print the status.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """From nothing to a running dashboard: synthetic world -> ingest -> marts -> dashboard."""
    from lmp_analytics.demo import build_demo

    try:
        if not no_dashboard:  # before any work: a dashboard that cannot start is an error
            dashboard_ready(port)
        with progress_bar() as bar:
            task = bar.add_task("demo ingest", total=None)
            paths, result = build_demo(
                warehouse,
                progress=lambda d, t, p: bar.update(task, completed=d, total=t,
                                                    description=safe(p.name[:40])),
            )
    except LmpError as exc:
        raise _fail(exc, debug) from None
    console.print(
        f"Demo world {safe(paths.world)}: {result.count('loaded')} file(s) loaded, "
        f"{result.count('skipped')} already loaded, {result.count('rejected')} rejected."
    )
    if result.exit_code == EXIT_REJECTED:
        _print_report(result, "demo ingest")
        raise typer.Exit(result.exit_code)
    if no_dashboard:
        status(warehouse=paths.warehouse, debug=debug)
        return
    serve_dashboard(paths.warehouse, port)


def _read_pupil_ids(path: Path) -> list[str]:
    """Pupil ids, one per line, from a file or (``-``) standard input; never from argv."""
    from lmp_analytics.warehouse.erasure import read_pupil_ids

    if str(path) == "-":
        return read_pupil_ids(sys.stdin)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            return read_pupil_ids(fh)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the pupil ids ({exc})") from exc


@app.command()
def forget(
    elev_id_file: Annotated[Path | None, typer.Option(
        "--elev-id-file", help="File with the pupils' raw ids (Feide ids), one per line; '-' "
        "reads them from standard input. Keeps the ids out of the process list and shell "
        "history.")] = None,
    elev_id: Annotated[str | None, typer.Option(
        "--elev-id", hidden=True, help="Deprecated: visible in `ps` and shell history.")] = None,
    key_file: Annotated[Path | None, typer.Option(help="Pseudonym key file.")] = None,
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Erase every row of pupils (found through the keyed pseudonym) and what counted them;
    publishes a freshly written file, deletes the readers' snapshots and verifies."""
    from lmp_analytics.jobs import build_derived
    from lmp_analytics.warehouse.erasure import forget_pupils

    try:
        ids: list[str] = []
        if elev_id is not None:
            err_console.print("[yellow]warning:[/] --elev-id puts the pupil's id in the process "
                              "list and your shell history; use --elev-id-file FILE, or "
                              "--elev-id-file - to read it from standard input.", highlight=False)
            ids.append(elev_id)
        if elev_id_file is not None:
            ids += _read_pupil_ids(elev_id_file)
        if elev_id is None and elev_id_file is None:
            raise ValueError("give the pupils' ids with --elev-id-file FILE (one per line) or "
                             "--elev-id-file - (standard input)")
        result = forget_pupils(ids, key=protect.load_key(key_file), warehouse=warehouse,
                               role=_role(role), rebuild=build_derived,
                               key_source=protect.key_source(key_file))
    except (LmpError, ValueError) as exc:
        raise _fail(exc, debug) from None
    if result.found == 0:
        console.print("No rows of those pupils in the warehouse (the key is the warehouse's "
                      "own; check the ids).")
    else:
        console.print(f"Erased {result.responses} response(s), {result.answers} answer(s) and "
                      f"{result.nominations} nomination(s) of {result.found} of "
                      f"{result.pupils} pupil(s); marts rebuilt and published.")
    console.print(f"Published a freshly written warehouse, deleted {result.snapshots} reader "
                  f"snapshot(s) and checked {result.files_checked} file(s) beside it: the "
                  "pseudonyms are gone. Also erase the pupils from the source exports and "
                  "backups (README, Privacy).", highlight=False)


def _print_retention_plan(plan, before: str) -> None:
    table = Table(title=f"Rounds before {before} that retention deletes")
    for c in plan.columns:
        table.add_column(c, justify="left" if c == "term" else "right")
    for row in plan.iter_rows():
        table.add_row(*[str(v) for v in row])
    total = plan.drop("term").sum().row(0)
    table.add_row("total", *[str(v) for v in total], style="bold")
    console.print(table)


@app.command()
def retention(
    before: Annotated[str, typer.Option("--before", help="Delete rounds before this term.")],
    yes: Annotated[bool, typer.Option("--yes", help="Delete what is shown (without --yes: "
                                      "nothing is deleted, exit 2).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would be "
                                          "deleted.")] = False,
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Delete every round older than a term (retention policy): shows the rounds, schools and
    rows per term first and deletes only with --yes; publishes a freshly written file."""
    from lmp_analytics.jobs import build_derived
    from lmp_analytics.warehouse.erasure import apply_retention, plan_retention

    try:
        role = _role(role)  # checked before any work
        plan = plan_retention(before, warehouse=warehouse)
        if plan.height == 0:
            console.print(f"No rounds before {safe(before)}: nothing to delete.")
            return
        _print_retention_plan(plan, before)
        if dry_run:
            console.print("Dry run: nothing was deleted.")
            return
        if not yes:
            raise ValueError(f"nothing was deleted: add --yes to delete these "
                             f"{int(plan['rounds'].sum())} round(s)")
        result = apply_retention(before, warehouse=warehouse, role=role,
                                 rebuild=build_derived)
    except (LmpError, ValueError) as exc:
        raise _fail(exc, debug) from None
    console.print(f"Deleted {result.rounds} round(s) before {safe(before)} "
                  f"({result.responses} responses); published a freshly written warehouse, "
                  f"deleted {result.snapshots} reader snapshot(s) and checked "
                  f"{result.files_checked} file(s) beside it.", highlight=False)


@app.command()
def rekey(
    old_key_file: Annotated[Path, typer.Option(
        "--old-key-file", help="The key file the warehouse's pseudonyms were made with.")],
    new_key_file: Annotated[Path, typer.Option(
        "--new-key-file", help="The key file to use from now on: a new file from `lmp keygen`, "
        "or a path that does not exist (a key is made). It is rewritten to hold the old key "
        "too.")],
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Planned key rotation: re-pseudonymise every pupil with a new key in one atomic publish."""
    from lmp_analytics.jobs import build_derived
    from lmp_analytics.warehouse.rekey import rekey_warehouse

    try:
        result = rekey_warehouse(old_key_file, new_key_file, warehouse=warehouse,
                                 role=_role(role), rebuild=build_derived)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    console.print(
        f"Re-pseudonymised {result.pupils} pupil(s); key fingerprint "
        f"{result.old_fingerprint[:12]}... -> {result.new_fingerprint[:12]}...; published.",
        highlight=False)
    console.print(
        f"From now on use [bold]{safe(result.key_file)}[/] (it holds the old key as well, so "
        "keep it as safe as the old one was). The old key file alone no longer links this "
        f"warehouse's pseudonyms to ids. Example: export LMP_PSEUDONYM_KEY_FILE={result.key_file}",
        highlight=False)


@app.command()
def dashboard(
    warehouse: WarehouseOpt = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.", min=1, max=65535)] = 8501,
    debug: DebugOpt = False,
) -> None:
    """Start the Streamlit dashboard on 127.0.0.1 for the warehouse."""
    try:
        dashboard_ready(port)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    serve_dashboard(config.warehouse_path(warehouse), port)


#: Seconds the dashboard gets to stop after a forwarded signal before it is killed.
DASHBOARD_GRACE = 10.0


def dashboard_ready(port: int) -> Path:
    """The Streamlit app to run; UsageError when this installation has none, Streamlit is
    missing or ``port`` is taken on 127.0.0.1 (checked before any other work)."""
    import importlib.util
    import socket

    app_path = config.dashboard_app()
    if app_path is None:
        raise UsageError(
            f"cannot start the dashboard: {config.DASHBOARD_APP} is missing (the dashboards "
            "ship with the project's source checkout, not with the installed package). Run "
            "from a checkout, or use --no-dashboard / `lmp status` to build without it."
        )
    if importlib.util.find_spec("streamlit") is None:
        raise UsageError("cannot start the dashboard: Streamlit is not installed "
                         "(pip install streamlit), or use --no-dashboard")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise UsageError(f"cannot start the dashboard: port {port} on 127.0.0.1 is in use "
                             f"({exc.strerror}); choose another with --port") from None
    return app_path


def serve_dashboard(warehouse: Path, port: int) -> None:
    """Run the Streamlit app on 127.0.0.1 (blocking) with the warehouse in LMP_WAREHOUSE.

    SIGTERM, SIGINT and SIGHUP sent to ``lmp`` are forwarded to the Streamlit child, which gets
    :data:`DASHBOARD_GRACE` seconds to stop before it is killed; ``lmp`` returns only when the
    child is gone (exit 0 after a requested stop, else the child's exit code)."""
    import signal
    import subprocess
    import time

    app_path = dashboard_ready(port)
    env = dict(os.environ, LMP_WAREHOUSE=str(warehouse))
    url = f"http://127.0.0.1:{port}"
    console.print(f"Dashboard: [bold link={url}]{url}[/] (Ctrl+C to stop)")
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path),
           "--server.address", "127.0.0.1", "--server.port", str(port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    # Its own session: a terminal's Ctrl+C reaches lmp only, which forwards it once.
    child = subprocess.Popen(cmd, env=env, start_new_session=True)
    asked: list[float] = []

    def forward(signum: int, _frame: object) -> None:
        asked.append(time.monotonic())
        if child.poll() is None:
            child.send_signal(signum)

    signals = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    previous = {sig: signal.signal(sig, forward) for sig in signals}
    try:
        while child.poll() is None:
            try:
                child.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                if asked and time.monotonic() - asked[0] > DASHBOARD_GRACE:
                    child.kill()
    finally:
        if child.poll() is None:  # an exception in lmp itself: never leave the child behind
            child.kill()
            child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    raise typer.Exit(0 if asked else child.returncode)


RoleOpt = Annotated[
    str | None,
    typer.Option("--role", help="program | kommune:<nr> | veileder:<orgnr,...> | forsker "
                 "(default: the role configuration's default_role, else program)."),
]
FormatOpt = Annotated[str, typer.Option("--format", help="table | csv | parquet")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write to this file.")]
#: ``--format`` of ``indicators`` and ``compare``.
TABLE_FORMATS = ("table", "csv", "parquet")


def _default_role(role: str | None) -> str:
    if role:
        return role
    from lmp_analytics.privacy.roles import default_role

    return default_role() or "program"


# Option checks, run before any work (a wrong value is exit 2 with the allowed values).

def _role(role: str | None) -> str:
    """``--role`` (or the configured default), checked."""
    from lmp_analytics.privacy.roles import parse_role

    return str(parse_role(str(_default_role(role))))


def _indicator(value: str) -> str:
    from lmp_analytics.codebook import indicator_ids

    return choose("--indicator", value, indicator_ids())


def _by(by: str | None) -> str | None:
    """``--by``: trinn or kjonn (``alle`` / ``all`` = no breakdown)."""
    from lmp_analytics.metrics.indicators import BREAKDOWNS

    chosen = None if by is None else choose("--by", by, BREAKDOWNS)
    return None if chosen == "alle" else chosen


def _term(term: str | None) -> str | None:
    from lmp_analytics.terms import parse_term

    return None if term is None else parse_term(term)


def _output(fmt: str, out: Path | None, formats: tuple[str, ...],
            needs_out: tuple[str, ...] = ()) -> str:
    """``--format`` checked against ``formats``; ``--out`` must not be a folder, and must be
    given for the formats in ``needs_out``."""
    fmt = choose("--format", fmt, formats)
    _not_a_folder("--out", out)
    if out is None and fmt in needs_out:
        raise UsageError(f"--format {fmt} needs --out")
    return fmt


def for_stdout(text: str) -> str:
    """CSV text for stdout: unchanged into a pipe or file, without control characters when
    stdout is a terminal (an ANSI escape in a school name must not reach the terminal)."""
    return plain(text, keep_newlines=True) if sys.stdout.isatty() else text


def _emit(frame, fmt: str, out: Path | None, columns: list[str], title: str,
          audited: dict | None = None) -> None:
    """Print a Rich table of ``columns`` or write the whole frame as CSV (formula-safe,
    :mod:`lmp_analytics.spreadsheet`) or Parquet. A CSV/Parquet output is audited
    (``audited``: the audit entry's fields; a file is written through
    :func:`lmp_analytics.warehouse.audit.write_outputs`)."""
    from lmp_analytics.spreadsheet import csv_bytes
    from lmp_analytics.warehouse import audit

    if fmt == "table":
        table = Table(title=title)
        for c in columns:
            table.add_column(c, overflow="fold")
        for row in frame.select(columns).iter_rows():
            table.add_row(*[cell("" if v is None else (f"{v:.3f}" if isinstance(v, float)
                                                       else v)) for v in row])
        console.print(table)
        if out:
            console.print("[yellow]--out is ignored with --format table[/]")
        return
    data = csv_bytes(frame) if fmt == "csv" else _parquet_bytes(frame)
    entry = dict(audited or {}, detail=f"{frame.height} rows, format={fmt}")
    if out:
        audit.write_outputs([(out, data)], **entry)
        err_console.print(f"Wrote {frame.height} rows to {safe(out)}", highlight=False)
    else:
        audit.record(outputs=["<stdout>"], **entry)
        sys.stdout.write(for_stdout(data.decode("utf-8")))
        sys.stdout.flush()


def _parquet_bytes(frame) -> bytes:
    import io

    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()


@app.command()
def indicators(
    level: Annotated[
        str, typer.Option(help="gruppe | skole | kommune | pulje | program")
    ] = "skole",
    indicator: Annotated[str | None, typer.Option(help="Indicator id (default: all).")] = None,
    by: Annotated[str | None, typer.Option(help="trinn | kjonn")] = None,
    role: RoleOpt = None,
    fmt: FormatOpt = "table",
    out: OutOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Indicator shares and means with 95 % intervals; role-scoped and suppressed."""
    from lmp_analytics import api
    from lmp_analytics.metrics.indicators import LEVELS
    from lmp_analytics.reports.export import stable_order

    try:
        level = choose("--level", level, LEVELS)
        indicator = None if indicator is None else _indicator(indicator)
        by = _by(by)
        fmt = _output(fmt, out, TABLE_FORMATS, needs_out=("parquet",))
        frame = stable_order(api.indicators(level, indicator=indicator, by=by,
                                            role=_role(role), warehouse=warehouse))
        audited = dict(action="indicators", role=_role(role), warehouse=warehouse,
                       scope=f"level={level} indicator={indicator or 'all'}"
                             + (f" by={by}" if by else ""),
                       min_n=None if fmt == "table" else api.threshold(warehouse))
    except (LmpError, ValueError, PermissionError) as exc:
        raise _fail(exc, debug) from None
    cols = ["kommunenummer", "skole", "term", "indicator", "breakdown_value", "n_display",
            "share", "ci_low", "ci_high", "mean", "suppressed"]
    if level in ("kommune", "pulje", "program"):
        cols = ["kommunenummer", "pulje", "rolle", *cols[2:]]
    elif level == "gruppe":
        cols = [*cols[:2], "gruppe", *cols[2:]]
    try:
        _emit(frame, fmt, out, cols, f"Indicators, level {level}", audited)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    except OSError as exc:
        raise _fail(failures.with_path(exc, out), debug) from None


@app.command()
def compare(
    indicator: Annotated[str, typer.Option(help="Indicator id.")] = "mobbet",
    phase: Annotated[str | None, typer.Option(help="1-4, program (pre(1)->post(4)) or runde "
                                              "(consecutive rounds); default: all phases")] = None,
    level: Annotated[str, typer.Option(help="skole (the only level with per-unit changes)")] = (
        "skole"),
    role: RoleOpt = None,
    fmt: FormatOpt = "table",
    out: OutOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Before/after each phase per school: change, 95 % interval, test and verdict."""
    from lmp_analytics import api
    from lmp_analytics.evaluation.change_table import PHASE_RANK
    from lmp_analytics.metrics.indicators import LEVELS

    try:
        if choose("--level", level, LEVELS) != "skole":
            raise UsageError("compare --level supports 'skole'; programme-level effects are in "
                             "the notebooks and lmp_analytics.evaluation.programme")
        indicator = _indicator(indicator)
        phase = None if phase is None else choose("--phase", phase, PHASE_RANK)
        fmt = _output(fmt, out, TABLE_FORMATS, needs_out=("parquet",))
        frame = api.compare(indicator=indicator, phase=phase, role=_role(role),
                            warehouse=warehouse)
        audited = dict(action="compare", role=_role(role), warehouse=warehouse,
                       scope=f"indicator={indicator} phase={phase or 'all'}",
                       min_n=None if fmt == "table" else api.threshold(warehouse))
    except (LmpError, ValueError) as exc:
        raise _fail(exc, debug) from None
    cols = ["skole", "phase", "pre_term", "post_term", "pre_n", "post_n", "linked_n", "diff",
            "diff_ci_low", "diff_ci_high", "p_value", "test", "verdict"]
    if fmt == "table":
        import polars as pl

        frame = frame.with_columns(pl.coalesce("diff_pp", "diff_mean").alias("diff"))
    try:
        _emit(frame, fmt, out, cols, f"Change in {indicator}", audited)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    except OSError as exc:
        raise _fail(failures.with_path(exc, out), debug) from None


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="The file (one school) or a folder "
                                      "(--kommune, --pulje or several --school).")],
    school: Annotated[list[str] | None, typer.Option(
        "--school", help="School orgnr; repeat for several.")] = None,
    kommune: Annotated[str | None, typer.Option(help="Every school of a kommune (batch).")] = None,
    pulje: Annotated[int | None, typer.Option(help="Every school of a pulje (batch).")] = None,
    term: Annotated[str | None, typer.Option(help="Term, e.g. 2025V (default: the school's "
                                             "latest round).")] = None,
    lang: Annotated[str, typer.Option(help="nb | en")] = "nb",
    fmt: Annotated[str, typer.Option("--format", help="pdf | html")] = "pdf",
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Printable school report(s): indicators over time, latest change, before/after the phase
    just finished, grades, data quality; role-scoped, suppressed and audited."""
    from lmp_analytics.presentation.strings import LANGS
    from lmp_analytics.reports import FORMATS, write_school_reports

    try:
        fmt = choose("--format", fmt, FORMATS)
        lang = choose("--lang", lang, LANGS)
        term = _term(term)
        role = _role(role)
        with progress_bar(err_console) as bar:
            task = bar.add_task("school reports", total=None)
            run = write_school_reports(
                out, schools=school, kommune=kommune, pulje=pulje, term=term, lang=lang,
                fmt=fmt, role=_default_role(role), warehouse=warehouse,
                progress=lambda d, t, s: bar.update(task, completed=d, total=t,
                                                    description=f"report {safe(s)}"),
            )
    except (LmpError, ValueError, PermissionError) as exc:
        raise _fail(exc, debug) from None
    except OSError as exc:
        raise _fail(failures.with_path(exc, out), debug) from None
    where = run.paths[0] if len(run.paths) == 1 else out
    console.print(f"Wrote {len(run.paths)} report(s) ({safe(run.scope)}) to "
                  f"[bold]{safe(where)}[/]",
                  highlight=False)


@app.command()
def export(
    level: Annotated[str, typer.Option(help="school | kommune | pulje | program")] = "school",
    indicator: Annotated[list[str] | None, typer.Option(
        help="Indicator id; repeat or comma-separate (default: all).")] = None,
    by: Annotated[str | None, typer.Option(help="trinn | kjonn")] = None,
    term: Annotated[str | None, typer.Option(help="Only this term, e.g. 2025V.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv | xlsx | parquet")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (csv: default "
                                             "stdout).")] = None,
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Indicator tables with n, 95 % intervals and suppression flags; role-scoped, audited."""
    from lmp_analytics.reports import EXPORT_FORMATS, write_export
    from lmp_analytics.reports.export import LEVELS

    wanted = [i.strip() for x in (indicator or []) for i in x.split(",") if i.strip()] or None
    try:
        level = choose("--level", level, LEVELS)
        wanted = None if wanted is None else [_indicator(i) for i in wanted]
        by = _by(by)
        term = _term(term)
        fmt = _output(fmt, out, EXPORT_FORMATS, needs_out=("xlsx", "parquet"))
        result = write_export(out, level=level, indicators=wanted, fmt=fmt, by=by, term=term,
                              role=_role(role), warehouse=warehouse)
    except (LmpError, ValueError, PermissionError) as exc:
        raise _fail(exc, debug) from None
    except OSError as exc:
        raise _fail(failures.with_path(exc, out), debug) from None
    if out is None:
        sys.stdout.write(for_stdout(result.data.decode("utf-8")))
        sys.stdout.flush()
    else:
        err_console.print(f"Wrote {result.rows} rows ({result.suppressed} suppressed) to "
                          f"{safe(out)}",
                          highlight=False)


# `lmp evaluate national`: the programme effect on the national school panel (issue 17).

evaluate_app = typer.Typer(
    cls=LmpGroup, name="evaluate", no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False,
    help="Programme evaluations on public data (Elevundersøkelsen).",
)
app.add_typer(evaluate_app, name="evaluate")


def _selection_years(text: str) -> tuple[int, ...]:
    """``--selection-years 2010-2012`` (or one year ``2012``) -> (2010, 2011, 2012)."""
    import re

    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", text)
    if not m or int(m.group(2) or m.group(1)) < int(m.group(1)):
        raise UsageError(f"--selection-years {text!r} is not allowed; use a span of survey "
                         "years like 2010-2012")
    return tuple(range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1))


def _thresholds(text: str) -> dict[int, float]:
    """``--threshold 7:0.15,10:0.10`` -> {7: 0.15, 10: 0.10} (shares as fractions)."""
    out: dict[int, float] = {}
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        grade, _, value = part.partition(":")
        try:
            g, v = choose("--threshold grade", grade.strip(), ("7", "10")), float(value)
        except ValueError:
            g, v = "", float("nan")
        if not g or not 0 < v < 1:
            raise UsageError(f"--threshold {part!r} is not allowed; use grade:share with grade "
                             "7 or 10 and the share as a fraction, e.g. 7:0.15,10:0.10")
        out[int(g)] = v
    if set(out) != {7, 10}:
        raise UsageError(f"--threshold {text!r} must give both grades, e.g. 7:0.15,10:0.10")
    return out


@evaluate_app.command("national")
def evaluate_national_cmd(
    indicator: Annotated[str, typer.Option(help="National indicator (mobbet).")] = "mobbet",
    design: Annotated[str, typer.Option(
        help="eligible | never-treated | not-yet-treated | naive | all")] = "all",
    trinn: Annotated[str, typer.Option(help="7 | 10 | pooled | all")] = "all",
    selection_years: Annotated[str, typer.Option(
        help="Selection years of the eligible design (default: 2010-2012, the first "
             "puljer's).")] = "2010-2012",
    threshold: Annotated[str, typer.Option(
        help="Selection thresholds per grade as fractions (default: the published "
             "7:0.15,10:0.10).")] = "7:0.15,10:0.10",
    bridge_breaks: Annotated[bool, typer.Option(
        "--bridge-breaks", help="Estimate across the series breaks (2013, 2016); flagged.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table | csv")] = "table",
    out: OutOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Programme effect on the national school panel: three designs side by side with 95 %
    intervals (published school results only; programme-level, no school is shown)."""
    from lmp_analytics.evaluation.national_designs import DESIGNS, RESULT_COLUMNS, TRINN
    from lmp_analytics.evaluation.national_designs import evaluate_national as run
    from lmp_analytics.evaluation.national_panel import INDICATORS

    try:
        indicator = choose("--indicator", indicator, INDICATORS)
        chosen = choose("--design", design, ("all", *DESIGNS))
        grade = choose("--trinn", trinn, ("all", *TRINN))
        years = _selection_years(selection_years)
        limits = _thresholds(threshold)
        fmt = _output(fmt, out, ("table", "csv"))
        frame = run(warehouse, indicator,
                    designs=DESIGNS if chosen == "all" else (chosen,),
                    trinn=TRINN if grade == "all" else (grade,),
                    selection_years=years, thresholds=limits, bridge_breaks=bridge_breaks)
        audited = dict(action="evaluate national", role=None, warehouse=warehouse,
                       scope=f"indicator={indicator} design={chosen} trinn={grade} "
                             f"selection={selection_years} threshold={threshold}"
                             + (" bridged" if bridge_breaks else ""))
    except (LmpError, ValueError) as exc:
        raise _fail(exc, debug) from None
    try:
        _emit(frame, fmt, out, RESULT_COLUMNS[:-1], f"Programme effect on {indicator} "
              "(Elevundersøkelsen, share as a fraction)", audited)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    except OSError as exc:
        raise _fail(failures.with_path(exc, out), debug) from None
    if fmt == "table":
        for d, t, warning in frame.select("design", "trinn", "warning").iter_rows():
            if warning:
                console.print(f"[yellow]{safe(d)} {safe(t)}:[/] {safe(warning)}",
                              highlight=False)


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()


if __name__ == "__main__":
    main()
