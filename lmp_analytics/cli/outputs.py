"""Role-scoped, suppressed outputs: ``lmp indicators``, ``compare``, ``report`` and ``export``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lmp_analytics import failures
from lmp_analytics.choices import choose
from lmp_analytics.cli.common import (
    TABLE_FORMATS,
    DebugOpt,
    DocLangOpt,
    FormatOpt,
    OutOpt,
    RoleOpt,
    WarehouseOpt,
    _by,
    _default_role,
    _emit,
    _fail,
    _indicator,
    _output,
    _role,
    _term,
    cli_lang,
    console,
    document_lang,
    err_console,
    for_stdout,
    progress_bar,
    say,
)
from lmp_analytics.errors import LmpError, UsageError
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.terminal import safe


def indicators(
    level: Annotated[
        str | None, typer.Option(help="gruppe | skole | kommune | pulje | program (default: "
                                 "skole; gruppe for uten_venn)")
    ] = None,
    indicator: Annotated[str | None, typer.Option(
        help="Indicator id (default: all); uten_venn (pupils no classmate named as a friend, "
             "per class) for --role forsker only.")] = None,
    by: Annotated[str | None, typer.Option(help="trinn | kjonn")] = None,
    role: RoleOpt = None,
    fmt: FormatOpt = "table",
    out: OutOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Indicator shares and means with 95 % intervals; role-scoped and suppressed."""
    from lmp_analytics import api
    from lmp_analytics.codebook import indicator_ids
    from lmp_analytics.metrics.indicators import LEVELS
    from lmp_analytics.metrics.nominations import NO_FRIEND
    from lmp_analytics.reports.export import stable_order

    try:
        indicator = None if indicator is None else choose(
            "--indicator", indicator, [*indicator_ids(), NO_FRIEND])
        level = choose("--level", level or ("gruppe" if indicator == NO_FRIEND else "skole"),
                       LEVELS)
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
            raise refusal(UsageError, "compare_level")
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
        _emit(frame, fmt, out, cols, say("change_in", indicator=indicator), audited)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    except OSError as exc:
        raise _fail(failures.with_path(exc, out), debug) from None
    if phase in (None, "1", "program") and frame.height and not api.pre_programme_rounds(
            role=_role(role), warehouse=warehouse):
        from lmp_analytics.presentation.strings import text

        err_console.print(f"{say('note')}: {text('caveat.no_before', cli_lang())}",
                          highlight=False)


def report(
    out: Annotated[Path, typer.Option("--out", help="The file (one school) or a folder "
                                      "(--kommune, --pulje or several --school).")],
    school: Annotated[list[str] | None, typer.Option(
        "--school", help="School orgnr; repeat for several.")] = None,
    kommune: Annotated[str | None, typer.Option(help="Every school of a kommune (batch).")] = None,
    pulje: Annotated[int | None, typer.Option(help="Every school of a pulje (batch).")] = None,
    term: Annotated[str | None, typer.Option(help="Term, e.g. 2025V (default: the school's "
                                             "latest round).")] = None,
    lang: DocLangOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="pdf | html")] = "pdf",
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Printable school report(s): indicators over time, latest change, before/after the phase
    just finished, grades, data quality; role-scoped, suppressed and audited."""
    from lmp_analytics.reports import FORMATS, write_school_reports

    try:
        fmt = choose("--format", fmt, FORMATS)
        lang = document_lang(lang)
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
    console.print(say("wrote_reports", n=len(run.paths), scope=safe(run.scope),
                      path=f"[bold]{safe(where)}[/]"), highlight=False)
    if run.without_rounds:
        console.print(say("reports_without_rounds", n=len(run.without_rounds),
                          schools=safe(", ".join(run.without_rounds))), highlight=False)


def export(
    level: Annotated[str, typer.Option(help="school | kommune | pulje | program")] = "school",
    indicator: Annotated[list[str] | None, typer.Option(
        help="Indicator id; repeat or comma-separate (default: all).")] = None,
    by: Annotated[str | None, typer.Option(help="trinn | kjonn")] = None,
    term: Annotated[str | None, typer.Option(help="Only this term, e.g. 2025V.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv | xlsx | parquet")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (csv: default "
                                             "stdout).")] = None,
    lake: Annotated[Path | None, typer.Option(
        "--lake", help="Write the warehouse as Hive-partitioned Parquet in this folder "
        "(program: the publication; forsker: also facts and marts).")] = None,
    excel_nb: Annotated[bool, typer.Option(
        "--excel-nb", help="CSV for Norwegian Excel: ';', decimal comma, Norwegian headers, "
        "rounded values, terms and codes in words.")] = False,
    role: RoleOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Indicator tables with n, 95 % intervals and suppression flags; role-scoped, audited.
    With ``--lake DIR``: the tables the role may take out, as a Parquet lake."""
    from lmp_analytics.reports import EXPORT_FORMATS, write_export
    from lmp_analytics.reports.export import LEVELS

    if lake is not None:
        _export_lake(lake, out=out, role=role, warehouse=warehouse, debug=debug)
        return

    wanted = [i.strip() for x in (indicator or []) for i in x.split(",") if i.strip()] or None
    try:
        level = choose("--level", level, LEVELS)
        wanted = None if wanted is None else [_indicator(i) for i in wanted]
        by = _by(by)
        term = _term(term)
        fmt = _output(fmt, out, EXPORT_FORMATS, needs_out=("xlsx", "parquet"))
        result = write_export(out, level=level, indicators=wanted, fmt=fmt, by=by, term=term,
                              role=_role(role), warehouse=warehouse, excel_nb=excel_nb)
    except (LmpError, ValueError, PermissionError) as exc:
        raise _fail(exc, debug) from None
    except OSError as exc:
        raise _fail(failures.with_path(exc, out), debug) from None
    if out is None:
        sys.stdout.write(for_stdout(result.data.decode("utf-8-sig")))
        sys.stdout.flush()
    else:
        err_console.print(say("wrote_export", n=result.rows, suppressed=result.suppressed,
                              path=safe(out)), highlight=False)


def _export_lake(lake: Path, *, out: Path | None, role: str | None, warehouse: Path | None,
                 debug: bool) -> None:
    from lmp_analytics.privacy.roles import parse_role
    from lmp_analytics.reports.lake import write_lake

    try:
        if out is not None:
            raise refusal(UsageError, "lake_no_out")
        result = write_lake(lake, role=parse_role(_role(role)), warehouse=warehouse)
    except (LmpError, ValueError, PermissionError) as exc:
        raise _fail(exc, debug) from None
    except OSError as exc:
        raise _fail(failures.with_path(exc, lake), debug) from None
    err_console.print(say("wrote_lake", n=len(result.rows), rows=sum(result.rows.values()),
                          min_n=result.min_n, path=safe(result.path)), highlight=False)
