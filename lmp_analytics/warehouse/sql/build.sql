-- The build engine's bookkeeping (lmp_analytics/warehouse/build.py): one state table for every
-- derived target, and the facts' round fingerprints the incremental builds are keyed on.

-- name: create_state
-- What each derived target was last built from: one row per unit (a round, or a (term, rolle)
-- component of the publication) with its fingerprint. A target whose rows are absent here (or
-- whose recorded inputs in `meta` differ) is rebuilt in full.
CREATE TABLE IF NOT EXISTS build_state (
    target VARCHAR NOT NULL,   -- a target of lmp_analytics/warehouse/registry.py
    unit   VARCHAR,            -- round_id, or rolle for a (term, rolle) component
    term   VARCHAR,
    n      BIGINT,             -- rows the fingerprint covers
    fp     UBIGINT             -- bit_xor of the rows' hashes
);

-- name: tables
-- The warehouse's permanent tables (its own catalog only: see reads.sql table_exists).
SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database();

-- name: columns_of
SELECT column_name FROM duckdb_columns() WHERE table_name = ?;

-- name: round_fingerprints
-- What a round's derived rows (dim_round, the marts, the changes) are made from: its response
-- rows. A load replaces a group's responses together with their answers (under a new file_id);
-- an erasure or retention deletes both. {target} is a temp table (round_id, term, n, fp).
CREATE OR REPLACE TEMP TABLE {target} AS
SELECT round_id, any_value(term) AS term, count(*) AS n,
       bit_xor(hash(elev, gruppe, file_id, row_number, trinn, kjonn, skole_orgnr, dato)) AS fp
FROM fct_response
GROUP BY round_id;

-- name: state_of
-- A target's recorded units as the temp table {into} ({unit} the unit column's name).
CREATE OR REPLACE TEMP TABLE {into} AS
SELECT unit AS {unit}, term, n, fp FROM build_state WHERE target = ?;

-- name: changed_units
-- Units of {now} (fingerprints now: {unit}, term, n, fp) that differ from what the target was
-- last built from: new, changed or gone. {into}: a temp table ({unit}, term).
CREATE OR REPLACE TEMP TABLE {into} AS
SELECT DISTINCT coalesce(n.{unit}, o.unit) AS {unit}, coalesce(n.term, o.term) AS term
FROM {now} AS n
FULL OUTER JOIN (SELECT * FROM build_state WHERE target = $target) AS o
    ON n.{unit} IS NOT DISTINCT FROM o.unit AND n.term IS NOT DISTINCT FROM o.term
WHERE n.fp IS DISTINCT FROM o.fp OR n.n IS DISTINCT FROM o.n;

-- name: count_rows
SELECT count(*) FROM {table};

-- name: forget_state
DELETE FROM build_state WHERE target = ?;

-- name: save_state
INSERT INTO build_state SELECT ?, {unit}, term, n, fp FROM {now};

-- name: drop_legacy_state
-- {table}: a per-builder state table of an earlier version (build.LEGACY_STATE_TABLES).
DROP TABLE IF EXISTS {table};
