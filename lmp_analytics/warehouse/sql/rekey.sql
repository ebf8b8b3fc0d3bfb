-- Key rotation (lmp_analytics/warehouse/rekey.py), one per `-- name:` block. `rekey_map` is a
-- registered frame (old, new) of pseudonyms; `rekey_nomination_columns` names the nomination
-- items (their quarantined cells hold 'p1|p2|...').

-- name: distinct_pseudonyms
-- Every pseudonym the warehouse holds. A quarantined nomination cell is cut at 80 characters,
-- so its last pseudonym may be partial: only whole pseudonyms (20 hex digits) are mapped.
SELECT DISTINCT old FROM (
    SELECT elev AS old FROM fct_response
    UNION ALL SELECT elev FROM fct_answer
    UNION ALL SELECT elev FROM fct_nomination
    UNION ALL SELECT nominee FROM fct_nomination
    UNION ALL SELECT value FROM quarantine WHERE column_name = 'elev_id'
    UNION ALL SELECT unnest(string_split(value, '|')) FROM quarantine
     WHERE column_name IN (SELECT column_name FROM rekey_nomination_columns)
)
WHERE regexp_full_match(old, '[0-9a-f]{20}')
ORDER BY old;

-- name: apply
UPDATE fct_response AS t SET elev = m.new FROM rekey_map AS m WHERE t.elev = m.old;
UPDATE fct_answer AS t SET elev = m.new FROM rekey_map AS m WHERE t.elev = m.old;
UPDATE fct_nomination AS t SET elev = m.new FROM rekey_map AS m WHERE t.elev = m.old;
UPDATE fct_nomination AS t SET nominee = m.new FROM rekey_map AS m WHERE t.nominee = m.old;
UPDATE quarantine AS t SET value = m.new FROM rekey_map AS m
 WHERE t.column_name = 'elev_id' AND t.value = m.old;
-- A nomination cell: each whole pseudonym mapped, a partial one (cut at 80 characters) dropped.
UPDATE quarantine AS t SET value = n.value
  FROM (SELECT q.rowid AS rid,
               nullif(string_agg(m.new, '|' ORDER BY q.pos), '') AS value
          FROM (SELECT rowid, unnest(string_split(value, '|')) AS old,
                       generate_subscripts(string_split(value, '|'), 1) AS pos
                  FROM quarantine
                 WHERE column_name IN (SELECT column_name FROM rekey_nomination_columns)
                   AND value IS NOT NULL) AS q
          LEFT JOIN rekey_map AS m ON m.old = q.old
         GROUP BY q.rowid) AS n
 WHERE t.rowid = n.rid;

-- name: old_left
-- Old pseudonyms still in a pseudonym column of the facts after the rotation (must be 0).
SELECT (SELECT count(*) FROM fct_response WHERE elev IN (SELECT old FROM rekey_map))
     + (SELECT count(*) FROM fct_answer WHERE elev IN (SELECT old FROM rekey_map))
     + (SELECT count(*) FROM fct_nomination
         WHERE elev IN (SELECT old FROM rekey_map) OR nominee IN (SELECT old FROM rekey_map))
     + (SELECT count(*) FROM quarantine
         WHERE column_name = 'elev_id' AND value IN (SELECT old FROM rekey_map))
     + (SELECT count(*) FROM (
           SELECT unnest(string_split(value, '|')) AS old FROM quarantine
            WHERE column_name IN (SELECT column_name FROM rekey_nomination_columns)) AS n
         WHERE n.old IN (SELECT old FROM rekey_map));

-- name: old_left_derived
-- The same for the derived per-pupil table (after the rebuild).
SELECT count(*) FROM fct_pupil_indicator WHERE elev IN (SELECT old FROM rekey_map);
