"""One audit row per export or report run: who (role), what (action, scope) and when.

The audit needs a write session (a private copy of the warehouse published atomically), so it
runs once per run, after the output has been made and before it is handed out: a run whose audit
cannot be written hands nothing out.
"""

from __future__ import annotations

from lmp_analytics.config import warehouse_path
from lmp_analytics.errors import WarehouseError
from lmp_analytics.warehouse.erasure import audit
from lmp_analytics.warehouse.publish import write_session

from .data import WarehouseArg


def record(
    *, role: str, action: str, scope: str | None, detail: str, warehouse: WarehouseArg = None
) -> None:
    """Write one ``audit_log`` row (``action``: 'export' or 'report')."""
    target = warehouse_path(warehouse)
    if not target.exists():
        raise WarehouseError(f"no warehouse at {target}")
    with write_session(target) as session:
        audit(session.con, role=role, action=action, scope=scope, detail=detail)


__all__ = ["record"]
