-- Aggregate-only reads of fct_nomination (lmp_analytics/metrics/nominations.py). No query
-- returns a pseudonym: every row is a count per class (round, gruppe).

-- name: no_friend_counts
-- Per class of a round that asked the friend nomination (at least one pupil of the round named
-- someone under `?`): respondents (n) and respondents whom no classmate named (count).
WITH asked AS (
    SELECT DISTINCT round_id FROM fct_nomination WHERE item = ?
), named_pupils AS (
    SELECT DISTINCT round_id, gruppe, nominee AS elev FROM fct_nomination WHERE item = ?
)
SELECT r.round_id AS round, r.skole_orgnr, r.term, r.gruppe,
       count(*)::BIGINT AS n,
       count(*) FILTER (WHERE p.elev IS NULL)::BIGINT AS count
FROM fct_response r
JOIN asked a ON a.round_id = r.round_id
LEFT JOIN named_pupils p ON p.round_id = r.round_id AND p.gruppe = r.gruppe AND p.elev = r.elev
GROUP BY r.round_id, r.skole_orgnr, r.term, r.gruppe
ORDER BY r.skole_orgnr, r.term, r.round_id, r.gruppe;
