"""Attack helper: a copy of a warehouse in which one hidden school cell holds another count."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb


def perturbed_copy(src: Path, dest: Path, round_id: str, indicator: str = "mobbet") -> Path:
    """A copy of ``src`` at ``dest`` where the school cell (breakdown ``alle``) of ``round_id``
    and ``indicator`` holds another bullied count with the same n: a number shown to a reader
    must not move with it when that cell is hidden."""
    shutil.copyfile(src, dest)
    with duckdb.connect(str(dest)) as con:
        con.execute(
            "UPDATE mart_indicator_counts SET count = CASE WHEN 2 * count + 1 <= n "
            "THEN 2 * count + 1 ELSE 0 END WHERE round_id = ? AND indicator = ? "
            "AND level = 'skole' AND breakdown = 'alle'", [round_id, indicator])
    return dest
