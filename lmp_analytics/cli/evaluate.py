"""``lmp evaluate national``: the programme effect on the national school panel (issue 17)."""

from __future__ import annotations

from typing import Annotated

import typer

from lmp_analytics import failures
from lmp_analytics.choices import choose
from lmp_analytics.cli.common import (
    DebugOpt,
    LmpGroup,
    OutOpt,
    WarehouseOpt,
    _emit,
    _fail,
    _output,
    cli_lang,
    console,
    say,
)
from lmp_analytics.errors import LmpError, UsageError
from lmp_analytics.presentation.messages import refusal
from lmp_analytics.terminal import safe

# `lmp evaluate national`: the programme effect on the national school panel (issue 17).

evaluate_app = typer.Typer(
    cls=LmpGroup, name="evaluate", no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False,
    help="Programme evaluations on public data (Elevundersøkelsen).",
)


def _selection_years(text: str) -> tuple[int, ...]:
    """``--selection-years 2010-2012`` (or one year ``2012``) -> (2010, 2011, 2012)."""
    import re

    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", text)
    if not m or int(m.group(2) or m.group(1)) < int(m.group(1)):
        raise refusal(UsageError, "selection_years", value=repr(text))
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
            raise refusal(UsageError, "threshold_part", value=repr(part))
        out[int(g)] = v
    if set(out) != {7, 10}:
        raise refusal(UsageError, "threshold_grades", value=repr(text))
    return out


@evaluate_app.command("national")
def evaluate_national_cmd(
    indicator: Annotated[str, typer.Option(
        help="National indicator: mobbet, or a 1-5 index where loaded (trivsel, stotte_larer, ...)."
    )] = "mobbet",
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
    from lmp_analytics.evaluation.national_designs import national_evaluation as run
    from lmp_analytics.evaluation.national_panel import INDICATORS

    try:
        indicator = choose("--indicator", indicator, INDICATORS)
        chosen = choose("--design", design, ("all", *DESIGNS))
        grade = choose("--trinn", trinn, ("all", *TRINN))
        years = _selection_years(selection_years)
        limits = _thresholds(threshold)
        fmt = _output(fmt, out, ("table", "csv"))
        result = run(warehouse, indicator,
                    designs=DESIGNS if chosen == "all" else (chosen,),
                    trinn=TRINN if grade == "all" else (grade,),
                    selection_years=years, thresholds=limits, bridge_breaks=bridge_breaks)
        frame = result.results
        audited = dict(action="evaluate national", role=None, warehouse=warehouse,
                       scope=f"indicator={indicator} design={chosen} trinn={grade} "
                             f"selection={selection_years} threshold={threshold}"
                             + (" bridged" if bridge_breaks else ""))
    except (LmpError, ValueError) as exc:
        raise _fail(exc, debug) from None
    try:
        _emit(frame, fmt, out, RESULT_COLUMNS[:-1], say("national_title", indicator=indicator),
              audited)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    except OSError as exc:
        raise _fail(failures.with_path(exc, out), debug) from None
    if fmt == "table":
        from lmp_analytics.presentation.labels import national_note

        lang = cli_lang()
        for d, t, warning in frame.select("design", "trinn", "warning").iter_rows():
            if warning and lang != "en":  # the notes in the reader's language
                warning = " ".join(national_note(n.key, dict(n.values), lang) or n.english()
                                   for n in result.notes.get((d, t), ()))
            if warning:
                console.print(f"[yellow]{safe(d)} {safe(t)}:[/] {safe(warning)}",
                              highlight=False)


