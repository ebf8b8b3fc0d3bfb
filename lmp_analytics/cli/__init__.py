"""The ``lmp`` command. Each command is a thin shell around a package function.

Exit codes (documented in README, defined in :mod:`lmp_analytics.failures`): 0 everything
loaded / done; 1 some rows quarantined, the rest loaded; 2 at least one file rejected, or a usage /
configuration error; 3 an unexpected internal error. Errors are printed for people as one plain
line, without a traceback (``--debug`` shows it; for code 3 it is written to a log file).
Everything printed that comes from data goes through :mod:`lmp_analytics.terminal`.

One module per command group (:mod:`.ingest`, :mod:`.national`, :mod:`.warehouse`,
:mod:`.demo`, :mod:`.dashboard`, :mod:`.outputs`, :mod:`.evaluate`), what they share in
:mod:`.common`. A command is a plain function there; it is registered below, and the order of
registration is the order of ``lmp --help``.
"""

from __future__ import annotations

import os

import typer

from lmp_analytics.cli import (
    alerts,
    dashboard,
    demo,
    evaluate,
    ingest,
    national,
    outputs,
    tilstandsrapport,
    warehouse,
)
from lmp_analytics.cli.common import LmpGroup, console, err_console, for_stdout

__all__ = ["app", "console", "err_console", "for_stdout", "main"]

app = typer.Typer(
    cls=LmpGroup,
    name="lmp",
    help="Analytics for Læringsmiljøprosjektet: ingest Spekter rounds, indicators, dashboards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command()(warehouse.keygen)
app.command()(ingest.ingest)
app.command()(ingest.validate)
app.command()(ingest.inspect)
app.command("ingest-national")(national.ingest_national_cmd)
app.command("validate-national")(national.validate_national_cmd)
app.command()(warehouse.status)
app.command("audit")(warehouse.audit_cmd)
app.command()(demo.synth)
app.command()(demo.demo)
app.command()(warehouse.forget)
app.command()(warehouse.retention)
app.command()(warehouse.rekey)
app.command()(dashboard.dashboard)
app.command()(outputs.indicators)
app.command()(outputs.compare)
app.command()(outputs.report)
app.command()(outputs.export)
app.command()(tilstandsrapport.tilstandsrapport)
app.command()(alerts.alerts)
app.add_typer(evaluate.evaluate_app, name="evaluate")


def main() -> None:
    """Console entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()
