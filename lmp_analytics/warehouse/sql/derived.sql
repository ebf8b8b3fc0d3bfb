-- The columns and types of every derived table (lmp_analytics/warehouse/registry.py), declared
-- once. A builder creates its tables from these blocks and inserts its rows into them
-- (lmp_analytics/warehouse/ddl.py), so a table's shape never depends on the rows of one build;
-- rows with a missing or an extra column are refused, naming the table and the column.

-- name: dim_round
-- One row per Spekter round (dim_round.sql), in school and date order.
CREATE TABLE IF NOT EXISTS dim_round (
    round_id    VARCHAR,
    skole_orgnr VARCHAR,
    term        VARCHAR,
    versjon     VARCHAR,
    runde       VARCHAR,
    formal      VARCHAR,
    first_date  DATE,
    last_date   DATE,
    respondents BIGINT,
    groups      BIGINT,
    items       VARCHAR[]               -- the items the round's files answered
);

-- name: dim_indicator_item
-- The codebooks' indicator definitions (made when a warehouse is created, refreshed by the marts).
CREATE TABLE IF NOT EXISTS dim_indicator_item (
    versjon       VARCHAR NOT NULL,
    indicator     VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,      -- share | scale
    item          VARCHAR NOT NULL,
    is_reversed   BOOLEAN NOT NULL,
    threshold     INTEGER,               -- share: value >= threshold counts
    min_items     INTEGER,               -- scale: answered items needed for a score
    top_threshold DOUBLE                 -- scale: mean >= top_threshold counts as "high"
);

-- name: fct_pupil_indicator
-- One row per pupil, round and indicator (marts.sql, pupil_indicator_rows).
CREATE TABLE IF NOT EXISTS fct_pupil_indicator (
    round_id      VARCHAR,
    skole_orgnr   VARCHAR,
    term          VARCHAR,
    versjon       VARCHAR,
    gruppe        VARCHAR,
    trinn         SMALLINT,
    kjonn         VARCHAR,
    elev          VARCHAR,
    indicator     VARCHAR,
    kind          VARCHAR,
    value         DOUBLE,                -- share: 1/0; scale: the pupil's mean; NULL: no score
    top_threshold DOUBLE
);

-- name: mart_group_counts
-- Counts per group, round, indicator and breakdown (marts.sql, group_counts_rows).
CREATE TABLE IF NOT EXISTS mart_group_counts (
    round_id        VARCHAR,
    skole_orgnr     VARCHAR,
    kommunenummer   VARCHAR,
    rolle           VARCHAR,
    pulje           INTEGER,
    term            VARCHAR,
    versjon         VARCHAR,
    gruppe          VARCHAR,
    indicator       VARCHAR,
    kind            VARCHAR,
    breakdown       VARCHAR,
    breakdown_value VARCHAR,
    n               BIGINT,
    count           DOUBLE,
    sum             DOUBLE,
    sumsq           DOUBLE,
    top_count       HUGEINT,
    sum_x           HUGEINT,             -- sum of value * 720720 (exact)
    sumsq_x         HUGEINT
);

-- name: mart_school_round
-- The round each school contributes to a term's aggregates (is_primary) (marts.sql, school_rounds).
CREATE TABLE IF NOT EXISTS mart_school_round (
    round_id    VARCHAR,
    skole_orgnr VARCHAR,
    term        VARCHAR,
    versjon     VARCHAR,
    runde       VARCHAR,
    first_date  DATE,
    is_primary  BOOLEAN
);

-- name: mart_indicator_counts
-- Every level's counts in one long table (marts.sql, indicator_counts_rows).
CREATE TABLE IF NOT EXISTS mart_indicator_counts (
    level           VARCHAR,             -- gruppe | skole | kommune | pulje | program
    round_id        VARCHAR,
    skole_orgnr     VARCHAR,
    kommunenummer   VARCHAR,
    rolle           VARCHAR,
    pulje           INTEGER,
    term            VARCHAR,
    versjon         VARCHAR,
    gruppe          VARCHAR,
    indicator       VARCHAR,
    kind            VARCHAR,
    breakdown       VARCHAR,
    breakdown_value VARCHAR,
    n               BIGINT,
    count           DOUBLE,
    sum             DOUBLE,
    sumsq           DOUBLE,
    top_count       BIGINT,
    n_schools       BIGINT
);

-- name: mart_item_counts
-- Item non-response counts per round and item (marts.sql, item_counts_rows).
CREATE TABLE IF NOT EXISTS mart_item_counts (
    round_id VARCHAR,
    item     VARCHAR,
    asked    BIGINT,
    skipped  BIGINT,
    n        BIGINT
);

-- name: mart_item_nonresponse
-- The suppressed item non-response cells, every role's rows (metrics/nonresponse.py).
CREATE TABLE IF NOT EXISTS mart_item_nonresponse (
    level              VARCHAR,
    kommunenummer      VARCHAR,
    skole_orgnr        VARCHAR,
    skole              VARCHAR,
    round_id           VARCHAR,
    term               VARCHAR,
    item               VARCHAR,
    module             VARCHAR,
    n                  BIGINT,
    asked              BIGINT,
    skipped            BIGINT,
    skipped_share      DOUBLE,
    suppressed         BOOLEAN,
    suppression_reason VARCHAR,
    n_display          VARCHAR
);

-- name: mart_school_change
-- Every school's before/after per phase and indicator, unsuppressed (evaluation/change_table.py);
-- suppressed when read (privacy/derived.py).
CREATE TABLE IF NOT EXISTS mart_school_change (
    skole_orgnr    VARCHAR,
    phase          VARCHAR,              -- runde | 1..4 | program
    indicator      VARCHAR,
    kind           VARCHAR,
    pre_round      VARCHAR,
    pre_term       VARCHAR,
    post_round     VARCHAR,
    post_term      VARCHAR,
    pre_n          BIGINT,
    post_n         BIGINT,
    linked_n       BIGINT,
    pre_value      DOUBLE,
    post_value     DOUBLE,
    diff           DOUBLE,
    diff_ci_low    DOUBLE,
    diff_ci_high   DOUBLE,
    p_value        DOUBLE,
    test           VARCHAR,
    tested         BOOLEAN,
    linked_diff    DOUBLE,
    linked_ci_low  DOUBLE,
    linked_ci_high DOUBLE,
    linked_p_value DOUBLE,
    phase_rank     INTEGER,              -- ordering keys
    post_date      DATE
);

-- name: pub_indicator_cells
-- The suppressed publication: every cell any surface shows (publication.py).
CREATE TABLE IF NOT EXISTS pub_indicator_cells (
    level               VARCHAR,
    kommunenummer       VARCHAR,
    skole_orgnr         VARCHAR,
    skole               VARCHAR,
    gruppe              VARCHAR,
    rolle               VARCHAR,
    pulje               BIGINT,
    term                VARCHAR,
    round               VARCHAR,
    versjon             VARCHAR,
    indicator           VARCHAR,
    kind                VARCHAR,
    breakdown           VARCHAR,
    breakdown_value     VARCHAR,
    n                   BIGINT,
    count               DOUBLE,
    share               DOUBLE,
    ci_low              DOUBLE,
    ci_high             DOUBLE,
    mean                DOUBLE,
    sd                  DOUBLE,
    mean_ci_low         DOUBLE,
    mean_ci_high        DOUBLE,
    n_schools           BIGINT,
    ci_method           VARCHAR,
    few_clusters        BOOLEAN,
    is_primary          BOOLEAN,
    suppressed          BOOLEAN,
    suppression_reason  VARCHAR,
    n_display           VARCHAR,
    suppression_note_nb VARCHAR,
    suppression_note_en VARCHAR
);

-- name: drop
DROP TABLE IF EXISTS {table};

-- name: insert_by_name
-- The rows: a SELECT whose column names are the table's (checked before).
INSERT INTO {table} BY NAME {rows}

-- name: insert_frame
-- A registered frame, its columns in the table's order (checked before).
INSERT INTO {table} SELECT {columns} FROM {frame};

-- name: columns
-- A table's columns and types in order (parameter: the table's name).
SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position;

-- The estimates stored at publish time (registry targets estimates, national_estimates): their
-- columns and types, declared once (lmp_analytics/warehouse/ddl.py).

-- name: mart_landing_panel
-- The landing panel per role key (programme, kommune:NNNN) and indicator, phases in order
-- (evaluation/landing_panel.py).
CREATE TABLE IF NOT EXISTS mart_landing_panel (
    phase              VARCHAR,
    indicator          VARCHAR,
    kind               VARCHAR,
    schools            BIGINT,
    hidden_schools     BIGINT,
    no_round_schools   BIGINT,
    pre_terms          VARCHAR,
    post_terms         VARCHAR,
    pre_n              BIGINT,
    post_n             BIGINT,
    n_display          VARCHAR,
    pre_value          DOUBLE,
    post_value         DOUBLE,
    change             DOUBLE,
    ci_low             DOUBLE,
    ci_high            DOUBLE,
    tested             BOOLEAN,
    verdict            VARCHAR,
    down               BIGINT,
    unchanged          BIGINT,
    up                 BIGINT,
    untested           BIGINT,
    adjusted           DOUBLE,
    adjusted_ci_low    DOUBLE,
    adjusted_ci_high   DOUBLE,
    adjusted_tested    BOOLEAN,
    adjusted_verdict   VARCHAR,
    comparison_change  DOUBLE,
    comparison_schools BIGINT,
    adjusted_reason    VARCHAR,
    rtm_warning        BOOLEAN,
    suppressed         BOOLEAN,
    suppression_reason VARCHAR,
    role               VARCHAR,
    phase_order        BIGINT
);

-- name: mart_event_study
-- The programme's event study per indicator: one row per event time (evaluation/event_study.py).
CREATE TABLE IF NOT EXISTS mart_event_study (
    indicator  VARCHAR,
    e          BIGINT,
    att        DOUBLE,
    ci_low     DOUBLE,
    ci_high    DOUBLE,
    n          BIGINT,
    n_schools  BIGINT,
    pre        BOOLEAN,
    suppressed BOOLEAN,
    n_display  VARCHAR
);

-- name: mart_event_summary
-- The event study's summary estimates per indicator, in display order.
CREATE TABLE IF NOT EXISTS mart_event_summary (
    estimate_order UINTEGER,
    estimate       VARCHAR,
    value          DOUBLE,
    ci_low         DOUBLE,
    ci_high        DOUBLE,
    schools        BIGINT,
    indicator      VARCHAR
);

-- name: mart_event_info
-- One row per indicator: the event study's pre-trend test, warnings and school counts.
CREATE TABLE IF NOT EXISTS mart_event_info (
    indicator       VARCHAR,
    pre_trend_p     DOUBLE,
    pre_trend_k     BIGINT,
    warnings        VARCHAR[],
    schools         BIGINT,
    treated_schools BIGINT
);

-- name: mart_national_results
-- The national-panel designs (Elevundersøkelsen) per design and grade (evaluation/national_view.py).
CREATE TABLE IF NOT EXISTS mart_national_results (
    row_order            UINTEGER,
    design               VARCHAR,
    trinn                VARCHAR,
    estimate_pp          DOUBLE,
    ci_low_pp            DOUBLE,
    ci_high_pp           DOUBLE,
    n_lmp_schools        BIGINT,
    n_comparison_schools BIGINT,
    pre_trend_p          DOUBLE,
    warning              VARCHAR,
    indicator            VARCHAR,
    selection_years      VARCHAR,
    notes                VARCHAR              -- the warning as data: JSON [[note id, {values}], ...]
);

-- name: mart_national_event_study
-- The national designs' event studies per design, grade and event time.
CREATE TABLE IF NOT EXISTS mart_national_event_study (
    row_order       UINTEGER,
    design          VARCHAR,
    trinn           VARCHAR,
    e               BIGINT,
    att             DOUBLE,
    se              DOUBLE,
    ci_low          DOUBLE,
    ci_high         DOUBLE,
    indicator       VARCHAR,
    selection_years VARCHAR
);
