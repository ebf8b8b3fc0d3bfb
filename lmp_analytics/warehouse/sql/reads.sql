-- Read queries used by the metrics and evaluation layers, one per `-- name:` block.

-- name: phase_calendar
SELECT p.skole_orgnr, p.fase, p.termin, p.kilde, s.kommunenummer, s.pulje, s.oppstart
FROM dim_phase AS p JOIN dim_school AS s USING (skole_orgnr)
ORDER BY p.skole_orgnr, p.fase;

-- name: primary_rounds
SELECT r.round_id, r.skole_orgnr, r.term, r.versjon, r.runde, r.first_date,
       d.respondents
FROM mart_school_round AS r
JOIN dim_round AS d USING (round_id)
WHERE r.is_primary
ORDER BY r.skole_orgnr, r.first_date;

-- name: schools
SELECT skole_orgnr, skole, kommunenummer, kommune, rolle, pulje, oppstart
FROM dim_school ORDER BY kommunenummer, skole;

-- name: pupil_values_for_rounds
-- Pupil-level indicator values of the given rounds (registered as frame `wanted_rounds`).
SELECT p.round_id, p.skole_orgnr, p.elev, p.indicator, p.kind, p.value, p.trinn, p.kjonn
FROM fct_pupil_indicator AS p
JOIN wanted_rounds AS w USING (round_id)
WHERE p.value IS NOT NULL;

-- name: indicator_counts
-- The mart for one level (registered filters are applied in Python).
SELECT * FROM mart_indicator_counts WHERE level = ?;

-- name: school_term_panel
-- School x term panel of one indicator (all respondents), the schools' primary rounds only.
SELECT m.skole_orgnr, s.rolle, s.pulje, s.kommunenummer, m.term, m.n,
       CASE WHEN m.kind = 'share' THEN m.count ELSE m.sum END AS total, m.round_id
FROM mart_indicator_counts AS m
JOIN mart_school_round AS r ON r.round_id = m.round_id AND r.is_primary
JOIN dim_school AS s ON s.skole_orgnr = m.skole_orgnr
WHERE m.level = 'skole' AND m.breakdown = 'alle' AND m.indicator = ?;

-- name: scale_item_answers
-- Item answers of one scale indicator's items (reversed items as 6 - x), per pupil and round,
-- with the answer date.
SELECT r.versjon, r.term, a.round_id, a.elev, r.dato, a.item,
       CASE WHEN d.is_reversed THEN 6 - a.value ELSE a.value END AS score
FROM fct_answer AS a
JOIN fct_response AS r ON r.round_id = a.round_id AND r.elev = a.elev AND r.gruppe = a.gruppe
JOIN dim_indicator_item AS d ON d.versjon = r.versjon AND d.item = a.item
WHERE d.indicator = ? AND a.value IS NOT NULL;

-- name: eu_results
SELECT * FROM fct_eu_result;

-- name: indicator_counts_slice
-- The mart for one level and breakdown ($2), and one indicator ($3; NULL = every indicator).
SELECT * FROM mart_indicator_counts
WHERE level = $1 AND breakdown = $2 AND ($3::VARCHAR IS NULL OR indicator = $3);

-- name: school_year_enrolment
-- Enrolled pupils per school and school year (the trinn that took part in Spekter).
SELECT skole_orgnr, skoleaar, CAST(sum(elever) AS BIGINT) AS enrolled
FROM fct_enrolment
GROUP BY ALL

-- name: table_exists
-- Only the warehouse's own catalog: a catalog query over every attached database (system and
-- temp too) costs ~15-30 ms on a fresh read connection, this one ~2 ms.
SELECT count(*) > 0 FROM information_schema.tables
WHERE table_catalog = current_database() AND table_name = ?

-- name: quarantine_rows_by_code
-- Quarantined rows per file and reason code; rows written before codes were stored (NULL code)
-- come with their column and English detail so the reader can derive the code.
SELECT file_id, reason_code,
       CASE WHEN reason_code IS NULL THEN column_name END AS column_name,
       CASE WHEN reason_code IS NULL THEN reason END AS reason,
       list(DISTINCT row_number) AS rows
FROM quarantine
GROUP BY ALL

-- name: quarantine_rows_by_text
-- The same for warehouses without the reason_code column.
SELECT file_id, NULL::VARCHAR AS reason_code, column_name, reason,
       list(DISTINCT row_number) AS rows
FROM quarantine
GROUP BY ALL

-- name: column_exists
SELECT count(*) > 0 FROM information_schema.columns
WHERE table_catalog = current_database() AND table_name = ? AND column_name = ?
