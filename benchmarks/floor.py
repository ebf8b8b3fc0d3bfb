"""The floor: the fastest plain reader of the same export files into one raw in-memory table.

No mapping, protection or validation: every cell stays text. Two candidates are measured and the
faster one is the floor:

- polars: ``pl.read_csv`` per file (delimiter from the header line, ``utf8-lossy``: the
  Windows-1252 files are not decoded properly, which only makes the floor faster) and one diagonal
  ``pl.concat``;
- DuckDB: one multi-file ``read_csv`` with ``union_by_name`` per dialect (delimiter and encoding
  differ between files and DuckDB sniffs one dialect per call), ``all_varchar``, and a 1 MiB
  ``buffer_size`` (with the default of ~30 MiB per file the binder of a 2,500-file scan needs more
  than 18 GB and fails).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

_BOM = b"\xef\xbb\xbf"


def _dialect(data: bytes) -> tuple[str, str]:
    header = data[:4096].split(b"\n", 1)[0]
    delimiter = ";" if header.count(b";") >= header.count(b",") else ","
    return delimiter, ("utf-8" if data.startswith(_BOM) else "latin-1")


def polars_floor(files: list[Path]) -> int:
    """Rows read by polars (read_csv per file + one concat)."""
    frames = []
    for path in files:
        data = path.read_bytes()
        frames.append(pl.read_csv(data, separator=_dialect(data)[0], infer_schema=False,
                                  encoding="utf8-lossy"))
    return pl.concat(frames, how="diagonal").height


def duckdb_floor(files: list[Path]) -> int:
    """Rows read by DuckDB (one union_by_name read_csv per dialect, unioned by name)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for path in files:
        with open(path, "rb") as fh:
            groups.setdefault(_dialect(fh.read(4096)), []).append(str(path))
    con = duckdb.connect()
    try:
        parts = [
            f"SELECT * FROM read_csv(${k + 1}, delim='{delim}', encoding='{enc}', header=true, "
            "all_varchar=true, union_by_name=true, buffer_size=1048576)"
            for k, (delim, enc) in enumerate(groups)
        ]
        con.execute("CREATE TABLE raw AS " + " UNION ALL BY NAME ".join(parts),
                    list(groups.values()))
        return con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
    finally:
        con.close()
