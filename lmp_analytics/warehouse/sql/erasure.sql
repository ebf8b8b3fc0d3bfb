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

