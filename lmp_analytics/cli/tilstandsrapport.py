"""``lmp tilstandsrapport``: the municipality's annual state-report chapter on the learning
environment and bullying (:mod:`lmp_analytics.reports.tilstand`), role-scoped and audited."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lmp_analytics import failures
from lmp_analytics.choices import choose
from lmp_analytics.cli.common import (
    DebugOpt,
    DocLangOpt,
    RoleOpt,
    WarehouseOpt,
    _fail,
    _role,
    console,
    document_lang,
    say,
)
from lmp_analytics.errors import LmpError
from lmp_analytics.terminal import safe


def tilstandsrapport(
    kommune: Annotated[str, typer.Option(help="Kommunenummer, e.g. 5530.")],
    skoleaar: Annotated[str, typer.Option("--skoleaar", help="School year, e.g. 2025-26.")],
    fmt: Annotated[str, typer.Option("--format", help="docx | pdf | html | md")] = "docx",
    lang: DocLangOpt = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="File to write (default: lmp-tilstandsrapport-<kommune>-<skoleår>-"
                      "<lang>.<format> here).")] = None,
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The kommune's chapter on learning environment and bullying for the annual state report
    (tilstandsrapport): Spekter per school, Elevundersøkelsen, LMP phases, data quality."""
    from lmp_analytics.reports.tilstand import FORMATS, write_tilstandsrapport

    try:
        fmt = choose("--format", fmt, FORMATS)
        lang = document_lang(lang)
        path = write_tilstandsrapport(out, kommune.strip(), skoleaar, fmt=fmt, lang=lang,
                                      role=_role(role), warehouse=warehouse)
    except (LmpError, ValueError, PermissionError) as exc:
        raise _fail(exc, debug) from None
    except OSError as exc:
        raise _fail(failures.with_path(exc, out), debug) from None
    console.print(say("wrote_tilstand", path=f"[bold]{safe(path)}[/]"), highlight=False)
