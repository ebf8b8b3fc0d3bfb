-- Erasure and retention, one per `-- name:` block. `gone` is a registered frame of pseudonyms;
-- `old_rounds` of round ids. Derived tables (dim_round, marts, publication) are rebuilt after.

-- name: count_pupil_rows
SELECT
    (SELECT count(*) FROM fct_response WHERE elev IN (SELECT elev FROM gone)) AS responses,
    (SELECT count(*) FROM fct_answer WHERE elev IN (SELECT elev FROM gone)) AS answers,
    (SELECT count(*) FROM fct_nomination
      WHERE elev IN (SELECT elev FROM gone) OR nominee IN (SELECT elev FROM gone)) AS nominations;

-- name: delete_pupil
DELETE FROM fct_response WHERE elev IN (SELECT elev FROM gone);
DELETE FROM fct_answer WHERE elev IN (SELECT elev FROM gone);
DELETE FROM fct_nomination
 WHERE elev IN (SELECT elev FROM gone) OR nominee IN (SELECT elev FROM gone);
DELETE FROM quarantine WHERE value IN (SELECT elev FROM gone);

-- name: rounds_before
SELECT round_id FROM dim_round WHERE term IN (SELECT term FROM old_terms);

-- name: delete_rounds
DELETE FROM fct_response WHERE round_id IN (SELECT round_id FROM old_rounds);
DELETE FROM fct_answer WHERE round_id IN (SELECT round_id FROM old_rounds);
DELETE FROM fct_nomination WHERE round_id IN (SELECT round_id FROM old_rounds);
-- Quarantined rows of files that no longer contribute anything are removed with them.
DELETE FROM quarantine
 WHERE file_id NOT IN (SELECT DISTINCT file_id FROM fct_response)
   AND file_id IN (SELECT file_id FROM ingest_log WHERE status = 'loaded');

-- name: count_pupils_found
-- How many of the pseudonyms in `gone` the warehouse knows (as respondent or as nominee).
SELECT count(DISTINCT elev) FROM (
    SELECT elev FROM fct_response UNION ALL SELECT nominee FROM fct_nomination
) WHERE elev IN (SELECT elev FROM gone);

-- name: retention_plan
-- Per term: the rounds, schools and rows that deleting the rounds in `old_rounds` removes.
SELECT d.term,
       count(*)                           AS rounds,
       count(DISTINCT d.skole_orgnr)      AS schools,
       coalesce(sum(r.n), 0)::BIGINT      AS responses,
       coalesce(sum(a.n), 0)::BIGINT      AS answers,
       coalesce(sum(m.n), 0)::BIGINT      AS nominations
FROM dim_round AS d
JOIN old_rounds USING (round_id)
LEFT JOIN (SELECT round_id, count(*) AS n FROM fct_response GROUP BY round_id) AS r
       USING (round_id)
LEFT JOIN (SELECT round_id, count(*) AS n FROM fct_answer GROUP BY round_id) AS a
       USING (round_id)
LEFT JOIN (SELECT round_id, count(*) AS n FROM fct_nomination GROUP BY round_id) AS m
       USING (round_id)
GROUP BY d.term
ORDER BY d.term;

-- name: stored_pseudonyms
-- Every pseudonym the facts and the quarantine hold (? = the pseudonym length in hex digits).
SELECT elev AS p FROM fct_response
UNION SELECT elev FROM fct_answer
UNION SELECT elev FROM fct_nomination
UNION SELECT nominee FROM fct_nomination
UNION SELECT value FROM quarantine
 WHERE length(value) = $hex_chars AND regexp_full_match(value, '[0-9a-f]+');

-- name: varchar_columns
-- Every text column of the published warehouse (the erasure check looks in each).
SELECT table_name, column_name
  FROM information_schema.columns
 WHERE table_catalog = current_database() AND table_schema = 'main' AND data_type = 'VARCHAR'
 ORDER BY table_name, ordinal_position;
