-- Queries behind `lmp status`, one per `-- name:` block.

-- name: respondents_per_school_term
SELECT s.kommunenummer, s.skole, s.skole_orgnr, r.term,
       string_agg(CAST(r.respondents AS VARCHAR), '+' ORDER BY r.runde, r.versjon)
         || CASE WHEN count(*) > 1 THEN ' (' || count(*) || ')' ELSE '' END AS cell
FROM dim_round AS r
JOIN dim_school AS s USING (skole_orgnr)
GROUP BY ALL
ORDER BY s.kommunenummer, s.skole, min(r.first_date);

-- name: totals
SELECT
    (SELECT count(DISTINCT skole_orgnr) FROM dim_round)  AS schools,
    (SELECT count(*) FROM dim_round)                     AS rounds,
    (SELECT count(DISTINCT elev) FROM fct_response)      AS pupils,
    (SELECT count(*) FROM fct_response)                  AS responses,
    (SELECT count(DISTINCT (file_id, row_number)) FROM quarantine) AS quarantined_rows,
    (SELECT strftime(max(finished_at), '%Y-%m-%d %H:%M:%S') FROM ingest_run) AS last_ingest;

-- name: quarantine_by_reason
SELECT source_file AS file, column_name AS "column", reason,
       count(DISTINCT row_number) AS "rows"
FROM quarantine
GROUP BY ALL
ORDER BY file, "rows" DESC;
