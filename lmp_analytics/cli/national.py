"""``lmp ingest-national`` and ``validate-national`` (Elevundersøkelsen)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lmp_analytics.cli.common import DebugOpt, WarehouseOpt, _fail
from lmp_analytics.cli.ingest import _print_report, _write_json_report
from lmp_analytics.errors import LmpError

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


def validate_national_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Elevundersøkelsen files or folders.")],
    roster: NationalRosterOpt = None,
    report: Annotated[Path | None, typer.Option(help="Also write the report as JSON.")] = None,
    debug: DebugOpt = False,
) -> None:
    """Check Elevundersøkelsen files as ingest-national would, writing nothing."""
    _national(paths, None, roster, report, debug, dry_run=True)

