"""Printable school reports (PDF/HTML) and indicator exports (CSV/XLSX/Parquet).

One function makes a school report for every consumer — ``lmp report``, the dashboard's Skole
page download and notebooks::

    from lmp_analytics.reports import render_school_report
    pdf = render_school_report("974590123", term="2025V", lang="nb", fmt="pdf",
                               role="veileder:974590123")

Every number comes through :mod:`lmp_analytics.api` (suppressed, cut to the role) or through the
suppression engine; a school outside the role's scope is a PermissionError. The same warehouse
and arguments give byte-identical HTML and PDF (no clock is read; the PDF's creation date is the
warehouse's last ingest day, or ``SOURCE_DATE_EPOCH``).

Runs that hand numbers out (:func:`write_school_reports`, :func:`write_export`) record one line
in the warehouse's audit log (:mod:`lmp_analytics.warehouse.audit`): their files are written to
temporary files, the line is recorded, then the files are renamed into place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lmp_analytics.presentation.messages import refusal
from lmp_analytics.privacy.roles import Role
from lmp_analytics.reports.data import (
    ReportError,
    ReportSource,
    SchoolReport,
    WarehouseArg,
    school_report,
    select_schools,
    split_by_rounds,
)
from lmp_analytics.reports.export import EXPORT_FORMATS, export_table, to_bytes
from lmp_analytics.reports.render import FORMATS, render, render_html
from lmp_analytics.warehouse import audit

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "ExportResult",
    "ReportError",
    "ReportRun",
    "ReportSource",
    "SchoolReport",
    "export_table",
    "render",
    "render_html",
    "render_school_report",
    "report_filename",
    "school_report",
    "select_schools",
    "write_export",
    "write_school_reports",
]

Progress = Callable[[int, int, str], None]


def render_school_report(
    orgnr: str,
    *,
    term: str | None = None,
    lang: str = "nb",
    fmt: str = "pdf",
    role: str | Role | None = "program",
    warehouse: WarehouseArg = None,
    source: ReportSource | None = None,
) -> bytes:
    """One school's report as PDF or HTML bytes (the function behind every report download).

    Does not write the audit log: a caller that hands the bytes to a person records the run
    with :func:`lmp_analytics.warehouse.audit.record` (``lmp report`` does).
    """
    report = school_report(orgnr, term=term, lang=lang, role=role, warehouse=warehouse,
                           source=source)
    return render(report, fmt)


def report_filename(orgnr: str, term: str, lang: str, fmt: str) -> str:
    """``lmp-skolerapport-974590123-2025V-nb.pdf``."""
    safe = re.sub(r"[^0-9A-Za-z]", "", orgnr)
    return f"lmp-skolerapport-{safe}-{term}-{lang}.{fmt}"


@dataclass(frozen=True)
class ReportRun:
    """Files written by one report run."""

    paths: tuple[Path, ...]
    schools: tuple[str, ...]
    scope: str
    without_rounds: tuple[str, ...] = ()
    """Schools of a kommune or pulje batch left out: no Spekter rounds (comparison schools)."""


def write_school_reports(
    out: str | Path,
    *,
    schools: Sequence[str] | None = None,
    kommune: str | None = None,
    pulje: int | None = None,
    term: str | None = None,
    lang: str = "nb",
    fmt: str = "pdf",
    role: str | Role | None = "program",
    warehouse: WarehouseArg = None,
    progress: Progress | None = None,
) -> ReportRun:
    """Render the reports of one school (``out`` is the file) or of a batch — several schools,
    a kommune or a pulje (``out`` is a folder, one file per school) — then audit once and write.

    Nothing is written unless every report renders and the audit line is recorded.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be pdf or html, got {fmt!r}")
    source = ReportSource(role=role, warehouse=warehouse)
    orgnrs = select_schools(source, schools=list(schools) if schools else None,
                            kommune=kommune, pulje=pulje)
    without: list[str] = []
    if kommune is not None or pulje is not None:
        orgnrs, without = split_by_rounds(source, orgnrs)
        if not orgnrs:
            raise (refusal(ReportError, "kommune_no_rounds", kommune=kommune) if kommune
                   else refusal(ReportError, "pulje_no_rounds", pulje=pulje))
    source.schools = tuple(orgnrs)
    single = bool(schools) and len(orgnrs) == 1 and kommune is None and pulje is None
    out = Path(out)
    rendered: list[tuple[Path, bytes]] = []
    for done, orgnr in enumerate(orgnrs):
        if progress:
            progress(done, len(orgnrs), orgnr)
        report = school_report(orgnr, term=term, lang=lang, source=source)
        data = render(report, fmt)
        name = report_filename(orgnr, report.term, lang, fmt)
        path = out / name if (not single or out.is_dir()) else out
        rendered.append((path, data))
    if progress:
        progress(len(orgnrs), len(orgnrs), "")
    if kommune is not None:
        scope = f"kommune {kommune}"
    elif pulje is not None:
        scope = f"pulje {pulje}"
    else:
        scope = "skole " + ",".join(orgnrs)
    if not single:
        out.mkdir(parents=True, exist_ok=True)
    audit.write_outputs(
        rendered, action="report", role=str(source.role), scope=scope, warehouse=warehouse,
        detail=f"{len(orgnrs)} school report(s), format={fmt}, lang={lang}, "
               f"term={term or 'latest'}",
        min_n=source.min_n,
    )
    return ReportRun(tuple(p for p, _ in rendered), tuple(orgnrs), scope, tuple(without))


@dataclass(frozen=True)
class ExportResult:
    """What one export run wrote (``data`` is the file's bytes)."""

    rows: int
    suppressed: int
    data: bytes
    path: Path | None


def write_export(
    out: str | Path | None,
    *,
    level: str = "school",
    indicators: Sequence[str] | None = None,
    fmt: str = "csv",
    by: str | None = None,
    term: str | None = None,
    role: str | Role | None = "program",
    warehouse: WarehouseArg = None,
    excel_nb: bool = False,
) -> ExportResult:
    """Export an indicator table (role-scoped, suppressed) to ``out``, audited
    (:func:`lmp_analytics.warehouse.audit.write_outputs`). ``out`` None: the run is audited
    (output ``<stdout>``) and the bytes returned for the caller to print. ``excel_nb``: the
    CSV for Norwegian Excel (:mod:`lmp_analytics.reports.export_nb`) instead of the
    machine-readable one."""
    from lmp_analytics.api import threshold
    from lmp_analytics.privacy.scope import as_role

    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be csv, xlsx or parquet; got {fmt!r}")
    r = as_role(role)
    frame = export_table(level=level, indicators=indicators, by=by, term=term, role=r,
                         warehouse=warehouse)
    min_n = threshold(warehouse)
    if excel_nb:
        from lmp_analytics.reports.export_nb import excel_csv_bytes

        if fmt != "csv":
            raise ValueError(f"--excel-nb writes CSV for Norwegian Excel; leave out --format "
                             f"{fmt} (or use --format csv)")
        data = excel_csv_bytes(frame, "nb")
        fmt = "csv-excel-nb"
    else:
        data = to_bytes(frame, fmt, role=str(r), level=level, min_n=min_n)
    hidden = int(frame["suppressed"].sum()) if frame.height else 0
    entry = dict(
        action="export", role=str(r), warehouse=warehouse, min_n=min_n,
        scope=f"level={level} indicators={','.join(indicators) if indicators else 'all'}"
              + (f" by={by}" if by else "") + (f" term={term}" if term else ""),
        detail=f"{frame.height} rows ({hidden} suppressed), format={fmt}",
    )
    path = None
    if out is None:
        audit.record(outputs=["<stdout>"], **entry)
    else:
        path = Path(out)
        audit.write_outputs([(path, data)], **entry)
    return ExportResult(frame.height, hidden, data, path)
