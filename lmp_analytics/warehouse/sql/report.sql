-- Read by the school report's data (lmp_analytics/reports/): the schools and the last ingest.

-- name: schools
-- Every school with its pulje as BIGINT (the report's tables join on it), in report order.
SELECT skole_orgnr, skole, kommunenummer, kommune, rolle,
       CAST(pulje AS BIGINT) AS pulje, oppstart
FROM dim_school
ORDER BY kommunenummer, skole, skole_orgnr;

-- name: last_ingest
SELECT max(finished_at) FROM ingest_run;
