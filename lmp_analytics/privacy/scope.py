"""The one role scope: which rows of an (already suppressed) output a role may see on the
surface that shows it.

Every output path cuts its rows to the role here, once, as its last step before showing or
writing them: :func:`scope`. The surface matters for one rule only: group (class) level rows
reach a ``forsker`` outside dashboards (cli, report, export, notebook), never in a dashboard.
"""

from __future__ import annotations

from typing import Literal, get_args

import polars as pl

from lmp_analytics.privacy.roles import Role, parse_role

__all__ = ["SURFACES", "Surface", "as_role", "scope"]

Surface = Literal["cli", "dashboard", "report", "export", "notebook"]
SURFACES: tuple[Surface, ...] = get_args(Surface)


def as_role(role: str | Role | None) -> Role:
    """A Role from its text form (``None`` = ``program``)."""
    if isinstance(role, Role):
        return role
    return parse_role(role or "program")


def scope(frame: pl.DataFrame, role: str | Role | None, surface: Surface) -> pl.DataFrame:
    """Rows of ``frame`` the role may see on ``surface`` (:meth:`Role.apply_scope`).

    Aggregates above municipality level (pulje, programme, nation: no school and no kommune)
    are shared with every role; school and kommune rows only within scope; group rows only for
    ``forsker`` and never on the dashboard."""
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}; expected one of {', '.join(SURFACES)}")
    return as_role(role).apply_scope(frame, dashboard=surface == "dashboard")
