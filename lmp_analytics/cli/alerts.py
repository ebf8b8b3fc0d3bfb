"""``lmp alerts``: the role's schools that went clearly the wrong way (for a weekly e-mail)."""

from __future__ import annotations

from typing import Annotated

import typer

from lmp_analytics import failures
from lmp_analytics.cli.common import (
    DebugOpt,
    OutOpt,
    RoleOpt,
    WarehouseOpt,
    _emit,
    _fail,
    _indicator,
    _output,
    _role,
    console,
    say,
)
from lmp_analytics.errors import LmpError

ALERT_FORMATS = ("table", "csv")


def alerts(
    indicator: Annotated[str, typer.Option(help="Indicator id.")] = "mobbet",
    role: RoleOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv")] = "table",
    out: OutOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Schools in the role's scope whose latest round or latest phase went clearly the wrong
    way (95 % interval wholly on the bad side of 0). Exit 0 also when there are none."""
    from lmp_analytics import api
    from lmp_analytics.readmodels import landing

    try:
        indicator = _indicator(indicator)
        fmt = _output(fmt, out, ALERT_FORMATS)
        frame = landing.alerts(indicator=indicator, role=_role(role), warehouse=warehouse,
                               surface="cli")
        audited = dict(action="alerts", role=_role(role), warehouse=warehouse,
                       scope=f"indicator={indicator}",
                       min_n=None if fmt == "table" else api.threshold(warehouse))
    except (LmpError, ValueError, PermissionError) as exc:
        raise _fail(exc, debug) from None
    cols = ["kommunenummer", "skole", "scope", "pre_term", "post_term", "pre_value",
            "post_value", "change", "ci_low", "ci_high", "verdict"]
    try:
        if fmt == "table" and frame.height == 0:
            console.print(say("no_alerts", indicator=indicator))
            return
        _emit(frame, fmt, out, cols, say("alerts_title", indicator=indicator), audited)
    except LmpError as exc:
        raise _fail(exc, debug) from None
    except OSError as exc:
        raise _fail(failures.with_path(exc, out), debug) from None
