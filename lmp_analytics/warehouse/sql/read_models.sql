-- Read queries of the read models (lmp_analytics/readmodels), one per `-- name:` block.

-- name: schools
SELECT 'skole' AS level, skole_orgnr, skole, kommunenummer, kommune, rolle,
       CAST(pulje AS BIGINT) AS pulje, oppstart
FROM dim_school
ORDER BY kommunenummer, skole;

-- name: kommuner
SELECT DISTINCT kommunenummer, kommune FROM dim_school ORDER BY kommunenummer;

-- name: terms
SELECT DISTINCT term FROM dim_round;

-- name: rounds_with_primary
-- Every round with its school and whether it is the school's primary round of its term (the
-- one the marts count; false for a round the marts do not know). The one home of "rounds with
-- is_primary": the read models, the school report and notebook 01 read it.
SELECT 'skole' AS level, s.kommunenummer, r.skole_orgnr, s.skole, s.rolle,
       r.round_id, r.term, r.versjon, r.runde, r.formal, r.first_date,
       coalesce(m.is_primary, false) AS is_primary, r.items, r.respondents
FROM dim_round AS r
JOIN dim_school AS s USING (skole_orgnr)
LEFT JOIN mart_school_round AS m USING (round_id)
ORDER BY s.kommunenummer, s.skole, r.first_date, r.round_id;

-- name: rounds_before_marts
-- The same for a warehouse without marts yet: every round counts as primary.
SELECT 'skole' AS level, s.kommunenummer, r.skole_orgnr, s.skole, s.rolle,
       r.round_id, r.term, r.versjon, r.runde, r.formal, r.first_date,
       true AS is_primary, r.items, r.respondents
FROM dim_round AS r
JOIN dim_school AS s USING (skole_orgnr)
ORDER BY s.kommunenummer, s.skole, r.first_date, r.round_id;

-- name: phase_calendar
SELECT 'skole' AS level, p.skole_orgnr, s.skole, s.kommunenummer,
       CAST(s.pulje AS BIGINT) AS pulje, CAST(p.fase AS BIGINT) AS fase, p.termin, p.kilde
FROM dim_phase AS p
JOIN dim_school AS s USING (skole_orgnr)
ORDER BY s.kommunenummer, s.skole, p.fase;

-- name: quarantine_files
-- Loaded files with the rows read, attributed to a school when all their rows belong to it.
WITH owner AS (
    SELECT file_id, min(skole_orgnr) AS skole_orgnr
    FROM (SELECT DISTINCT file_id, skole_orgnr FROM fct_response)
    GROUP BY file_id HAVING count(*) = 1
)
SELECT l.file_id, l.rows_read, o.skole_orgnr, s.kommunenummer, s.skole
FROM ingest_log AS l
LEFT JOIN owner AS o USING (file_id)
LEFT JOIN dim_school AS s USING (skole_orgnr)
WHERE l.status = 'loaded';

-- name: eu_results
SELECT * FROM fct_eu_result;

-- name: school_kommune
SELECT skole_orgnr, kommunenummer AS school_kommune FROM dim_school;
