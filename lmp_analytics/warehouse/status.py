"""What the warehouse holds, for ``lmp status`` and the data-quality page."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lmp_analytics.config import warehouse_path
from lmp_analytics.terms import term_index
from lmp_analytics.warehouse import audit, meta, reading
from lmp_analytics.warehouse.publish import check_ours
from lmp_analytics.warehouse.queries import named


@dataclass(frozen=True)
class WarehouseStatus:
    """``rounds``: one row per school, one text column per term (respondents per round)."""

    path: Path
    rounds: pl.DataFrame
    schools: int
    n_rounds: int
    pupils: int
    responses: int
    quarantined_rows: int
    last_ingest: str | None
    quarantine: pl.DataFrame
    min_n: int | None = None
    key_fingerprint: str | None = None
    audit_log: Path | None = None
    audit_entries: int = 0


def warehouse_status(path: str | os.PathLike[str] | None = None) -> WarehouseStatus:
    """Summarise the published warehouse."""
    target = warehouse_path(path)
    with reading(target) as con:
        check_ours(con, target)
        cells = con.sql(named("status", "respondents_per_school_term")).pl()
        totals = con.sql(named("status", "totals")).pl().row(0, named=True)
        quarantine = con.sql(named("status", "quarantine_by_reason")).pl()
        min_n, fingerprint = meta.applied_min_n(con), meta.stored_fingerprint(con)
    if cells.height:
        terms = sorted(cells.get_column("term").unique().to_list(), key=term_index)
        grid = cells.pivot(
            on="term", index=["kommunenummer", "skole", "skole_orgnr"], values="cell"
        )
        grid = grid.select("kommunenummer", "skole", "skole_orgnr", *terms)
    else:
        grid = pl.DataFrame()
    return WarehouseStatus(
        path=target, rounds=grid, schools=totals["schools"], n_rounds=totals["rounds"],
        pupils=totals["pupils"], responses=totals["responses"],
        quarantined_rows=totals["quarantined_rows"], last_ingest=totals["last_ingest"],
        quarantine=quarantine, min_n=min_n, key_fingerprint=fingerprint,
        audit_log=audit.log_path(target), audit_entries=len(audit.read_log(target)),
    )
