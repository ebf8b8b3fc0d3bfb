-- Statements used by the loader (lmp_analytics/warehouse/load.py), one per `-- name:` block.
-- `new_*` are polars frames registered for the duration of one file's load.

-- name: existing_rounds
SELECT DISTINCT round_id FROM fct_response;

-- name: loaded_files
SELECT sha256 FROM ingest_log WHERE status = 'loaded';

-- name: get_meta
SELECT value FROM meta WHERE key = ?;

-- name: set_meta
INSERT OR REPLACE INTO meta VALUES (?, ?);

-- name: delete_meta
DELETE FROM meta WHERE key = ?;

-- name: next_file_id
SELECT nextval('seq_file_id');

-- name: conflicting_pupils
-- Pupils of the incoming file who already answered the same round in a group the file does not
-- replace: a pupil may answer a round once.
SELECT n.row_number, n.elev, r.gruppe AS other_gruppe, l.path AS other_path
FROM new_responses AS n
JOIN fct_response AS r
  ON r.round_id = n.round_id AND r.elev = n.elev
JOIN ingest_log AS l ON l.file_id = r.file_id
WHERE NOT EXISTS (
    SELECT 1 FROM new_groups AS g WHERE g.round_id = r.round_id AND g.gruppe = r.gruppe
);

-- name: replaced_group_sizes
-- Pupils stored now in each (round, gruppe) pair the incoming file replaces.
SELECT g.round_id, g.gruppe, count(*) AS pupils
FROM new_groups AS g
JOIN fct_response AS r ON r.round_id = g.round_id AND r.gruppe = g.gruppe
GROUP BY g.round_id, g.gruppe
ORDER BY g.round_id, g.gruppe;

-- name: stored_schools
-- Schools with responses stored, with their name as stored and how many responses they have.
SELECT r.skole_orgnr, any_value(s.skole) AS skole, count(*) AS responses
FROM fct_response AS r LEFT JOIN dim_school AS s USING (skole_orgnr)
GROUP BY r.skole_orgnr
ORDER BY r.skole_orgnr;

-- name: delete_groups_response
DELETE FROM fct_response AS t USING new_groups AS g
WHERE t.round_id = g.round_id AND t.gruppe = g.gruppe;

-- name: delete_groups_answer
DELETE FROM fct_answer AS t USING new_groups AS g
WHERE t.round_id = g.round_id AND t.gruppe = g.gruppe;

-- name: delete_groups_nomination
DELETE FROM fct_nomination AS t USING new_groups AS g
WHERE t.round_id = g.round_id AND t.gruppe = g.gruppe;

-- name: supersede_same_path
UPDATE ingest_log SET status = 'replaced' WHERE path = ? AND status = 'loaded';

-- name: delete_quarantine_same_path
DELETE FROM quarantine WHERE source_file = ?;

-- name: insert_responses
INSERT INTO fct_response
SELECT round_id, skole_orgnr, term, versjon, runde, formal, gruppe, trinn, kjonn, elev, dato,
       ? AS file_id, row_number
FROM new_responses;

-- name: insert_answers
INSERT INTO fct_answer SELECT round_id, gruppe, elev, item, value FROM new_answers;

-- name: insert_nominations
INSERT INTO fct_nomination SELECT round_id, gruppe, elev, item, nominee FROM new_nominations;

-- name: insert_quarantine
INSERT INTO quarantine
SELECT ? AS file_id, ? AS source_file, row_number, column_name, value, reason, reason_code
FROM new_quarantine;

-- name: insert_log
INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, 'loaded', ?, ?, ?, ?);

-- name: insert_run
INSERT INTO ingest_run VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: replace_schools
DELETE FROM dim_school;
INSERT INTO dim_school SELECT skole_orgnr, skole, kommunenummer, kommune, rolle, pulje, oppstart
FROM new_schools;
DELETE FROM dim_phase;
INSERT INTO dim_phase SELECT skole_orgnr, fase, termin, kilde FROM new_phases;

-- name: replace_enrolment
DELETE FROM fct_enrolment;
INSERT INTO fct_enrolment SELECT skole_orgnr, skoleaar, trinn, elever FROM new_enrolment;

-- name: replace_eu_results
-- A newer export of the same published cells replaces them; final figures are never replaced by
-- preliminary ones ('Foreløpige tall'). A cell: level, unit, school year, grade, indicator,
-- gender and owner breakdown.
DELETE FROM fct_eu_result f USING new_eu n
WHERE f.level = n.level AND f.unit_code IS NOT DISTINCT FROM n.unit_code
  AND f.school_year = n.school_year AND f.trinn IS NOT DISTINCT FROM n.trinn
  AND f.indicator_code = n.indicator_code AND f.kjonn = n.kjonn AND f.eierform = n.eierform
  AND NOT (n.preliminary AND NOT f.preliminary);
INSERT INTO fct_eu_result SELECT n.* FROM new_eu n
WHERE NOT EXISTS (
  SELECT 1 FROM fct_eu_result f
  WHERE f.level = n.level AND f.unit_code IS NOT DISTINCT FROM n.unit_code
    AND f.school_year = n.school_year AND f.trinn IS NOT DISTINCT FROM n.trinn
    AND f.indicator_code = n.indicator_code AND f.kjonn = n.kjonn AND f.eierform = n.eierform
    AND NOT f.preliminary AND n.preliminary);

-- name: eu_loaded_hashes
SELECT DISTINCT sha256 FROM eu_ingest_log;

-- name: log_eu_file
INSERT INTO eu_ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- name: replace_eu_quarantine
DELETE FROM eu_quarantine WHERE source_file IN (SELECT DISTINCT source_file FROM new_eu_quarantine);
INSERT INTO eu_quarantine SELECT source_file, "row", "column", value, reason FROM new_eu_quarantine;

-- Many new files at once (see BatchLoader in load.py): `new_log` has one row per file with its
-- `_file` key and file_id; the other `new_*` frames carry `_file`. Used only for files whose
-- rounds are new to the warehouse, so nothing is replaced or conflicts.

-- name: supersede_batch_paths
UPDATE ingest_log SET status = 'replaced'
WHERE status = 'loaded' AND path IN (SELECT path FROM new_log);

-- name: delete_quarantine_batch_paths
DELETE FROM quarantine WHERE source_file IN (SELECT path FROM new_log);

-- name: insert_responses_batch
INSERT INTO fct_response
SELECT r.round_id, r.skole_orgnr, r.term, r.versjon, r.runde, r.formal, r.gruppe, r.trinn,
       r.kjonn, r.elev, r.dato, f.file_id, r.row_number
FROM new_responses AS r JOIN new_log AS f USING (_file);

-- name: insert_answers_wide
-- `new_wide`: one row per pupil with one column per answer item ({columns}); an empty cell is a
-- skipped item (stored as NULL), so nulls are kept (unnest keeps them, UNPIVOT would not).
-- The pairs placeholder is the valid_pairs_filter block below when the files mix versions (only
-- items of the row's version are kept), else empty.
INSERT INTO fct_answer
SELECT round_id, gruppe, elev, item, value
FROM (
    SELECT round_id, gruppe, elev, versjon, unnest({names}) AS item, unnest([{columns}]) AS value
    FROM new_wide
) AS u
{pairs};

-- name: valid_pairs_filter
WHERE EXISTS (SELECT 1 FROM new_pairs AS p WHERE p.versjon = u.versjon AND p.item = u.item)

-- name: insert_nominations_batch
INSERT INTO fct_nomination SELECT round_id, gruppe, elev, item, nominee FROM new_nominations;

-- name: insert_quarantine_batch
INSERT INTO quarantine
SELECT f.file_id, f.path, q.row_number, q.column_name, q.value, q.reason, q.reason_code
FROM new_quarantine AS q JOIN new_log AS f USING (_file);

-- name: insert_log_batch
INSERT INTO ingest_log
SELECT file_id, run_id, path, sha256, file_format, encoding, delimiter, 'loaded', rows_read,
       rows_loaded, rows_quarantined, loaded_at
FROM new_log ORDER BY file_id;

-- name: next_file_ids
SELECT nextval('seq_file_id') AS file_id FROM range(?);

-- name: replaced_rounds
-- The rows of dim_round with the changed rounds' rows replaced by dim_round.sql over their
-- facts, kept aside (dim_round is then made anew from its DDL and these rows).
CREATE OR REPLACE TEMP TABLE dim_round_next AS SELECT * FROM (
    SELECT * FROM dim_round WHERE round_id NOT IN {changed}
    UNION ALL ({fresh})
) {order};

-- name: replaced_rounds_rows
SELECT * FROM dim_round_next;

-- name: drop_replaced_rounds
DROP TABLE dim_round_next;

-- name: rounds_rows
SELECT * FROM ({select}) {order};
