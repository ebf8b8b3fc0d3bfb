"""The ``lmp`` command. Each command is a thin shell around a package function.

Exit codes (documented in README): 0 everything loaded / done; 1 some rows quarantined, the rest
loaded; 2 at least one file rejected, or a usage / configuration error. Errors are printed for
people, without a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lmp_analytics import config
from lmp_analytics.errors import LmpError
from lmp_analytics.ingest import protect
from lmp_analytics.ingest.pipeline import EXIT_REJECTED, IngestReport

app = typer.Typer(
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


def progress_bar(target: Console | None = None, *, disable: bool = False) -> Progress:
    """The one progress bar style of the CLI (description, bar, n/total, elapsed)."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=target or console, transient=True, disable=disable,
    )


def _fail(exc: BaseException, debug: bool, code: int = EXIT_REJECTED) -> typer.Exit:
    if debug:
        raise exc
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
    return typer.Exit(code)


@app.command()
def keygen(
    out: Annotated[
        Path, typer.Option("--out", help="Key file to create.")
    ] = config.DEFAULT_KEY_FILE,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing key.")] = False,
) -> None:
    """Create a pseudonym key file (0600). Keep it outside the warehouse and back it up."""
    try:
        path = protect.write_key_file(out, overwrite=force)
    except FileExistsError as exc:
        raise _fail(exc, False) from None
    console.print(f"Created pseudonym key [bold]{path}[/] (readable only by you).")
    console.print(f"Use it with: export LMP_PSEUDONYM_KEY_FILE={path}")


MAX_FILE_ROWS = 25


def _print_report(report: IngestReport, verb: str) -> None:
    if report.roster_error:
        err_console.print(f"[bold red]roster rejected:[/] {report.roster_error}", highlight=False)
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
            str(o.path), f"[{style.get(o.status, '')}]{o.status}[/]",
            str(o.rows_read), str(o.rows_loaded), str(o.rows_quarantined), detail,
        )
    if shown:
        console.print(table)
    for o in report.outcomes:
        for w in o.warnings:
            console.print(f"[yellow]warning:[/] {w}", highlight=False)
    for o in report.outcomes:  # what each correction replaced: pupils before -> after
        for r in o.replaced:
            console.print(f"replaced {escape(f'{r.round_id} gruppe {r.gruppe}')}: {r.before} -> "
                          f"{r.after} pupils ({escape(str(o.path))})", highlight=False)
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
        console.print(f"Published [bold]{report.warehouse}[/]")
    else:
        console.print(f"Nothing new: {report.warehouse} unchanged.")


def _write_json_report(report: IngestReport, path: Path) -> None:
    data = {
        "exit_code": report.exit_code,
        "roster_error": report.roster_error,
        "files": [
            {"path": str(o.path), "status": o.status, "rows_read": o.rows_read,
             "rows_loaded": o.rows_loaded, "rows_quarantined": o.rows_quarantined,
             "message": o.message, "row": o.row, "column": o.column, "warnings": o.warnings,
             "replaced": [{"round_id": r.round_id, "gruppe": r.gruppe, "before": r.before,
                           "after": r.after} for r in o.replaced]}
            for o in report.outcomes
        ],
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


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
    allow_shrink: bool = False,
) -> IngestReport:
    """Ingest (or validate) with a progress bar; used by ``ingest``, ``validate`` and ``demo``."""
    from lmp_analytics.jobs import ingest_and_build

    key = None if dry_run else protect.load_key(key_file)
    with progress_bar(disable=quiet) as bar:
        task = bar.add_task("reading files", total=None)

        def tick(done: int, total: int, path: Path) -> None:
            bar.update(task, completed=done, total=total, description=path.name[:40])

        return ingest_and_build(
            paths, roster, warehouse=warehouse, phases=phases, enrolment=enrolment, key=key,
            dry_run=dry_run, progress=tick, allow_shrink=allow_shrink,
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
    allow_shrink: Annotated[bool, typer.Option(
        "--allow-shrink", help="Accept corrections that drop more than half of a group's pupils."
    )] = False,
    debug: DebugOpt = False,
) -> None:
    """Load Spekter exports into the warehouse: validated, pseudonymised, published atomically."""
    try:
        result = run_ingest(paths, roster, warehouse=warehouse, phases=phases,
                            enrolment=enrolment, key_file=key_file, dry_run=False,
                            allow_shrink=allow_shrink)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    _print_report(result, "ingest")
    if report:
        _write_json_report(result, report)
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
    debug: DebugOpt = False,
) -> None:
    """Check files as ingest would, writing nothing (no key needed)."""
    try:
        result = run_ingest(paths, roster, warehouse=None, phases=phases, enrolment=enrolment,
                            key_file=None, dry_run=True)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    _print_report(result, "validate")
    if report:
        _write_json_report(result, report)
    raise typer.Exit(result.exit_code)


@app.command("ingest-national")
def ingest_national_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Udir statistics-bank CSV exports.")],
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Load Elevundersøkelsen results (published aggregates; '*' stays suppressed)."""
    from lmp_analytics.jobs import ingest_national

    try:
        rows = ingest_national(paths, warehouse=warehouse)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    console.print(f"Loaded {rows} Elevundersøkelsen row(s).")


@app.command()
def status(warehouse: WarehouseOpt = None, debug: DebugOpt = False) -> None:
    """Rounds per school and term, pupils, quarantine and the last ingest."""
    from lmp_analytics.warehouse.status import warehouse_status

    try:
        st = warehouse_status(warehouse)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    console.print(f"Warehouse [bold]{st.path}[/]")
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
        grid.add_row(row["kommunenummer"], row["skole"], row["skole_orgnr"],
                     *[row[t] or "·" for t in terms])
    console.print(grid)
    facts = Table.grid(padding=(0, 2))
    facts.add_row("schools with rounds", str(st.schools))
    facts.add_row("rounds", str(st.n_rounds))
    facts.add_row("pupils (pseudonyms)", str(st.pupils))
    facts.add_row("responses", str(st.responses))
    facts.add_row("quarantined rows", str(st.quarantined_rows))
    facts.add_row("last ingest", st.last_ingest or "-")
    console.print(facts)
    if st.quarantine.height:
        q = Table(title="Quarantine by file and reason")
        for c in st.quarantine.columns:
            q.add_column(c, overflow="fold")
        for row in st.quarantine.iter_rows():
            q.add_row(*[str(v) for v in row])
        console.print(q)


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

    try:
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
        f"{summary.n_pupils} pupils) to [bold]{summary.out_dir}[/]; truth in "
        f"{summary.truth_path}"
    )


@app.command()
def demo(
    warehouse: WarehouseOpt = None,
    port: Annotated[int, typer.Option(help="Dashboard port on 127.0.0.1.")] = 8501,
    no_dashboard: Annotated[
        bool, typer.Option("--no-dashboard", help="Build only; print the status.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """From nothing to a running dashboard: synthetic world -> ingest -> marts -> dashboard."""
    from lmp_analytics.demo import build_demo

    try:
        with progress_bar() as bar:
            task = bar.add_task("demo ingest", total=None)
            paths, result = build_demo(
                warehouse,
                progress=lambda d, t, p: bar.update(task, completed=d, total=t,
                                                    description=p.name[:40]),
            )
    except LmpError as exc:
        raise _fail(exc, debug) from None
    console.print(
        f"Demo world {paths.world}: {result.count('loaded')} file(s) loaded, "
        f"{result.count('skipped')} already loaded, {result.count('rejected')} rejected."
    )
    if result.exit_code == EXIT_REJECTED:
        _print_report(result, "demo ingest")
        raise typer.Exit(result.exit_code)
    dashboard_app = config.PROJECT_ROOT / "dashboards" / "app.py"
    if no_dashboard or not dashboard_app.exists():
        status(warehouse=paths.warehouse, debug=debug)
        return
    serve_dashboard(paths.warehouse, port)


@app.command()
def forget(
    elev_id: Annotated[str, typer.Option("--elev-id", help="The pupil's raw id (Feide id).")],
    key_file: Annotated[Path | None, typer.Option(help="Pseudonym key file.")] = None,
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Erase every row of one pupil (found through the keyed pseudonym) and what counted them."""
    from lmp_analytics.jobs import build_derived
    from lmp_analytics.warehouse.erasure import forget_pupil

    try:
        result = forget_pupil(elev_id, key=protect.load_key(key_file), warehouse=warehouse,
                              role=str(_default_role(role)), rebuild=build_derived)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    if result.responses == 0:
        console.print("No rows of that pupil in the warehouse (check the id and the key).")
        return
    console.print(f"Erased {result.responses} response(s), {result.answers} answer(s) and "
                  f"{result.nominations} nomination(s); marts rebuilt and published.")


@app.command()
def retention(
    before: Annotated[str, typer.Option("--before", help="Delete rounds before this term.")],
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Delete every round older than a term (retention policy); publishes atomically."""
    from lmp_analytics.jobs import build_derived
    from lmp_analytics.warehouse.erasure import apply_retention

    try:
        result = apply_retention(before, warehouse=warehouse, role=str(_default_role(role)),
                                 rebuild=build_derived)
    except (LmpError, ValueError) as exc:
        raise _fail(exc, debug) from None
    console.print(f"Deleted {result.rounds} round(s) before {before} "
                  f"({result.responses} responses).")


@app.command()
def dashboard(
    warehouse: WarehouseOpt = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8501,
) -> None:
    """Start the Streamlit dashboard on 127.0.0.1 for the warehouse."""
    serve_dashboard(config.warehouse_path(warehouse), port)


def serve_dashboard(warehouse: Path, port: int) -> None:
    """Run the Streamlit app on 127.0.0.1 (blocking) with the warehouse in LMP_WAREHOUSE."""
    import subprocess
    import sys

    app_path = config.PROJECT_ROOT / "dashboards" / "app.py"
    env = dict(os.environ, LMP_WAREHOUSE=str(warehouse))
    url = f"http://127.0.0.1:{port}"
    console.print(f"Dashboard: [bold link={url}]{url}[/] (Ctrl+C to stop)")
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path),
           "--server.address", "127.0.0.1", "--server.port", str(port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    try:
        raise typer.Exit(subprocess.call(cmd, env=env))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


RoleOpt = Annotated[
    str | None,
    typer.Option("--role", help="program | kommune:<nr> | veileder:<orgnr,...> | forsker "
                 "(default: the role configuration's default_role, else program)."),
]
FormatOpt = Annotated[str, typer.Option("--format", help="table | csv | parquet")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write to this file.")]


def _default_role(role: str | None) -> str:
    if role:
        return role
    from lmp_analytics.privacy.roles import default_role

    return default_role() or "program"


def _emit(frame, fmt: str, out: Path | None, columns: list[str], title: str) -> None:
    """Print a Rich table of ``columns`` or write the whole frame as CSV/Parquet."""
    if fmt == "table":
        table = Table(title=title)
        for c in columns:
            table.add_column(c, overflow="fold")
        for row in frame.select(columns).iter_rows():
            table.add_row(*["" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
                            for v in row])
        console.print(table)
        if out:
            console.print("[yellow]--out is ignored with --format table[/]")
        return
    if fmt not in ("csv", "parquet"):
        raise typer.BadParameter("--format must be table, csv or parquet")
    if fmt == "csv":
        if out:
            frame.write_csv(out)
        else:
            print(frame.write_csv(), end="")
    else:
        if not out:
            raise typer.BadParameter("--format parquet needs --out")
        frame.write_parquet(out)
    if out:
        err_console.print(f"Wrote {frame.height} rows to {out}")


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
    from lmp_analytics.reports.export import stable_order

    try:
        frame = stable_order(api.indicators(level, indicator=indicator, by=by,
                                            role=_default_role(role), warehouse=warehouse))
    except (LmpError, ValueError, PermissionError) as exc:
        raise _fail(exc, debug) from None
    cols = ["kommunenummer", "skole", "term", "indicator", "breakdown_value", "n_display",
            "share", "ci_low", "ci_high", "mean", "suppressed"]
    if level in ("kommune", "pulje", "program"):
        cols = ["kommunenummer", "pulje", "rolle", *cols[2:]]
    _emit(frame, fmt, out, cols, f"Indicators, level {level}")


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

    if level != "skole":
        raise _fail(ValueError("compare --level supports 'skole'; programme-level effects are in "
                               "the notebooks and lmp_analytics.evaluation.programme"), debug)
    try:
        frame = api.compare(indicator=indicator, phase=phase, role=_default_role(role),
                            warehouse=warehouse)
    except (LmpError, ValueError) as exc:
        raise _fail(exc, debug) from None
    cols = ["skole", "phase", "pre_term", "post_term", "pre_n", "post_n", "linked_n", "diff",
            "diff_ci_low", "diff_ci_high", "p_value", "test", "verdict"]
    if fmt == "table":
        import polars as pl

        frame = frame.with_columns(pl.coalesce("diff_pp", "diff_mean").alias("diff"))
    _emit(frame, fmt, out, cols, f"Change in {indicator}")


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
    from lmp_analytics.reports import write_school_reports

    try:
        with progress_bar(err_console) as bar:
            task = bar.add_task("school reports", total=None)
            run = write_school_reports(
                out, schools=school, kommune=kommune, pulje=pulje, term=term, lang=lang,
                fmt=fmt, role=_default_role(role), warehouse=warehouse,
                progress=lambda d, t, s: bar.update(task, completed=d, total=t,
                                                    description=f"report {s}"),
            )
    except (LmpError, ValueError, PermissionError) as exc:
        raise _fail(exc, debug) from None
    where = run.paths[0] if len(run.paths) == 1 else out
    console.print(f"Wrote {len(run.paths)} report(s) ({run.scope}) to [bold]{where}[/]",
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
    from lmp_analytics.reports import write_export

    wanted = [i.strip() for x in (indicator or []) for i in x.split(",") if i.strip()] or None
    if out is None and fmt != "csv":
        raise _fail(ValueError(f"--format {fmt} needs --out"), debug)
    try:
        result = write_export(out, level=level, indicators=wanted, fmt=fmt, by=by, term=term,
                              role=_default_role(role), warehouse=warehouse)
    except (LmpError, ValueError, PermissionError) as exc:
        raise _fail(exc, debug) from None
    if out is None:
        sys.stdout.write(result.data.decode("utf-8"))
        sys.stdout.flush()
    else:
        err_console.print(f"Wrote {result.rows} rows ({result.suppressed} suppressed) to {out}",
                          highlight=False)


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()


if __name__ == "__main__":
    main()
