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
SELECT ? AS file_id, ? AS source_file, row_number, column_name, value, reason FROM new_quarantine;

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
DELETE FROM fct_eu_result WHERE source_file IN (SELECT DISTINCT source_file FROM new_eu);
INSERT INTO fct_eu_result SELECT * FROM new_eu;
