-- One row per Spekter round: (school, term, version, runde), in school and date order. Rebuilt
-- from the facts after every load so that it can never disagree with them; load.rebuild_rounds
-- recomputes only the rounds whose facts changed ({responses} and {answers} are the facts of
-- those rounds, or all facts) and keeps the other rows.
WITH responses AS (
    SELECT * FROM {responses}
),
modules AS (
    SELECT round_id, list(DISTINCT item ORDER BY item) AS items
    FROM {answers}
    GROUP BY round_id
)
SELECT
    r.round_id,
    r.skole_orgnr,
    r.term,
    r.versjon,
    r.runde,
    any_value(r.formal)          AS formal,
    min(r.dato)                  AS first_date,
    max(r.dato)                  AS last_date,
    count(*)                     AS respondents,
    count(DISTINCT r.gruppe)     AS groups,
    any_value(m.items)           AS items
FROM responses AS r
LEFT JOIN modules AS m USING (round_id)
GROUP BY r.round_id, r.skole_orgnr, r.term, r.versjon, r.runde
