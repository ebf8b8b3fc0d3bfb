-- Marts of counts. Built inside the ingest transaction from the facts and dim_indicator_item.
-- Shares keep numerator and denominator; scale means keep n, sum and sum of squares, so every
-- level sums exactly from the level below and nothing ever averages percentages.

-- name: pupil_indicator
-- One row per pupil, round and indicator. Share: 1 if any answered item of the indicator is at or
-- above its threshold, 0 if none is, NULL if the pupil answered none of them. Scale: mean of the
-- answered items (reversed items as 6 - x) when at least min_items were answered, else NULL.
-- An indicator whose items were not asked in a round has no row at all ("not measured").
CREATE OR REPLACE TABLE fct_pupil_indicator AS
WITH answers AS (
    SELECT r.round_id, r.skole_orgnr, r.term, r.versjon, r.gruppe, r.trinn, r.kjonn, r.elev,
           d.indicator, d.kind, d.threshold, d.min_items, d.top_threshold,
           CASE WHEN d.is_reversed THEN 6 - a.value ELSE a.value END AS v
    FROM fct_answer AS a
    JOIN fct_response AS r
      ON r.round_id = a.round_id AND r.elev = a.elev AND r.gruppe = a.gruppe
    JOIN dim_indicator_item AS d
      ON d.versjon = r.versjon AND d.item = a.item
)
SELECT round_id, skole_orgnr, term, versjon, gruppe, trinn, kjonn, elev, indicator, kind,
       CASE
         WHEN count(v) = 0 THEN NULL
         WHEN kind = 'share' THEN max(CASE WHEN v >= threshold THEN 1.0 ELSE 0.0 END)
         WHEN count(v) >= any_value(min_items) THEN avg(v)
       END AS value,
       any_value(top_threshold) AS top_threshold
FROM answers
GROUP BY round_id, skole_orgnr, term, versjon, gruppe, trinn, kjonn, elev, indicator, kind;

-- name: round_counts
-- Counts per round and group (the finest level), with breakdowns by trinn and kjonn.
CREATE OR REPLACE TABLE mart_group_counts AS
WITH base AS (
    SELECT p.*, s.kommunenummer, s.rolle, s.pulje
    FROM fct_pupil_indicator AS p
    JOIN dim_school AS s USING (skole_orgnr)
    WHERE p.value IS NOT NULL
),
exploded AS (
    SELECT *, 'alle' AS breakdown, 'alle' AS breakdown_value FROM base
    UNION ALL
    SELECT *, 'trinn', CAST(trinn AS VARCHAR) FROM base
    UNION ALL
    SELECT *, 'kjonn', coalesce(kjonn, 'ukjent') FROM base
)
SELECT round_id, skole_orgnr, kommunenummer, rolle, pulje, term, versjon, gruppe,
       indicator, kind, breakdown, breakdown_value,
       count(*)                                                   AS n,
       sum(CASE WHEN kind = 'share' THEN value END)               AS count,
       sum(CASE WHEN kind = 'scale' THEN value END)               AS sum,
       sum(CASE WHEN kind = 'scale' THEN value * value END)       AS sumsq,
       sum(CASE WHEN kind = 'scale' AND value >= top_threshold THEN 1 ELSE 0 END) AS top_count
FROM exploded
GROUP BY ALL;

-- name: school_rounds
-- The round a school contributes to a term's aggregates: its earliest preventive round of the
-- term (a concrete-suspicion round is a targeted survey, not the school's regular measurement).
CREATE OR REPLACE TABLE mart_school_round AS
SELECT round_id, skole_orgnr, term, versjon, runde, first_date,
       row_number() OVER (PARTITION BY skole_orgnr, term
                          ORDER BY (formal = 'mistanke'), first_date, runde, versjon) = 1
         AS is_primary
FROM dim_round;

-- name: indicator_counts
-- All levels in one long table. level: gruppe | skole | kommune | pulje | program.
-- skole rows exist per round; kommune/pulje/program rows per term and rolle, summing the
-- schools' primary round of the term.
CREATE OR REPLACE TABLE mart_indicator_counts AS
WITH grp AS (
    SELECT * FROM mart_group_counts
),
school AS (
    SELECT 'skole' AS level, g.round_id, g.skole_orgnr, g.kommunenummer, g.rolle, g.pulje,
           g.term, g.versjon, NULL::VARCHAR AS gruppe, g.indicator, g.kind, g.breakdown,
           g.breakdown_value, sum(g.n) AS n, sum(g.count) AS count, sum(g.sum) AS sum,
           sum(g.sumsq) AS sumsq, sum(g.top_count) AS top_count, 1 AS n_schools
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
           sum(n) AS n, sum(count) AS count, sum(sum) AS sum, sum(sumsq) AS sumsq,
           sum(top_count) AS top_count, count(DISTINCT skole_orgnr) AS n_schools
    FROM primary_school
    GROUP BY ALL
),
pulje AS (
    SELECT 'pulje', NULL, NULL, NULL, rolle, pulje, term, NULL, NULL, indicator, kind,
           breakdown, breakdown_value, sum(n), sum(count), sum(sum), sum(sumsq),
           sum(top_count), count(DISTINCT skole_orgnr)
    FROM primary_school
    WHERE pulje IS NOT NULL
    GROUP BY ALL
),
program AS (
    SELECT 'program', NULL, NULL, NULL, rolle, NULL, term, NULL, NULL, indicator, kind,
           breakdown, breakdown_value, sum(n), sum(count), sum(sum), sum(sumsq),
           sum(top_count), count(DISTINCT skole_orgnr)
    FROM primary_school
    GROUP BY ALL
)
, all_levels AS (
    SELECT 'gruppe' AS level, round_id, skole_orgnr, kommunenummer, rolle, pulje, term, versjon,
           gruppe, indicator, kind, breakdown, breakdown_value, n, count, sum, sumsq, top_count,
           1 AS n_schools
    FROM grp
    UNION ALL SELECT * FROM school
    UNION ALL SELECT * FROM kommune
    UNION ALL SELECT * FROM pulje
    UNION ALL SELECT * FROM program
)
SELECT level, round_id, skole_orgnr, kommunenummer, rolle, pulje::INTEGER AS pulje, term,
       versjon, gruppe, indicator, kind, breakdown, breakdown_value,
       n::BIGINT AS n, count::DOUBLE AS count, sum::DOUBLE AS sum, sumsq::DOUBLE AS sumsq,
       top_count::BIGINT AS top_count, n_schools::BIGINT AS n_schools
FROM all_levels;
