-- Warehouse DDL. Layers by name: dim_* (reference), fct_* (core facts, as loaded),
-- mart_* (indicator counts, rebuilt from the facts), ingest_* / quarantine (bookkeeping).
-- No PRIMARY KEY on the big fact tables: uniqueness is enforced in validation (measured: a key
-- makes loading several times slower and the file much bigger).

CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE TABLE IF NOT EXISTS dim_school (
    skole_orgnr   VARCHAR PRIMARY KEY,   -- 9 digits
    skole         VARCHAR NOT NULL,
    kommunenummer VARCHAR NOT NULL,      -- 4 digits, leading zero kept
    kommune       VARCHAR NOT NULL,
    rolle         VARCHAR NOT NULL,      -- deltaker | sammenligning
    pulje         INTEGER,
    oppstart      VARCHAR                -- term of phase 1 (YYYYH / YYYYV)
);

CREATE TABLE IF NOT EXISTS dim_phase (
    skole_orgnr VARCHAR NOT NULL,
    fase        INTEGER NOT NULL,        -- 1..4
    termin      VARCHAR NOT NULL,        -- term the phase runs in
    kilde       VARCHAR NOT NULL         -- 'program' (oppstart + k - 1) or 'faser' (local override)
);

CREATE TABLE IF NOT EXISTS fct_enrolment (
    skole_orgnr VARCHAR NOT NULL,
    skoleaar    VARCHAR NOT NULL,        -- 2024-25
    trinn       INTEGER NOT NULL,
    elever      INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS fct_response (
    round_id    VARCHAR NOT NULL,        -- skole_orgnr:term:versjon:runde
    skole_orgnr VARCHAR NOT NULL,
    term        VARCHAR NOT NULL,
    versjon     VARCHAR NOT NULL,
    runde       VARCHAR NOT NULL,
    formal      VARCHAR,
    gruppe      VARCHAR NOT NULL,
    trinn       SMALLINT NOT NULL,       -- 3..10, Vg1-Vg3 = 11..13
    kjonn       VARCHAR,
    elev        VARCHAR NOT NULL,        -- keyed pseudonym (HMAC-SHA256), never a raw id
    dato        DATE NOT NULL,
    file_id     INTEGER NOT NULL,
    row_number  BIGINT NOT NULL          -- line in the source file (header = 1)
);

CREATE TABLE IF NOT EXISTS fct_answer (
    round_id VARCHAR NOT NULL,
    gruppe   VARCHAR NOT NULL,
    elev     VARCHAR NOT NULL,
    item     VARCHAR NOT NULL,
    value    SMALLINT                    -- NULL = asked but skipped; not asked = no row
);

CREATE TABLE IF NOT EXISTS fct_nomination (
    round_id VARCHAR NOT NULL,
    gruppe   VARCHAR NOT NULL,
    elev     VARCHAR NOT NULL,           -- nominator pseudonym
    item     VARCHAR NOT NULL,           -- nom_mobber | nom_mobbet
    nominee  VARCHAR NOT NULL            -- nominee pseudonym (same key)
);

CREATE SEQUENCE IF NOT EXISTS seq_file_id START 1;

CREATE TABLE IF NOT EXISTS ingest_log (
    file_id          INTEGER NOT NULL,
    run_id           VARCHAR NOT NULL,
    path             VARCHAR NOT NULL,
    sha256           VARCHAR NOT NULL,
    file_format      VARCHAR,
    encoding         VARCHAR,
    delimiter        VARCHAR,
    status           VARCHAR NOT NULL,   -- loaded | replaced (a newer file of the same path loaded)
    rows_read        BIGINT NOT NULL,
    rows_loaded      BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    loaded_at        TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantine (
    file_id     INTEGER NOT NULL,
    source_file VARCHAR NOT NULL,
    row_number  BIGINT NOT NULL,
    column_name VARCHAR NOT NULL,
    value       VARCHAR,                 -- the cell as read (pupil ids only as pseudonyms)
    reason      VARCHAR NOT NULL,        -- what was expected, in English (CLI and validate)
    reason_code VARCHAR                  -- stable code (lmp_analytics.ingest.reasons)
);
-- Warehouses written before reason_code existed get the column (NULL = derive from reason).
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS reason_code VARCHAR;

CREATE TABLE IF NOT EXISTS ingest_run (
    run_id           VARCHAR PRIMARY KEY,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP NOT NULL,
    files_loaded     INTEGER NOT NULL,
    files_skipped    INTEGER NOT NULL,
    rows_loaded      BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL
);

-- Written by versions before the audit log moved to <warehouse stem>.audit.jsonl beside the
-- warehouse (lmp_analytics/warehouse/audit.py); kept so that `lmp audit` lists the old rows.
CREATE TABLE IF NOT EXISTS audit_log (
    logged_at TIMESTAMP NOT NULL,
    role     VARCHAR NOT NULL,
    action   VARCHAR NOT NULL,           -- export | report | forget | retention
    scope    VARCHAR,
    detail   VARCHAR
);

-- dim_indicator_item, the codebooks' indicator definitions, is a derived table (made by the
-- marts from the codebooks): declared in derived.sql, created with this schema (publish.py).

CREATE TABLE IF NOT EXISTS fct_eu_result (   -- Elevundersøkelsen, published aggregates only
    level          VARCHAR NOT NULL,         -- nasjon | fylke | kommune | skole
    unit_code      VARCHAR,                  -- NULL for national rows
    unit_name      VARCHAR,
    school_year    VARCHAR NOT NULL,
    survey_year    INTEGER NOT NULL,
    term           VARCHAR NOT NULL,
    series_version VARCHAR NOT NULL,
    trinn          TINYINT,                  -- NULL = all grades
    indicator_code VARCHAR,
    indicator      VARCHAR NOT NULL,
    value_type     VARCHAR NOT NULL,         -- pct | score_1_5
    value          DOUBLE,                   -- NULL exactly when suppressed ('*')
    n_answered     BIGINT,
    suppressed     BOOLEAN NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL
);
-- Breakdowns and preliminary flag of Elevundersøkelsen results (added later: ALTER keeps old
-- warehouses readable; the column order is that of lmp_analytics.national.RESULT_SCHEMA).
ALTER TABLE fct_eu_result ADD COLUMN IF NOT EXISTS kjonn VARCHAR DEFAULT 'alle';  -- alle|jenter|gutter
ALTER TABLE fct_eu_result ADD COLUMN IF NOT EXISTS eierform VARCHAR DEFAULT 'alle'; -- alle|offentlig|privat
ALTER TABLE fct_eu_result ADD COLUMN IF NOT EXISTS preliminary BOOLEAN DEFAULT false; -- 'Foreløpige tall'

CREATE TABLE IF NOT EXISTS eu_ingest_log (   -- Elevundersøkelsen files loaded (lmp ingest-national)
    path             VARCHAR NOT NULL,
    sha256           VARCHAR NOT NULL,
    layout           VARCHAR NOT NULL,       -- statistikkbank | skoleporten | lmp
    file_format      VARCHAR,
    rows_read        BIGINT NOT NULL,
    rows_loaded      BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    loaded_at        TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS eu_quarantine (   -- rows of national files that were not loaded
    source_file VARCHAR NOT NULL,
    row_number  BIGINT,
    column_name VARCHAR,
    value       VARCHAR,
    reason      VARCHAR NOT NULL
);
