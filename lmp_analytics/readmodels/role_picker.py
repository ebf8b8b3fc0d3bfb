"""The dashboard's demo role picker: which role strings to offer."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from lmp_analytics.readmodels._common import WarehouseArg, empty
from lmp_analytics.readmodels.catalogue import SCHOOL_SCHEMA, schools

__all__ = ["demo_roles"]


def demo_roles(*, warehouse: WarehouseArg = None, extra: Sequence[str] = ()) -> list[str]:
    """Role strings for the demo role picker: program, one per kommune and one veileder per
    kommune (its first two participating schools), then ``extra`` (e.g. from users.toml)."""
    out = ["program"]
    try:
        frame = schools(role="program", warehouse=warehouse)
    except Exception:
        frame = empty(SCHOOL_SCHEMA)
    groups = frame.partition_by("kommunenummer", maintain_order=True) if frame.height else []
    out += [f"kommune:{g['kommunenummer'][0]}" for g in groups]
    for g in groups:
        part = g.filter(pl.col("rolle") == "deltaker").sort("skole")["skole_orgnr"]
        if part.len():
            out.append("veileder:" + ",".join(sorted(part.head(2).to_list())))
    out += [r for r in extra if r not in out]
    return out

