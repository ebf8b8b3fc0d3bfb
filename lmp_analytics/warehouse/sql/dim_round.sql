-- One row per Spekter round: (school, term, version, runde). Rebuilt from fct_response after
-- every load so that it can never disagree with the facts.
CREATE OR REPLACE TABLE dim_round AS
WITH responses AS (
    SELECT * FROM fct_response
),
modules AS (
    SELECT round_id, list(DISTINCT item ORDER BY item) AS items
    FROM fct_answer
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
ORDER BY r.skole_orgnr, min(r.dato), r.runde;
