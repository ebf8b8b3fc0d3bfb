-- The warehouse as a lake (lmp_analytics/reports/lake.py): which tables, their columns, the
-- SELECT each is written from and the COPY that writes it as Parquet.

-- name: columns
-- A table's columns and types (parameter: the table's name).
SELECT column_name, data_type FROM duckdb_columns()
WHERE database_name = current_database() AND table_name = ? ORDER BY column_index;

-- name: tables
SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()
ORDER BY table_name;

-- name: whole_table
SELECT * FROM {table}

-- name: with_round_term
-- A table keyed by round, with its round's term (the partition column).
SELECT t.*, r.term FROM {table} t JOIN dim_round r USING (round_id)

-- name: stricter_publication
-- The publication suppressed again at a stricter reader's threshold (registered frame).
SELECT * FROM _lake_stricter

-- name: count_rows
SELECT count(*) FROM ({select});

-- name: copy_file
-- {path}: an SQL string literal (COPY takes no parameter).
COPY ({select}) TO {path} (FORMAT parquet, COMPRESSION zstd);

-- name: copy_partitioned
-- One folder per value of {partition}; part-<i>.parquet files in each ({{i}}: DuckDB's counter).
COPY ({select}) TO {path} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({partition}),
    OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'part-{{i}}');

-- name: read_table
-- A lake table read back: every Parquet file under its folder ($files: a glob).
SELECT * FROM read_parquet($files, hive_partitioning = true, union_by_name = true);
