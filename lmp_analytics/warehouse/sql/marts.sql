-- Marts of counts. Built inside the ingest transaction from the facts and dim_indicator_item.
-- Shares keep numerator and denominator; scale means keep n, sum and sum of squares, so every
-- level sums exactly from the level below and nothing ever averages percentages.
--
-- The `*_rows` blocks are SELECTs that lmp_analytics/metrics/marts.py runs either over every
-- round (CREATE TABLE ... AS) or, when only some rounds changed, over those rounds ({answers},
-- {responses}, {pupils}: the facts of the changed rounds; {groups}: the groups of the changed
-- terms) and then DELETEs and INSERTs just those rows.
--
-- Scale sums are summed exactly: a pupil's scale value is a mean of k <= 16 answers, so
-- value * 720720 (lcm of 1..16) is an integer; the marts add these integers (sum_x, sumsq_x in
-- mart_group_counts) and divide once at the end. A sum of doubles would depend on the order in
-- which DuckDB's threads add them, and the same facts would not give the same marts twice.

-- name: pupil_indicator_rows
-- One row per pupil, round and indicator. Share: 1 if any answered item of the indicator is at or
-- above its threshold, 0 if none is, NULL if the pupil answered none of them. Scale: mean of the
-- answered items (reversed items as 6 - x) when at least min_items were answered, else NULL.
-- An indicator whose items were not asked in a round has no row at all ("not measured").
-- A pupil answers a round once (ingest enforces it), so a response row is a pupil and round; the
-- aggregation key is that row's number and a small indicator number (one integer: fast to hash).
WITH ind AS (
    SELECT indicator, row_number() OVER (ORDER BY indicator) AS ind_no
    FROM (SELECT DISTINCT indicator FROM dim_indicator_item)
),
items AS (
    SELECT d.versjon, d.item, i.ind_no, d.threshold, d.is_reversed
    FROM dim_indicator_item AS d JOIN ind AS i USING (indicator)
),
props AS (
    SELECT DISTINCT d.versjon, i.ind_no, d.indicator, d.kind, d.min_items, d.top_threshold
    FROM dim_indicator_item AS d JOIN ind AS i USING (indicator)
),
responses AS MATERIALIZED (
    SELECT row_number() OVER () AS rid, * FROM {responses}
),
per_pupil AS (
    SELECT r.rid * 1024 + d.ind_no AS k,
           count(v) AS n_answered,
           max(CASE WHEN v >= d.threshold THEN 1.0 ELSE 0.0 END) AS hit,
           avg(v) AS mean_v
    FROM {answers} AS a
    JOIN responses AS r ON r.round_id = a.round_id AND r.elev = a.elev AND r.gruppe = a.gruppe
    JOIN items AS d ON d.versjon = r.versjon AND d.item = a.item,
    LATERAL (SELECT CASE WHEN d.is_reversed THEN 6 - a.value ELSE a.value END AS v)
    GROUP BY k
)
SELECT r.round_id, r.skole_orgnr, r.term, r.versjon, r.gruppe, r.trinn, r.kjonn, r.elev,
       x.indicator, x.kind,
       CASE
         WHEN p.n_answered = 0 THEN NULL
         WHEN x.kind = 'share' THEN p.hit
         WHEN p.n_answered >= x.min_items THEN p.mean_v
       END AS value,
       x.top_threshold
FROM per_pupil AS p
JOIN responses AS r ON r.rid = p.k // 1024
JOIN props AS x ON x.versjon = r.versjon AND x.ind_no = p.k % 1024;

-- name: group_counts_rows
-- Counts per round and group (the finest level), with breakdowns by trinn and kjonn: first per
-- (group, indicator, trinn, kjonn), then summed into all pupils, each trinn and each kjonn.
-- Only keys and numbers are aggregated; the round's school, term and version (dim_round, made
-- from the same response rows), the school's kommune, rolle and pulje (dim_school) and the
-- indicator's kind (dim_indicator_item) are joined to the result (carrying them through the
-- aggregations as any_value cost a third of the statement).
WITH cells AS (
    SELECT p.round_id, p.gruppe, p.indicator, p.trinn, coalesce(p.kjonn, 'ukjent') AS kjonn,
           count(*)                                                   AS n,
           sum(CASE WHEN p.kind = 'share' THEN p.value END)           AS count,
           sum(CASE WHEN p.kind = 'scale' THEN round(p.value * 720720)::BIGINT END) AS sum_x,
           sum(CASE WHEN p.kind = 'scale'
                    THEN (round(p.value * 720720)::BIGINT)::HUGEINT
                         * (round(p.value * 720720)::BIGINT)::HUGEINT END)           AS sumsq_x,
           sum(CASE WHEN p.kind = 'scale' AND p.value >= p.top_threshold THEN 1 ELSE 0 END)
                                                                      AS top_count
    FROM {pupils} AS p
    WHERE p.value IS NOT NULL
    GROUP BY p.round_id, p.gruppe, p.indicator, p.trinn, coalesce(p.kjonn, 'ukjent')
),
exploded AS (
    SELECT *, 'alle' AS breakdown, 'alle' AS breakdown_value FROM cells
    UNION ALL
    SELECT *, 'trinn', CAST(trinn AS VARCHAR) FROM cells
    UNION ALL
    SELECT *, 'kjonn', kjonn FROM cells
),
summed AS (
    SELECT round_id, gruppe, indicator, breakdown, breakdown_value,
           sum(n)::BIGINT AS n, sum(count) AS count, sum(sum_x) AS sum_x,
           sum(sumsq_x) AS sumsq_x, sum(top_count) AS top_count
    FROM exploded
    GROUP BY round_id, gruppe, indicator, breakdown, breakdown_value
),
kinds AS (
    SELECT DISTINCT versjon, indicator, kind FROM dim_indicator_item
)
SELECT g.round_id, r.skole_orgnr, s.kommunenummer, s.rolle, s.pulje, r.term, r.versjon,
       g.gruppe, g.indicator, k.kind, g.breakdown, g.breakdown_value,
       g.n,
       g.count,
       g.sum_x::DOUBLE / 720720                         AS sum,
       g.sumsq_x::DOUBLE / (720720::DOUBLE * 720720)    AS sumsq,
       g.top_count,
       g.sum_x::HUGEINT                                 AS sum_x,
       g.sumsq_x::HUGEINT                               AS sumsq_x
FROM summed AS g
JOIN dim_round AS r USING (round_id)
JOIN dim_school AS s ON s.skole_orgnr = r.skole_orgnr
JOIN kinds AS k ON k.versjon = r.versjon AND k.indicator = g.indicator;

-- name: school_rounds
-- The round a school contributes to a term's aggregates: its earliest preventive round of the
-- term (a concrete-suspicion round is a targeted survey, not the school's regular measurement).
CREATE OR REPLACE TABLE mart_school_round AS
SELECT round_id, skole_orgnr, term, versjon, runde, first_date,
       row_number() OVER (PARTITION BY skole_orgnr, term
                          ORDER BY (formal = 'mistanke'), first_date, runde, versjon) = 1
         AS is_primary
FROM dim_round;

-- name: indicator_counts_rows
-- All levels in one long table. level: gruppe | skole | kommune | pulje | program.
-- skole rows exist per round; kommune/pulje/program rows per term and rolle, summing the
-- schools' primary round of the term.
WITH grp AS (
    SELECT * FROM {groups}
),
school AS (
    SELECT 'skole' AS level, g.round_id, g.skole_orgnr, g.kommunenummer, g.rolle, g.pulje,
           g.term, g.versjon, NULL::VARCHAR AS gruppe, g.indicator, g.kind, g.breakdown,
           g.breakdown_value, sum(g.n) AS n, sum(g.count) AS count, sum(g.sum_x) AS sum_x,
           sum(g.sumsq_x) AS sumsq_x, sum(g.top_count) AS top_count, 1 AS n_schools
    FROM grp AS g
    GROUP BY ALL
),
primary_school AS (
    SELECT s.* FROM school AS s
    JOIN mart_school_round AS r ON r.round_id = s.round_id AND r.is_primary
),
kommune AS (
    SELECT 'kommune' AS level, NULL::VARCHAR AS round_id, NULL::VARCHAR AS skole_orgnr,
           kommunenummer, rolle, NULL::INTEGER AS pulje, term, NULL::VARCHAR AS versjon,
           NULL::VARCHAR AS gruppe, indicator, kind, breakdown, breakdown_value,
           sum(n) AS n, sum(count) AS count, sum(sum_x) AS sum_x, sum(sumsq_x) AS sumsq_x,
           sum(top_count) AS top_count, count(DISTINCT skole_orgnr) AS n_schools
    FROM primary_school
    GROUP BY ALL
),
pulje AS (
    SELECT 'pulje', NULL, NULL, NULL, rolle, pulje, term, NULL, NULL, indicator, kind,
           breakdown, breakdown_value, sum(n), sum(count), sum(sum_x), sum(sumsq_x),
           sum(top_count), count(DISTINCT skole_orgnr)
    FROM primary_school
    WHERE pulje IS NOT NULL
    GROUP BY ALL
),
program AS (
    SELECT 'program', NULL, NULL, NULL, rolle, NULL, term, NULL, NULL, indicator, kind,
           breakdown, breakdown_value, sum(n), sum(count), sum(sum_x), sum(sumsq_x),
           sum(top_count), count(DISTINCT skole_orgnr)
    FROM primary_school
    GROUP BY ALL
)
, all_levels AS (
    SELECT 'gruppe' AS level, round_id, skole_orgnr, kommunenummer, rolle, pulje, term, versjon,
           gruppe, indicator, kind, breakdown, breakdown_value, n, count, sum_x, sumsq_x,
           top_count, 1 AS n_schools
    FROM grp
    UNION ALL SELECT * FROM school
    UNION ALL SELECT * FROM kommune
    UNION ALL SELECT * FROM pulje
    UNION ALL SELECT * FROM program
)
SELECT level, round_id, skole_orgnr, kommunenummer, rolle, pulje::INTEGER AS pulje, term,
       versjon, gruppe, indicator, kind, breakdown, breakdown_value,
       n::BIGINT AS n, count::DOUBLE AS count,
       (sum_x::DOUBLE / 720720)::DOUBLE AS sum,
       (sumsq_x::DOUBLE / (720720::DOUBLE * 720720))::DOUBLE AS sumsq,
       top_count::BIGINT AS top_count, n_schools::BIGINT AS n_schools
FROM all_levels;

-- name: inputs_fingerprint
-- The other inputs of every mart row: schools (kommune, rolle, pulje) and indicator definitions.
SELECT (SELECT count(*) || ':' || coalesce(bit_xor(hash(skole_orgnr, skole, kommunenummer,
                kommune, rolle, pulje, oppstart)), 0)
        FROM dim_school) || '/' ||
       (SELECT count(*) || ':' || coalesce(bit_xor(hash(versjon, indicator, kind, item,
                is_reversed, threshold, min_items, top_threshold)), 0)
        FROM dim_indicator_item);

-- name: item_counts_rows
-- Item non-response per round and item: answers asked (a row in fct_answer), skipped (asked,
-- left empty) and n, the respondents asked the item (distinct pupils). Every item is kept (the
-- view leaves out the conditional follow-ups), so a codebook change never makes these rows stale.
-- Every answer row comes from one response row (round, gruppe, elev) with at most one row per
-- item (a wide row of a file), and goes with it; so where no pupil has two responses in a round
-- (checked on the responses: cheap), the pupils asked an item are its rows, and only rounds with
-- such a pupil pay for a distinct count over their answers.
WITH dup AS (
    SELECT DISTINCT round_id FROM {responses} GROUP BY round_id, elev HAVING count(*) > 1
)
SELECT round_id, item, count(*)::BIGINT AS asked, (count(*) - count(value))::BIGINT AS skipped,
       count(*)::BIGINT AS n
FROM {answers}
WHERE round_id NOT IN (SELECT round_id FROM dup)
GROUP BY round_id, item
UNION ALL
SELECT round_id, item, count(*)::BIGINT AS asked, (count(*) - count(value))::BIGINT AS skipped,
       count(DISTINCT elev)::BIGINT AS n
FROM {answers}
WHERE round_id IN (SELECT round_id FROM dup)
GROUP BY round_id, item;

-- name: item_nonresponse_read
-- Read by metrics/nonresponse.py: the per round x item counts (mart_item_counts, or
-- item_counts_rows over fct_answer for a warehouse built before that mart) with the round's
-- school, term and primary flag (from mart_school_round when there is one, else true),
-- conditional items (parameter 1) left out, only the terms in parameter 2 (NULL: every term).
SELECT c.round_id, r.skole_orgnr, r.term, c.item, {is_primary} AS is_primary,
       c.asked, c.skipped, c.n
FROM {counts} AS c JOIN dim_round AS r USING (round_id) {primary}
WHERE NOT list_contains(?, c.item)
  AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], r.term));

-- name: item_nonresponse_respondents
SELECT round_id, respondents AS n_round FROM dim_round;

-- name: item_nonresponse_names
SELECT skole_orgnr, skole, kommunenummer FROM dim_school;

-- name: item_nonresponse_stored
-- The suppressed item non-response cells (metrics/nonresponse.py), every role's rows.
SELECT * FROM mart_item_nonresponse;

-- name: item_nonresponse_create
CREATE OR REPLACE TABLE mart_item_nonresponse AS SELECT * FROM new_item_nonresponse;

-- name: item_nonresponse_delete_terms
DELETE FROM mart_item_nonresponse WHERE list_contains(?, term);

-- name: item_nonresponse_insert
INSERT INTO mart_item_nonresponse BY NAME SELECT * FROM new_item_nonresponse;

-- name: changed_terms
-- Terms of the rounds an incremental build recomputed (mart_changed, made by _update).
SELECT DISTINCT term FROM mart_changed ORDER BY term;

-- name: replace_indicator_items
-- dim_indicator_item from the codebooks (registered frame `new_indicator_items`).
DELETE FROM dim_indicator_item;
INSERT INTO dim_indicator_item SELECT * FROM new_indicator_items;

-- name: create_pupil_indicator
CREATE OR REPLACE TABLE fct_pupil_indicator AS {rows}

-- name: create_group_counts
CREATE OR REPLACE TABLE mart_group_counts AS {rows}

-- name: create_indicator_counts
CREATE OR REPLACE TABLE mart_indicator_counts AS {rows}

-- name: create_item_counts
CREATE OR REPLACE TABLE mart_item_counts AS {rows}

-- name: delete_changed_rounds
-- An incremental build: the rows of the rounds it recomputes (mart_changed).
DELETE FROM {table} WHERE round_id IN (SELECT round_id FROM mart_changed);

-- name: insert_rows
INSERT INTO {table} {rows}

-- name: delete_changed_indicator_counts
-- An incremental build's stale mart_indicator_counts rows: the group and school rows of the
-- rounds it recomputes (each made from its own round's group counts only) and the aggregates
-- (kommune, pulje, programme) of their terms (sums over every school's primary round).
DELETE FROM mart_indicator_counts
WHERE CASE WHEN level IN ('gruppe', 'skole')
           THEN round_id IN (SELECT round_id FROM mart_changed)
           ELSE term IN (SELECT DISTINCT term FROM mart_changed) END;

-- name: changed_indicator_counts_rows
-- The rows delete_changed_indicator_counts removed, computed again (rows: indicator_counts_rows
-- over the changed terms' group counts, without its semicolon): unchanged rounds' group and
-- school rows are kept as they are instead of being deleted and written again.
SELECT * FROM ({rows}) AS c
WHERE c.level NOT IN ('gruppe', 'skole') OR c.round_id IN (SELECT round_id FROM mart_changed)
