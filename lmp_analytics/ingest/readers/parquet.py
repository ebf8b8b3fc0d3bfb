"""Read a Parquet file as text cells, after checking its footer against the limits."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lmp_analytics.ingest.readers.limits import Limits, megabytes, too_many_columns, too_many_rows
from lmp_analytics.ingest.readers.table import RawTable, finish_table
from lmp_analytics.presentation.messages import rejection


def check_parquet_metadata(path: Path, limits: Limits) -> None:
    """Row count, width and uncompressed size from the Parquet footer, before any data is read."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow raises several error types for broken files
        raise rejection(path, "not_parquet", detail=exc) from exc
    if meta.num_columns > limits.columns:
        raise too_many_columns(path, meta.num_columns, limits)
    if meta.num_rows > limits.rows:
        raise too_many_rows(path, meta.num_rows, limits)
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > limits.parquet_bytes:
        raise rejection(path, "parquet_over_limit", size=megabytes(size),
                        limit=megabytes(limits.parquet_bytes))



def _parquet_text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.Date:
        return col.dt.strftime("%Y-%m-%d")
    if dtype == pl.Datetime:
        return col.dt.strftime("%Y-%m-%d %H:%M:%S")
    if dtype.is_float():  # 974590123.0 -> '974590123'
        whole = pl.when(col.is_finite() & (col == col.round())).then(
            col.cast(pl.Int64, strict=False).cast(pl.String))
        return pl.coalesce(whole, col.cast(pl.String))
    return col.cast(pl.String)


def read_parquet(path: Path, limits: Limits) -> RawTable:
    check_parquet_metadata(path, limits)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several error types for broken files
        raise rejection(path, "not_parquet", detail=exc) from exc
    nested = [n for n, t in frame.schema.items() if t.is_nested()]
    if nested:
        raise rejection(path, "parquet_nested", columns=", ".join(nested), column=nested[0])
    columns = []
    for i, (name, dtype) in enumerate(frame.schema.items()):
        try:
            columns.append(frame.select(_parquet_text(name, dtype).alias(f"c{i}")).to_series())
        except pl.exceptions.PolarsError as exc:
            raise rejection(path, "parquet_type", dtype=dtype, detail=str(exc).splitlines()[0],
                            column=name) from exc
    return finish_table(path, frame.columns, pl.DataFrame(columns), "parquet")

