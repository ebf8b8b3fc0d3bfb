-- Publishing (lmp_analytics/warehouse/publish.py), one per `-- name:` block.

-- name: main_tables
-- The tables of the open file's main schema (is this DuckDB file a warehouse of ours?).
SELECT table_name
  FROM duckdb_tables()
 WHERE database_name = current_database() AND schema_name = 'main';
